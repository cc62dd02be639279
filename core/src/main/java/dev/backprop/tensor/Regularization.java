package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.random.Philox;

/**
 * Dropout with a counter-based mask ({@link Philox}): element {@code i} of a draw at {@code (seed, offset)} is kept
 * with probability {@code 1 - p} and scaled by {@code 1/(1 - p)} (inverted dropout, as PyTorch), the same elements
 * on every backend. A draw of {@code n} elements uses {@link Philox#blocks(long) Philox.blocks(n)} counter blocks
 * from {@code offset}; the caller advances its offset by that much so no two draws share bits.
 */
public final class Regularization {
    private Regularization() {
    }

    /**
     * Checks a dropout probability as PyTorch does: {@code p} in {@code [0, 1]} ({@code p = 1} drops everything and
     * needs no mask, so {@link #dropout} itself takes {@code p < 1}).
     *
     * @param p the probability of zeroing an element
     * @throws IllegalArgumentException naming {@code p} when it is outside {@code [0, 1]} or NaN
     */
    public static void checkProbability(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        }
    }

    /**
     * {@code y = x·mask/(1 - p)} elementwise; {@code y}, of {@code x}'s shape (dimensions of 1 aside), may be
     * {@code x}. Applying it to an upstream gradient with the same {@code (p, seed, offset)} is the backward pass.
     *
     * @throws IllegalArgumentException unless {@code 0 <= p < 1}
     */
    public static void dropout(Tensor x, double p, long seed, long offset, Tensor y) {
        String op = "dropout";
        Backend be = Checks.backendOf(op, x, y);
        int threshold = Philox.threshold(p);
        if (offset < 0) {
            throw new IllegalArgumentException(op + ": the counter offset must be >= 0, got " + offset);
        }
        Checks.elementwise(op, x, y, "y");
        if (x.size() > 0) {
            Tensor.written(y);
            be.dropout(x.size(), threshold, 1.0 / (1.0 - p), seed, offset, x.buffer(), x.offset(), y.buffer(),
                    y.offset());
        }
    }
}
