package dev.backprop.loss;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.Optional;

/**
 * Binary cross-entropy on probabilities, like PyTorch's {@code nn.BCELoss}: per element
 * {@code -[y·ln p + (1-y)·ln(1-p)]}, mean over all elements by default. As in PyTorch each logarithm is
 * clamped at {@value #LOG_FLOOR}, so {@code p = 0} or {@code 1} gives a large finite loss rather than infinity,
 * and the gradient {@code (p - y) / (p(1-p))} has its denominator clamped at {@value #EPS}. A probability outside
 * {@code [0, 1]} gives a NaN loss, which the trainer stops on (PyTorch refuses such input, but checking would read
 * the predictions back from the device on every step). Prefer
 * {@link BinaryCrossEntropyWithLogits} for training: it is exact where this one saturates.
 */
public final class BinaryCrossEntropy implements Loss {
    /** Lower clamp of {@code ln p} and {@code ln(1-p)} (PyTorch's value). */
    public static final double LOG_FLOOR = -100;
    /** Lower clamp of {@code p(1-p)} in the gradient (PyTorch's value). */
    public static final double EPS = 1e-12;

    private final Reduction reduction;

    /** With the mean over all elements. */
    public BinaryCrossEntropy() {
        this(Reduction.MEAN);
    }

    /**
     * With the given reduction.
     *
     * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
     */
    public BinaryCrossEntropy(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    @Override
    public Variable compute(Variable probabilities, Tensor target) {
        Tensor p = probabilities.value();
        Tensor y = LossSupport.targetLike(name(), p, target);
        Tensor value;
        try (Tensor one = Tensor.full(p.backend(), p.dtype(), 1.0);
             Tensor logP = Elementwise.unary(UnaryOp.LOG, p);
             Tensor log1mP = Elementwise.binary(BinaryOp.SUB, one, p)) {
            Elementwise.unary(UnaryOp.CLAMP, LOG_FLOOR, Double.MAX_VALUE, logP, logP);
            Elementwise.unary(UnaryOp.LOG, 0, 0, log1mP, log1mP);
            Elementwise.unary(UnaryOp.CLAMP, LOG_FLOOR, Double.MAX_VALUE, log1mP, log1mP);
            // -(y·ln p + (1-y)·ln(1-p)) = -(ln(1-p) + y·(ln p - ln(1-p)))
            Tensor terms = Elementwise.sub(logP, log1mP);
            try {
                Elementwise.binary(BinaryOp.MUL, terms, y, terms);
                Elementwise.binary(BinaryOp.ADD, terms, log1mP, terms);
                Elementwise.scale(-1.0, terms, terms);
            } catch (RuntimeException e) {
                terms.close();
                throw e;
            }
            value = LossSupport.reduce(terms, reduction);
        }
        long count = p.size();
        return Tape.record(name(), value, (g, grads) -> {
            Tensor dp = Elementwise.sub(p, y);
            try (Tensor one = Tensor.full(p.backend(), p.dtype(), 1.0);
                 Tensor eps = Tensor.full(p.backend(), p.dtype(), EPS);
                 Tensor den = Elementwise.binary(BinaryOp.SUB, one, p)) {
                Elementwise.binary(BinaryOp.MUL, den, p, den);
                Elementwise.binary(BinaryOp.MAX, den, eps, den);
                Elementwise.binary(BinaryOp.DIV, dp, den, dp);
            }
            LossSupport.scaleByUpstream(dp, g, reduction, count);
            grads.give(0, dp);
        }, probabilities);
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String name() {
        return "bce";
    }

    /** Class 1 where {@code p ≥ 0.5}, against {@code y ≥ 0.5}; each element is a sample. */
    @Override
    public Optional<Classified> classify(Tensor probabilities, Tensor target) {
        return Optional.of(LossSupport.classifyAt(probabilities, target, 0.5));
    }

    /** One decision per element: each output is its own 0/1 target. */
    @Override
    public long countDecisions(Tensor probabilities, Tensor target) {
        return probabilities.size();
    }

    @Override
    public String toString() {
        return "BinaryCrossEntropy(" + reduction + ")";
    }
}
