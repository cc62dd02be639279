package dev.backprop.loss;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.Optional;

/**
 * Binary cross-entropy on logits, like PyTorch's {@code nn.BCEWithLogitsLoss}: per element
 * {@code ln(1+e^z) - y·z}, computed in the stable form {@code max(z,0) - y·z + ln(1+e^{-|z|})} so large
 * {@code |z|} neither overflows nor loses the loss; mean over all elements by default. The gradient is
 * {@code σ(z) - y}. Targets are 0/1 (or probabilities) of the logits' dtype with as many elements.
 */
public final class BinaryCrossEntropyWithLogits implements Loss {
    /** The logit at and above which an element is decided as class 1 ({@code σ(0) = 0.5}). */
    private static final double CUT = 0.0;

    private final Reduction reduction;

    /** With the mean over all elements. */
    public BinaryCrossEntropyWithLogits() {
        this(Reduction.MEAN);
    }

    /**
     * With the given reduction.
     *
     * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
     */
    public BinaryCrossEntropyWithLogits(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    @Override
    public Variable compute(Variable logits, Tensor target) {
        Tensor z = logits.value();
        Tensor y = LossSupport.targetLike(name(), z, target);
        Tensor value;
        try (Tensor one = Tensor.full(z.backend(), z.dtype(), 1.0);
             Tensor soft = Elementwise.unary(UnaryOp.ABS, z)) {
            // ln(1 + e^{-|z|})
            Elementwise.unary(UnaryOp.NEG, 0, 0, soft, soft);
            Elementwise.unary(UnaryOp.EXP, 0, 0, soft, soft);
            Elementwise.binary(BinaryOp.ADD, soft, one, soft);
            Elementwise.unary(UnaryOp.LOG, 0, 0, soft, soft);
            Tensor terms = Elementwise.unary(UnaryOp.RELU, z);
            try (Tensor yz = Elementwise.mul(y, z)) {
                Elementwise.binary(BinaryOp.SUB, terms, yz, terms);
                Elementwise.binary(BinaryOp.ADD, terms, soft, terms);
            } catch (RuntimeException e) {
                terms.close();
                throw e;
            }
            value = LossSupport.reduce(terms, reduction);
        }
        long count = z.size();
        return Tape.record(name(), value, (g, grads) -> {
            Tensor dz = Elementwise.unary(UnaryOp.SIGMOID, z);
            Elementwise.binary(BinaryOp.SUB, dz, y, dz);
            LossSupport.scaleByUpstream(dz, g, reduction, count);
            grads.give(0, dz);
        }, logits);
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String name() {
        return "bce_with_logits";
    }

    /** Class 1 where {@code z ≥ 0}, against {@code y ≥ 0.5}; each element is a sample. */
    @Override
    public Optional<Classified> classify(Tensor logits, Tensor target) {
        return Optional.of(LossSupport.classifyAt(logits, target, CUT));
    }

    /**
     * The class {@link #classify} decides for one logit: 1 where {@code z ≥ 0}, else 0. Deciding on the logit
     * rather than on {@code σ(z) ≥ 0.5} matters just below 0, where the float sigmoid rounds to 0.5.
     *
     * @param logit the model's output {@code z}
     * @return 0 or 1
     */
    public static int predictedClass(double logit) {
        return LossSupport.decide(logit, CUT);
    }

    /** One decision per element: each output is its own 0/1 target. */
    @Override
    public long countDecisions(Tensor logits, Tensor target) {
        return logits.size();
    }

    @Override
    public String toString() {
        return "BinaryCrossEntropyWithLogits(" + reduction + ")";
    }
}
