package dev.backprop.train;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Variable;

import java.util.OptionalDouble;

/**
 * Joins every training step at the points where a caller may take part, in this order: after the loss is
 * computed ({@link #beforeBackward}, which may watch the gradients as the backward pass completes them), after the
 * backward pass ({@link #afterBackward}: combine gradients, as a data-parallel rank all-reduces them), and after
 * the step's loss has been checked, just before the optimizer step ({@link #beforeUpdate}: change gradients, as
 * clipping does). Hooks run on the training thread, in the order they were added; an exception from a hook
 * stops training with it, before the optimizer step.
 */
public interface StepHook {
    /**
     * The step's loss is computed and its backward pass comes next.
     *
     * @param loss the step's loss (a scalar); reading its value waits for the device
     * @return a listener told of gradients as the backward pass completes them, or null
     */
    default GradientListener beforeBackward(StepPosition step, Variable loss) {
        return null;
    }

    /**
     * The backward pass is done: every parameter holds this step's gradient, which the hook may replace.
     *
     * @return the loss value this step is to be judged by when it differs from its own batch's (the loss of the
     *         global batch of several ranks, so that they all stop at the same step), or empty
     */
    default OptionalDouble afterBackward(StepPosition step) {
        return OptionalDouble.empty();
    }

    /** The step's loss has been checked (when due) and the optimizer step comes next; gradients may change. */
    default void beforeUpdate(StepPosition step) {
    }
}
