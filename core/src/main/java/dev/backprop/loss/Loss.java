package dev.backprop.loss;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;

import java.util.OptionalLong;

/**
 * A differentiable loss: a scalar {@code []} from a prediction variable and a target tensor (which gets no
 * gradient). Implementations follow PyTorch's definitions and default reductions (see {@link Reduction}).
 */
public interface Loss {
    /**
     * The loss of {@code prediction} against {@code target}, shape {@code []}, recorded for backpropagation when
     * a tape is open.
     *
     * @throws dev.backprop.tensor.ShapeMismatchException  when the shapes do not fit (the message names both)
     * @throws dev.backprop.tensor.DTypeMismatchException  when the target's dtype is not the expected one
     */
    Variable compute(Variable prediction, Tensor target);

    /** How terms are combined. */
    Reduction reduction();

    /** A short name for logs ({@code cross_entropy}). */
    String name();

    /**
     * How many samples of a batch the prediction gets right, for losses that classify (argmax against the label,
     * or the decision threshold against a 0/1 target); empty for regression losses. Reads both tensors to the
     * host.
     */
    default OptionalLong countCorrect(Tensor prediction, Tensor target) {
        return OptionalLong.empty();
    }
}
