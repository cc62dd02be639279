package dev.backprop.spark.engine;

import dev.backprop.backend.BackpropException;

/**
 * Training stopped on another rank under parameter averaging: that rank's own loss went NaN or infinite (its
 * {@link dev.backprop.train.TrainingStoppedException} says why), and it told this rank so in the next parameter
 * average, where this rank stopped too instead of waiting for it on the transport.
 */
public final class PeerStoppedException extends BackpropException {
    private static final long serialVersionUID = 1L;

    /**
     * @param rank    this rank
     * @param stopped how many ranks stopped
     * @param step    the global step after which the parameter average came
     */
    PeerStoppedException(int rank, int stopped, long step) {
        super("rank " + rank + ": training stopped on " + (stopped == 1 ? "another rank" : stopped + " other ranks")
                + " before the parameter average after step " + step);
    }
}
