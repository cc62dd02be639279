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

    /** {@return epochs completed} */
    int epoch();

    /**
     * Sets the epoch counter (resuming) and the optimizer's rate to match it.
     *
     * @param epoch epochs completed (≥ 0)
     * @throws IllegalArgumentException for a negative epoch
     */
    void restore(int epoch);

    /**
     * The rate this schedule gives for an epoch.
     *
     * @param epoch the epoch, from 0
     * @return its learning rate
     */
    double rateAt(int epoch);

    /** {@return the type name in checkpoints ({@code step}, {@code cosine})} */
    String type();

    /** {@return the settings by name, for checkpoints and messages} */
    Map<String, Double> settings();
}
