package dev.backprop.spark.engine;

import dev.backprop.nn.Layer;

import java.util.ArrayList;
import java.util.List;

/**
 * Gives every rank its own dropout masks, reproducibly and resumably. Every rank starts from rank 0's state, so
 * its dropout layers hold rank 0's streams; {@link #keyForRank} then changes each stream's Philox key to
 * {@code seed ^ rankKey(rank)} ({@code rankKey(0) = 0}: rank 0 keeps the key a checkpoint records). A layer moves
 * its counter past the blocks each draw uses, which depends on the batch's rows, and the ranks' last batches of an
 * epoch may differ in size; so after every global step {@code g} each rank sets every counter to {@code g·2³²}
 * ({@link #afterStep}), past any single draw (a tensor has fewer than 2³¹ elements, 2²⁹ blocks). The counters then
 * agree on every rank, and rank 0's checkpoint resumes every rank exactly.
 */
final class DropoutStreams {
    /** Blocks reserved for one step: a draw of one tensor uses at most 2^29. */
    static final int STEP_SHIFT = 32;

    private final List<long[]> seeds = new ArrayList<>();
    private final List<long[]> offsets = new ArrayList<>();

    /** The dropout streams of {@code model} (its {@link Layer#trainingState()} seeds and offsets). */
    DropoutStreams(Layer model) {
        model.trainingState().forEach((name, value) -> {
            if (name.endsWith("dropout_seed")) {
                seeds.add(value);
            } else if (name.endsWith("dropout_offset")) {
                offsets.add(value);
            }
        });
    }

    /** The key change of {@code rank}'s streams: 0 for rank 0, distinct for every other rank. */
    static long rankKey(int rank) {
        return rank * 0xD1B54A32D192ED03L;
    }

    /** Re-keys the streams, which hold rank 0's keys, for {@code rank}. */
    void keyForRank(int rank) {
        for (long[] s : seeds) {
            s[0] ^= rankKey(rank);
        }
    }

    /** Sets every counter to where the step after global step {@code stepsDone} draws. */
    void afterStep(long stepsDone) {
        for (long[] o : offsets) {
            o[0] = stepsDone << STEP_SHIFT;
        }
    }
}
