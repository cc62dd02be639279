package dev.backprop.cpu;

import dev.backprop.backend.base.OpFamilies;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

import java.util.Arrays;

/**
 * Elementwise ops of the cpu backend: unary functions and their backward forms, broadcasting binary ops,
 * {@code axpby} and the 2-D transpose. Ranges above {@link #PARALLEL_MIN} elements are cut into pieces for the
 * pool; the inner loops are the instance's FLOAT32 kernels ({@link F32Kernels}), {@link F64Kernels} or
 * {@link I32Kernels}.
 *
 * <h2>Broadcasting</h2>
 * Every kernel loop combines two contiguous ranges. A ROW operand is the same range on every row; a COLUMN or
 * SCALAR operand is one value per row (or overall) that is first splatted into a scratch row of at most
 * {@link #SEGMENT} elements; so one binary loop per op serves all sixteen broadcast combinations. Results with no
 * ROW or COLUMN operand are one flat range.
 */
final class CpuElementwise implements OpFamilies.Elementwise<CpuBuffer> {
    /** Elements per parallel piece: below this, handing work to another thread costs more than it saves. */
    static final long PARALLEL_MIN = 1L << 15;
    /** Longest scratch row for splatted operands: fits L1 next to the operand rows. */
    static final int SEGMENT = 2048;
    private static final int ALIGN = 64;
    /**
     * Elements per call of a FLOAT32 unary kernel within one piece. A kernel called on a whole 8M-element piece
     * runs a handful of times per second, so the JIT only ever compiles its loop on-stack (OSR), which for the
     * exp-based loops measured 30-40% slower than the normally compiled method; calls of 8K elements (a
     * multiple of every vector length, so results do not change) reach the normal compilation within the first
     * large call.
     */
    static final int KERNEL_BLOCK = 8192;
    /** Side of a transpose tile: 32×32 floats are 4 KiB read plus 4 KiB written. */
    private static final int TILE = 32;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final F32Kernels f32;
    private final F64Kernels f64 = new F64Kernels();

