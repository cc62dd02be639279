package dev.backprop.optim;

/**
 * The epoch bookkeeping shared by schedules whose rate is a function of the epoch alone: subclasses give
 * {@link #rateAt}, this class keeps the counter and sets the optimizer's rate on {@link #step} and
 * {@link #restore}.
 */
public abstract class ClosedFormSchedule implements LearningRateSchedule {
    private final Optimizer optimizer;
    /** The optimizer's rate when the schedule was made: epoch 0's rate. */
    protected final double base;
    private int epoch;

    /**
     * Starts at epoch 0 with the optimizer's current rate as the base rate.
     *
     * @param optimizer the optimizer whose rate the schedule sets
     */
    protected ClosedFormSchedule(Optimizer optimizer) {
        this.optimizer = optimizer;
        this.base = optimizer.learningRate();
    }

    @Override
    public final void step() {
        restore(epoch + 1);
    }

    @Override
    public final int epoch() {
        return epoch;
    }

    @Override
    public final void restore(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": epoch must be >= 0, got " + epoch);
        }
        this.epoch = epoch;
        optimizer.setLearningRate(rateAt(epoch));
    }
}
