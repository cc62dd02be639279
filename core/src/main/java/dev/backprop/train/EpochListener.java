package dev.backprop.train;

/** Receives progress from {@link Trainer#fit}. Runs on the training thread. */
@FunctionalInterface
public interface EpochListener {
    /**
     * After each epoch (its validation and the schedule's step included); may call {@link Trainer#requestStop()}
     * or save a checkpoint.
     */
    void onEpoch(EpochMetrics metrics);

    /**
     * After each training step has been applied, with what it computed. When step results are read every n steps
     * ({@link Trainer.Builder#syncEvery}), the calls for n steps come together after the read.
     */
    default void onBatch(BatchResult batch) {
    }
}
