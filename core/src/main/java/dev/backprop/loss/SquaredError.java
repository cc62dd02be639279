package dev.backprop.loss;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.BinaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

/**
 * Squared error {@code (z - y)²}, like PyTorch's {@code nn.MSELoss}: mean over all elements by default, or the
 * sum (MATH.md example 4). The gradient is {@code 2(z - y)}, divided by the element count under the mean: one factor
 * {@code 2/count} on {@code z - y}, as PyTorch applies it, so the gradient is finite wherever PyTorch's is.
 */
public final class SquaredError implements Loss {
    private final Reduction reduction;

    /** With the mean over all elements. */
    public SquaredError() {
        this(Reduction.MEAN);
    }

    /**
     * With the given reduction.
     *
     * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
     */
    public SquaredError(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    @Override
    public Variable compute(Variable prediction, Tensor target) {
        Tensor z = prediction.value();
        Tensor y = LossSupport.targetLike(name(), z, target);
        Tensor diff = Elementwise.sub(z, y);
        Tensor value;
        try {
            value = LossSupport.reduce(Elementwise.mul(diff, diff), reduction);
        } catch (RuntimeException e) {
            diff.close();
            throw e;
        }
        if (!Tape.needsGrad(prediction)) {
            diff.close();
            return Tape.record(name(), value, null, prediction);
        }
        long count = z.size();
        return Tape.record(name(), value, (g, grads) -> {
            // 2/count in one factor, as PyTorch: 2·(z - y) first would overflow where (z - y)·2/count does not.
            Tensor dz = Tensor.empty(g.backend(), g.dtype(), diff.shape());
            Elementwise.scale(reduction == Reduction.MEAN ? 2.0 / count : 2.0, diff, dz);
            Elementwise.binary(BinaryOp.MUL, dz, g, dz);
            grads.give(0, dz);
        }, prediction);
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String name() {
        return "squared_error";
    }

    @Override
    public String toString() {
        return "SquaredError(" + reduction + ")";
    }
}
