package dev.backprop.optim;

import java.util.Map;

/**
 * Sets an optimizer's learning rate from the epoch number, in closed form (so a resumed run gets exactly the
 * rates an uninterrupted one would). Call {@link #step()} once at the end of every epoch, as with PyTorch's
 * schedulers.
 */
public interface LearningRateSchedule {
    /** Ends an epoch: advances the epoch counter and sets the optimizer's rate for the next one. */
    void step();

    /** Epochs completed. */
    int epoch();

    /** Sets the epoch counter (resuming) and the optimizer's rate to match it. */
    void restore(int epoch);

    /** The rate this schedule gives for epoch {@code epoch} (0-based). */
    double rateAt(int epoch);

    /** Type name in checkpoints ({@code step}, {@code cosine}). */
    String type();

    /** Settings, for checkpoints and messages. */
    Map<String, Double> settings();
}
