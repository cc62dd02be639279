package dev.backprop.loss;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;

import java.util.Optional;
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
     * @param prediction the model's output for a batch
     * @param target     what it should have been (labels or targets, as the loss documents)
     * @return the loss, a scalar variable
     * @throws dev.backprop.tensor.ShapeMismatchException  when the shapes do not fit (the message names both), or
     *                                                     the batch is empty (PyTorch's mean over no elements is
     *                                                     NaN; here the empty shape is named instead)
     * @throws dev.backprop.tensor.DTypeMismatchException  when the target's dtype is not the expected one
     */
    Variable compute(Variable prediction, Tensor target);

    /** {@return how terms are combined} */
    Reduction reduction();

    /** {@return a short name for logs ({@code cross_entropy})} */
    String name();

    /**
     * What {@link Reduction#MEAN} divides this batch's summed terms by, so that batch means combine into the mean
     * over a whole set as {@code Σ mean·denominator / Σ denominator} ({@link dev.backprop.train.Evaluator}): the
     * batch's rows by default (each row adds the same number of terms); a class-weighted loss sums its rows'
     * weights and may read the target to the host.
     *
     * @param target the batch's labels or targets, {@code [rows, ...]}
     * @return the batch's denominator, in the units of the rows
     */
    default double meanDenominator(Tensor target) {
        return target.shape().dim(0);
    }

    /**
     * Each sample's true and predicted class, for losses that classify (the largest logit's index against the
     * label, or the decision threshold against a 0/1 target); empty for regression losses. Reads both tensors to
     * the host.
     *
     * @param prediction the model's output for a batch
     * @param target     the batch's labels or targets
     * @return the batch's decisions, or empty for a loss that does not classify
     */
    default Optional<Classified> classify(Tensor prediction, Tensor target) {
        return Optional.empty();
    }

    /**
     * How many samples of a batch the prediction gets right, for losses that classify: where {@link #classify}'s
     * predicted class is the true one; empty for regression losses. Reads both tensors to the host.
     *
     * @param prediction the model's output for a batch
     * @param target     the batch's labels or targets
     * @return the number of samples classified right, or empty for a loss that does not classify
     */
    default OptionalLong countCorrect(Tensor prediction, Tensor target) {
        Optional<Classified> c = classify(prediction, target);
        return c.isPresent() ? OptionalLong.of(c.get().correct()) : OptionalLong.empty();
    }

    /**
     * How many decisions {@link #countCorrect} counts over for a batch, the denominator of the accuracy: one per
     * row by default (the largest logit's index); a loss that decides each element (a 0/1 target per output, as in
     * multi-label binary cross-entropy) returns the prediction's size, so that its accuracy is the fraction of
     * elements right (Keras's {@code binary_accuracy}). Reads shapes only.
     *
     * @param prediction the model's output for a batch, rows first
     * @param target     the batch's labels or targets
     * @return the number of decisions in the batch
     */
    default long countDecisions(Tensor prediction, Tensor target) {
        return prediction.shape().dim(0);
    }
}
