package dev.backprop.spark;

import java.io.Serializable;

/**
 * How the ranks keep their models together.
 *
 * <ul>
 *   <li>{@link #gradients()} (the default): after every step's backward pass the ranks all-reduce their
 *       gradients, weighted by their batch sizes, and every rank applies the same update. This is exactly
 *       single-machine training with the global batch (the ranks' batches together), for SGD, momentum, Adam
 *       and AdamW alike; only the float rounding of the summation differs.</li>
 *   <li>{@link #parameters(int) parameters(K)}: each rank trains on its own batches for {@code K} steps, then
 *       the ranks replace their parameters and optimizer state (momentum, Adam moments) by the mean over the
 *       ranks ("local SGD" / model averaging). This <b>changes the maths</b>: it is not equivalent to training
 *       with any batch size, and usually needs more steps to reach the same loss; it communicates {@code K}
 *       times less often.</li>
 * </ul>
 *
 * @param averageEvery 0 for gradient averaging every step; {@code K >= 1} for parameter averaging every K steps
 */
public record SyncMode(int averageEvery) implements Serializable {
    /** Validates the interval. */
    public SyncMode {
        if (averageEvery < 0) {
            throw new IllegalArgumentException("parameter averaging interval must be >= 1, got " + averageEvery);
        }
    }

    /** Gradient averaging every step: the maths of single-machine training with the global batch. */
    public static SyncMode gradients() {
        return new SyncMode(0);
    }

    /** Parameter (and optimizer state) averaging every {@code k >= 1} steps; changes the maths. */
    public static SyncMode parameters(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("parameter averaging interval must be >= 1, got " + k);
        }
        return new SyncMode(k);
    }

    /**
     * Parses {@code gradients} or {@code parameters:K}.
     *
     * @throws IllegalArgumentException naming the two forms
     */
    public static SyncMode parse(String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("gradients")) {
            return gradients();
        }
        if (s.startsWith("parameters:")) {
            try {
                return parameters(Integer.parseInt(s.substring("parameters:".length())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("sync mode " + text + ": K must be a whole number");
            }
        }
        throw new IllegalArgumentException("sync mode " + text + ": choose gradients or parameters:K");
    }

    /** Whether gradients are averaged every step. */
    public boolean averagesGradients() {
        return averageEvery == 0;
    }

    /**
     * Checks that checkpoints every {@code steps} steps (0: every epoch) come at averaged models, the only ones the
     * same on every rank.
     *
     * @throws IllegalArgumentException under parameter averaging, when {@code steps} is not a multiple of its interval
     */
    public void checkCheckpointInterval(int steps) {
        if (!averagesGradients() && steps % averageEvery != 0) {
            throw new IllegalArgumentException("checkpoint interval " + steps + " must be a multiple of the parameter "
                    + "averaging interval " + averageEvery + " (only averaged models are the same on every rank)");
        }
    }

    @Override
    public String toString() {
        return averagesGradients() ? "gradients every step" : "parameters every " + (averageEvery == 1 ? "step"
                : averageEvery + " steps");
    }
}
