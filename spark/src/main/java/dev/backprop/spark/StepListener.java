package dev.backprop.spark;

import java.io.Serializable;

/**
 * Called on every rank after each training step, on the executor (so it must be serializable, and what it prints
 * goes to the executor's log). For progress reporting and monitoring; an exception thrown here fails the rank's
 * task, which makes Spark rerun the barrier stage (resuming from the last checkpoint).
 */
@FunctionalInterface
public interface StepListener extends Serializable {
    /** One step has been applied. */
    void onStep(StepEvent event);

    /**
     * What a rank just did.
     *
     * @param rank       this rank
     * @param ranks      the number of ranks
     * @param attempt    Spark's attempt number of the barrier stage (0 first, higher after a rerun)
     * @param stepsDone  global steps done, counting those restored from a checkpoint
     * @param totalSteps steps of the whole run
     * @param epoch      the epoch the step belonged to (0-based)
     * @param loss       with gradient averaging, the mean loss over the global batch (the same on every rank);
     *                   with parameter averaging, the mean loss of this rank's batch
     */
    record StepEvent(int rank, int ranks, int attempt, long stepsDone, long totalSteps, int epoch, double loss)
            implements Serializable {
    }
}
