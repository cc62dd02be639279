package dev.backprop.cpu;

import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Scratch arrays (GEMM packing panels, edge tiles, broadcast rows, row accumulators, a convolution's per-image
 * arrays) lent to one chunk of work at a time.
 *
 * <p>Why a pool and not fields or a {@code ThreadLocal}: the backend is used from several threads at once, so
 * per-backend fields would be shared unsafely, and a {@code ThreadLocal} would pin megabytes of panels to every
 * application thread that ever called an op. A workspace is taken for one chunk and given back after it, so the
 * pool holds as many workspaces as chunks ever ran at the same time, and their arrays are reused call after
 * call (the hot path allocates nothing once they have grown to the sizes in use).
 */
final class CpuWorkspaces implements AutoCloseable {
    /** Slots of a workspace; each holds one array per element type. */
    static final int PACK_A = 0;
    static final int PACK_B = 1;
    static final int TILE = 2;
    /** Rows of broadcast operands and row accumulators. */
    static final int ROW_A = 3;
    static final int ROW_B = 4;
    /** A convolution's per-image arrays: its source (padded image or im2col matrix), product, upstream gradient. */
    static final int IMAGE = 5;
    static final int PRODUCT = 6;
    static final int UPSTREAM = 7;
    private static final int SLOTS = 8;

    private final ConcurrentLinkedDeque<Workspace> free = new ConcurrentLinkedDeque<>();

    /** A workspace nobody else holds; give it back with {@link #release}. */
    Workspace acquire() {
        Workspace w = free.pollFirst();
        return w != null ? w : new Workspace();
    }

    /** Returns a workspace taken with {@link #acquire}. */
    void release(Workspace w) {
        free.offerFirst(w);
    }

    /** Drops every idle workspace (the backend is closing). */
    @Override
    public void close() {
        free.clear();
    }

    /** Growable scratch arrays owned by one chunk of work while it runs. */
    static final class Workspace {
        private final float[][] floats = new float[SLOTS][];
        private final double[][] doubles = new double[SLOTS][];
        private final int[][] ints = new int[SLOTS][];

        /** A float array of at least {@code size} elements in {@code slot}; contents are left over. */
        float[] floats(int slot, int size) {
            float[] a = floats[slot];
            if (a == null || a.length < size) {
                a = new float[size];
                floats[slot] = a;
            }
            return a;
        }

        /** A double array of at least {@code size} elements in {@code slot}; contents are left over. */
        double[] doubles(int slot, int size) {
            double[] a = doubles[slot];
            if (a == null || a.length < size) {
                a = new double[size];
                doubles[slot] = a;
            }
            return a;
        }

        /** An int array of at least {@code size} elements in {@code slot}; contents are left over. */
        int[] ints(int slot, int size) {
            int[] a = ints[slot];
            if (a == null || a.length < size) {
                a = new int[size];
                ints[slot] = a;
            }
            return a;
        }
    }
}