    CpuElementwise(CpuThreads threads, CpuWorkspaces workspaces, F32Kernels f32) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = f32;
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, CpuBuffer x, long xOffset, CpuBuffer y, long yOffset,
                      long count) {
        int xo = (int) xOffset, yo = (int) yOffset, n = (int) count;
        if (x.dtype() == DType.FLOAT64) {
            double[] xs = x.doubles(), ys = y.doubles();
            threads.parallelRange(n, PARALLEL_MIN, ALIGN,
                    (s, len) -> f64.unary(op, p1, p2, xs, xo + s, ys, yo + s, len));
        } else {
            float[] xs = x.floats(), ys = y.floats();
            threads.parallelRange(n, PARALLEL_MIN, ALIGN, (s, len) -> {
                int done = op == UnaryOp.RELU ? reluStreams(xs, xo + s, ys, yo + s, len) : 0;
                for (int b = done; b < len; b += KERNEL_BLOCK) {
                    int m = Math.min(KERNEL_BLOCK, len - b);
                    f32.unary(op, p1, p2, xs, xo + s + b, ys, yo + s + b, m);
                }
            });
        }
    }

    /**
     * ReLU over the first {@code 4·q} elements of a thread's range as four quarters read together (see
     * {@link F32Kernels#reluStreams}), in blocks of a quarter of {@link #KERNEL_BLOCK} per quarter so the kernel is
     * called often enough to be compiled normally; returns {@code 4·q}, 0 for a range too short to split.
     */
    private int reluStreams(float[] xs, int xo, float[] ys, int yo, int len) {
        if (len < 4 * KERNEL_BLOCK) {
            return 0;
        }
        int block = KERNEL_BLOCK / 4, q = len / 4 / block * block;
        for (int b = 0; b < q; b += block) {
            f32.reluStreams(xs, xo + b, ys, yo + b, q, block);
        }
        return 4 * q;
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, CpuBuffer x, long xOffset, CpuBuffer g, long gOffset,
                              CpuBuffer dx, long dxOffset, long count) {
        int xo = (int) xOffset, go = (int) gOffset, dxo = (int) dxOffset, n = (int) count;
        if (x.dtype() == DType.FLOAT64) {
            double[] xs = x.doubles(), gs = g.doubles(), ds = dx.doubles();
            threads.parallelRange(n, PARALLEL_MIN, ALIGN,
                    (s, len) -> f64.unaryBackward(op, p1, p2, xs, xo + s, gs, go + s, ds, dxo + s, len));
        } else {
            float[] xs = x.floats(), gs = g.floats(), ds = dx.floats();
            threads.parallelRange(n, PARALLEL_MIN, ALIGN, (s, len) -> {
                for (int b = 0; b < len; b += KERNEL_BLOCK) {
                    int m = Math.min(KERNEL_BLOCK, len - b);
                    f32.unaryBackward(op, p1, p2, xs, xo + s + b, gs, go + s + b, ds, dxo + s + b, m);
                }
            });
        }
    }

    @Override
    public void axpby(long count, double alpha, CpuBuffer x, long xOffset, double beta, CpuBuffer y, long yOffset) {
        int n = (int) count, xo = (int) xOffset, yo = (int) yOffset;
        if (x.dtype() == DType.FLOAT64) {
            double[] xs = x.doubles(), ys = y.doubles();
            threads.parallelRange(n, PARALLEL_MIN, ALIGN,
                    (s, len) -> f64.axpby(len, alpha, xs, xo + s, beta, ys, yo + s));
        } else {
            float[] xs = x.floats(), ys = y.floats();
            float a = (float) alpha, b = (float) beta;
            threads.parallelRange(n, PARALLEL_MIN, ALIGN, (s, len) -> f32.axpby(len, a, xs, xo + s, b, ys, yo + s));
        }
    }

    /** One dtype's binary loop and splat, on untyped arrays (the broadcast walk below is dtype-free). */
    private interface Lanes {
        void binary(BinaryOp op, Object a, int ao, Object b, int bo, Object out, int oo, int n);

        Object scratch(CpuWorkspaces.Workspace w, int slot, int n);

        void splat(Object src, int index, Object dst, int n);
    }

    private final Lanes f32Lanes = new Lanes() {
        @Override
        public void binary(BinaryOp op, Object a, int ao, Object b, int bo, Object out, int oo, int n) {
            f32.binary(op, (float[]) a, ao, (float[]) b, bo, (float[]) out, oo, n);
        }

        @Override
        public Object scratch(CpuWorkspaces.Workspace w, int slot, int n) {
            return w.floats(slot, n);
        }

        @Override
        public void splat(Object src, int index, Object dst, int n) {
            Arrays.fill((float[]) dst, 0, n, ((float[]) src)[index]);
        }
    };

    private final Lanes f64Lanes = new Lanes() {
        @Override
        public void binary(BinaryOp op, Object a, int ao, Object b, int bo, Object out, int oo, int n) {
            f64.binary(op, (double[]) a, ao, (double[]) b, bo, (double[]) out, oo, n);
        }

        @Override
        public Object scratch(CpuWorkspaces.Workspace w, int slot, int n) {
            return w.doubles(slot, n);
        }

        @Override
        public void splat(Object src, int index, Object dst, int n) {
            Arrays.fill((double[]) dst, 0, n, ((double[]) src)[index]);
        }
    };

    private static final Lanes I32_LANES = new Lanes() {
        @Override
        public void binary(BinaryOp op, Object a, int ao, Object b, int bo, Object out, int oo, int n) {
            I32Kernels.binary(op, (int[]) a, ao, (int[]) b, bo, (int[]) out, oo, n);
        }

        @Override
        public Object scratch(CpuWorkspaces.Workspace w, int slot, int n) {
            return w.ints(slot, n);
        }

        @Override
        public void splat(Object src, int index, Object dst, int n) {
            Arrays.fill((int[]) dst, 0, n, ((int[]) src)[index]);
        }
    };

    /** One operand of a binary op: its array, offset and how it covers the result. */
    private record Operand(Object array, int offset, Broadcast mode) {
    }

    @Override
    public void binary(BinaryOp op, int rows, int cols, CpuBuffer a, long aOffset, Broadcast ba, CpuBuffer b,
                       long bOffset, Broadcast bb, CpuBuffer out, long outOffset) {
        int ao = (int) aOffset, bo = (int) bOffset, oo = (int) outOffset;
        Lanes lanes = switch (out.dtype()) {
            case FLOAT32 -> f32Lanes;
            case FLOAT64 -> f64Lanes;
            case INT32 -> I32_LANES;
        };
        Operand x = new Operand(a.array(), ao, effective(ba, rows, cols));
        Operand y = new Operand(b.array(), bo, effective(bb, rows, cols));
        Object o = out.array();
        boolean flat = x.mode() != Broadcast.ROW && x.mode() != Broadcast.COLUMN && y.mode() != Broadcast.ROW
                && y.mode() != Broadcast.COLUMN;
        if (flat) {
            // FULL and SCALAR operands only: the result is one range of rows·cols elements.
            threads.parallelRange(rows * cols, PARALLEL_MIN, ALIGN, (s, len) -> {
                CpuWorkspaces.Workspace w = workspaces.acquire();
                try {
                    segments(lanes, w, op, 0, s, len, x, y, o, oo);
                } finally {
                    workspaces.release(w);
                }
            });
        } else {
            threads.parallelRows(rows, cols, PARALLEL_MIN, (r0, nr) -> {
                CpuWorkspaces.Workspace w = workspaces.acquire();
                try {
                    for (int r = r0; r < r0 + nr; r++) {
                        segments(lanes, w, op, r, r * cols, cols, x, y, o, oo);
                    }
                } finally {
                    workspaces.release(w);
                }
            });
        }
    }

    /**
     * Result elements {@code [start, start+len)}, all on row {@code row} (or a flat range, row 0), in pieces of
     * at most {@link #SEGMENT}. A ROW operand only occurs with whole rows, where {@code start} is the row start.
     */
    private static void segments(Lanes lanes, CpuWorkspaces.Workspace w, BinaryOp op, int row, int start, int len,
                                 Operand x, Operand y, Object out, int oo) {
        int seg = Math.min(SEGMENT, len);
        Object sa = splat(lanes, w, CpuWorkspaces.ROW_A, x, row, seg);
        Object sb = splat(lanes, w, CpuWorkspaces.ROW_B, y, row, seg);
        for (int s = 0; s < len; s += SEGMENT) {
            int n = Math.min(SEGMENT, len - s);
            int e = start + s;
            lanes.binary(op, sa != null ? sa : x.array(), sa != null ? 0 : index(x, e, s),
                    sb != null ? sb : y.array(), sb != null ? 0 : index(y, e, s), out, oo + e, n);
        }
    }

    /** For a COLUMN or SCALAR operand, a scratch row filled with its value for {@code row}; else null. */
    private static Object splat(Lanes lanes, CpuWorkspaces.Workspace w, int slot, Operand o, int row, int n) {
        if (o.mode() == Broadcast.FULL || o.mode() == Broadcast.ROW) {
            return null;
        }
        Object s = lanes.scratch(w, slot, n);
        lanes.splat(o.array(), o.offset() + (o.mode() == Broadcast.COLUMN ? row : 0), s, n);
        return s;
    }

    /** Where a FULL or ROW operand's element for result element {@code e} (column {@code s} of a row) lies. */
    private static int index(Operand o, int e, int s) {
        return o.mode() == Broadcast.FULL ? o.offset() + e : o.offset() + s;
    }

    /** ROW with one row, or COLUMN with one column, is the full operand. */
    private static Broadcast effective(Broadcast m, int rows, int cols) {
        if (m == Broadcast.ROW && rows == 1 || m == Broadcast.COLUMN && cols == 1) {
            return Broadcast.FULL;
        }
        return m;
    }

    /**
     * {@code dst[r] = src[indices[r]]} for rows of {@code cols} elements, any dtype; an index outside
     * {@code [0, srcRows)} gives a row of zeros. Rows of the result are split over the pool.
     */
    @Override
    public void gatherRows(int rows, int cols, CpuBuffer src, long srcOffset, int srcRows, CpuBuffer indices,
                           long indicesOffset, CpuBuffer dst, long dstOffset) {
        int so = (int) srcOffset, io = (int) indicesOffset, dOff = (int) dstOffset;
        Object s = src.array(), d = dst.array();
        int[] idx = (int[]) indices.array();
        threads.parallelRows(rows, cols, PARALLEL_MIN, (r0, nr) -> {
            for (int r = r0; r < r0 + nr; r++) {
                int i = idx[io + r];
                int to = dOff + r * cols;
                if (i >= 0 && i < srcRows) {
                    System.arraycopy(s, so + i * cols, d, to, cols);
                } else if (d instanceof float[] f) {
                    Arrays.fill(f, to, to + cols, 0f);
                } else if (d instanceof double[] f) {
                    Arrays.fill(f, to, to + cols, 0d);
                } else {
                    Arrays.fill((int[]) d, to, to + cols, 0);
                }
            }
        });
    }

    /**
     * {@code dst = srcᵀ} for a {@code rows × cols} source, any dtype, in {@link #TILE}-square tiles so both the
     * reads and the writes of a tile stay in L1; rows of the source are split over the pool.
     */
    @Override
    public void transpose(int rows, int cols, CpuBuffer src, long srcOffset, CpuBuffer dst, long dstOffset) {
        int so = (int) srcOffset, dOff = (int) dstOffset;
        Object s = src.array(), d = dst.array();
        threads.parallelRows(rows, cols, PARALLEL_MIN, (r0, nr) -> {
            for (int i0 = r0; i0 < r0 + nr; i0 += TILE) {
                int i1 = Math.min(r0 + nr, i0 + TILE);
                for (int j0 = 0; j0 < cols; j0 += TILE) {
                    int j1 = Math.min(cols, j0 + TILE);
                    if (s instanceof float[] fs) {
                        transposeTile(fs, so, (float[]) d, dOff, rows, cols, i0, i1, j0, j1);
                    } else if (s instanceof double[] ds) {
                        transposeTile(ds, so, (double[]) d, dOff, rows, cols, i0, i1, j0, j1);
                    } else {
                        transposeTile((int[]) s, so, (int[]) d, dOff, rows, cols, i0, i1, j0, j1);
                    }
                }
            }
        });
    }

    private static void transposeTile(float[] s, int so, float[] d, int dOff, int rows, int cols, int i0, int i1,
                                      int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            for (int i = i0, di = dOff + j * rows + i0, si = so + i0 * cols + j; i < i1; i++, si += cols) {
                d[di++] = s[si];
            }
        }
    }

    private static void transposeTile(double[] s, int so, double[] d, int dOff, int rows, int cols, int i0, int i1,
                                      int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            for (int i = i0, di = dOff + j * rows + i0, si = so + i0 * cols + j; i < i1; i++, si += cols) {
                d[di++] = s[si];
            }
        }
    }

    private static void transposeTile(int[] s, int so, int[] d, int dOff, int rows, int cols, int i0, int i1,
                                      int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            for (int i = i0, di = dOff + j * rows + i0, si = so + i0 * cols + j; i < i1; i++, si += cols) {
                d[di++] = s[si];
            }
        }
    }
}
