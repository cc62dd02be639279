package dev.backprop.spark.transport;

import java.util.Arrays;
import java.util.Random;

/**
 * A fixed sequence of collectives whose result has exact expected bits: {@link #STEPS} all-reduces of vectors
 * built so that any order of summation but rank order gives other bits, then a broadcast from rank 0. An attack on
 * the transport must leave this result bit-identical or fail the ranks with a reason.
 */
final class AttackProgram {
    static final int STEPS = 4;
    static final int LENGTH = 1000;

    private AttackProgram() {
    }

    /** Rank {@code rank}'s vector at {@code step}: per element a large value, its negation and a small value. */
    static float[] vector(int rank, int step) {
        Random shared = new Random(7919L * step + LENGTH);
        Random own = new Random(1000L * rank + 31L * step + 1);
        float[] v = new float[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            float big = (float) Math.scalb(1 + shared.nextDouble(), 40 + shared.nextInt(20));
            int role = Math.floorMod(rank + shared.nextInt(3), 3);
            float small = (float) (own.nextGaussian() * Math.pow(10, own.nextInt(9) - 4));
            v[i] = role == 0 ? big : role == 1 ? -big : small;
        }
        return v;
    }

    static byte[] broadcastPayload() {
        byte[] b = new byte[10_001];
        new Random(5).nextBytes(b);
        return b;
    }

    /** Runs the program on {@code t}: the all-reduced vectors one after another. */
    static float[] run(RankTransport t) {
        float[] out = new float[STEPS * LENGTH];
        for (int s = 0; s < STEPS; s++) {
            float[] v = vector(t.rank(), s);
            t.allReduce(v, 1.0);
            System.arraycopy(v, 0, out, s * LENGTH, LENGTH);
        }
        byte[] got = t.broadcast(t.rank() == 0 ? broadcastPayload() : null, 0);
        if (!Arrays.equals(broadcastPayload(), got)) {
            throw new AssertionError("rank " + t.rank() + " received other broadcast bytes");
        }
        return out;
    }

    /** The rank-order sums in double, rounded once: what every rank must end with. */
    static float[] expected(int ranks) {
        float[] out = new float[STEPS * LENGTH];
        for (int s = 0; s < STEPS; s++) {
            double[] acc = new double[LENGTH];
            for (int r = 0; r < ranks; r++) {
                float[] v = vector(r, s);
                for (int i = 0; i < LENGTH; i++) {
                    acc[i] += v[i];
                }
            }
            for (int i = 0; i < LENGTH; i++) {
                out[s * LENGTH + i] = (float) acc[i];
            }
        }
        return out;
    }
}
