package dev.backprop.spark.transport;

import java.util.Arrays;
import java.util.Random;

/**
 * A fixed sequence of collectives whose result has exact expected bits: {@link #STEPS} all-reduces of vectors
 * built so that any order of summation but rank order gives other bits ({@link RankTransportTest#vector}), then a
 * broadcast from rank 0. An attack on the transport must leave this result bit-identical or fail the ranks with
 * a reason.
 */
final class AttackProgram {
    static final int STEPS = 4;
    static final int LENGTH = 1000;

    private AttackProgram() {
    }

    /** The length of step {@code step}'s vector: all differ, and chunk 0 of the first two is the same size. */
    static int length(int step) {
        return LENGTH + step;
    }

    static byte[] broadcastPayload() {
        byte[] b = new byte[10_001];
        new Random(5).nextBytes(b);
        return b;
    }

    /** Runs the program on {@code t}: the all-reduced vectors one after another. */
    static float[] run(RankTransport t) {
        float[] out = new float[0];
        for (int s = 0; s < STEPS; s++) {
            float[] v = RankTransportTest.vector(t.rank(), length(s));
            t.allReduce(v, 1.0);
            out = concat(out, v);
        }
        byte[] got = t.broadcast(t.rank() == 0 ? broadcastPayload() : null, 0);
        if (!Arrays.equals(broadcastPayload(), got)) {
            throw new AssertionError("rank " + t.rank() + " received other broadcast bytes");
        }
        return out;
    }

    /** The rank-order sums in double, rounded once: what every rank must end with. */
    static float[] expected(int ranks) {
        float[] out = new float[0];
        for (int s = 0; s < STEPS; s++) {
            out = concat(out, RankTransportTest.expected(ranks, length(s)));
        }
        return out;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
