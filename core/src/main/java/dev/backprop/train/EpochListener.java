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

    /**
     * When {@link Trainer#fit} ends, on every path: {@code completed} when it returns (after its last epoch, a
     * requested stop, or with no epoch to run), false when it throws, its arguments refused included (the exception
     * then goes on). For a listener that holds resources for the run or acts on its end.
     */
    default void onFitEnd(boolean completed) {
    }

    /** {@return a listener that tells this one, then {@code next}, of each event} */
    default EpochListener andThen(EpochListener next) {
        java.util.Objects.requireNonNull(next, "next");
        EpochListener first = this;
        return new EpochListener() {
            @Override
            public void onEpoch(EpochMetrics metrics) {
                first.onEpoch(metrics);
                next.onEpoch(metrics);
            }

            @Override
            public void onBatch(BatchResult batch) {
                first.onBatch(batch);
                next.onBatch(batch);
            }

            @Override
            public void onFitEnd(boolean completed) {
                try {
                    first.onFitEnd(completed);
                } finally {
                    next.onFitEnd(completed);
                }
            }
        };
    }
}
