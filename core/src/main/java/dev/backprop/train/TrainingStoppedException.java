package dev.backprop.train;

import dev.backprop.backend.BackpropException;

/**
 * Training stopped because a number went non-finite: a step's loss became NaN or infinite, or the weights or the
 * optimizer state held such values before the first step. The message names the step and which input was
 * non-finite; {@link #reason()} says the same for code.
 */
public final class TrainingStoppedException extends BackpropException {
    private static final long serialVersionUID = 1L;

    /** Which input was non-finite, as far as the trainer can tell. */
    public enum Reason {
        /** The batch's features or targets hold NaN or infinity. */
        DATA,
        /** The weights held NaN or infinity before training started. */
        WEIGHTS,
        /** The optimizer state held NaN or infinity before training started. */
        OPTIMIZER_STATE,
        /** Another rank's batch made the global loss non-finite while this rank's own loss is finite. */
        OTHER_RANK,
        /** Weights, state and data were finite: the updates themselves diverged (the learning rate). */
        LEARNING_RATE
    }

    private final Reason reason;

    TrainingStoppedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** Which input was non-finite. */
    public Reason reason() {
        return reason;
    }
}
