package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.base.OpFamilies;

import java.util.Arrays;

/**
 * Reductions of the cpu backend: sum, mean and max over everything, per row or per column, and argmax per row.
 *
 * <h2>Accuracy</h2>
 * FLOAT32 sums never run more than a few dozen float additions before the partial result moves to double
 * ({@link F32Kernels#sum}; per column, blocks of {@link #COLUMN_BLOCK} rows), so the error stays well inside the
 * contract's {@code 1e-5·Σ|x|} for any length. Partial results of parallel pieces are combined in piece order,
 * so a result does not depend on thread timing. MAX propagates NaN.
 */
final class CpuReductions implements OpFamilies.Reductions<CpuBuffer> {
    /** Rows summed in float per column before the block moves into the double accumulators. */
    static final int COLUMN_BLOCK = 64;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final F32Kernels f32;
    private final F64Kernels f64 = new F64Kernels();

    CpuReductions(CpuThreads threads, CpuWorkspaces workspaces, F32Kernels f32) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = f32;
    }

    @Override
    public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, CpuBuffer x, long xOffset, CpuBuffer out,
                       long outOffset) {
        int xo = (int) xOffset, oo = (int) outOffset;
        boolean f64Type = x.dtype() == DType.FLOAT64;
        switch (axis) {
            case ALL -> {
                double v = all(op, rows * cols, x, xo);
                if (f64Type) {
                    out.doubles()[oo] = v;
                } else {
                    out.floats()[oo] = (float) v;
                }
            }
            case PER_ROW -> perRow(op, rows, cols, x, xo, out, oo, f64Type);
            case PER_COLUMN -> {
                if (f64Type) {
                    perColumnF64(op, rows, cols, x.doubles(), xo, out.doubles(), oo);
                } else {
                    perColumnF32(op, rows, cols, x.floats(), xo, out.floats(), oo);
                }
            }
        }
    }

    /** The reduction of {@code n} contiguous elements, as a double. */
    private double all(ReduceOp op, int n, CpuBuffer x, int xo) {
        int chunks = threads.chunksFor(n, CpuElementwise.PARALLEL_MIN);
        double[] partial = new double[chunks];
        boolean f64Type = x.dtype() == DType.FLOAT64;
        threads.parallelFor(chunks, c -> {
            int lo = (int) ((long) n * c / chunks), hi = (int) ((long) n * (c + 1) / chunks);
            partial[c] = f64Type ? reduceRange(op, x.doubles(), xo + lo, hi - lo)
                    : reduceRange(op, x.floats(), xo + lo, hi - lo);
        });
        double v = partial[0];
        for (int c = 1; c < chunks; c++) {
            v = op == ReduceOp.MAX ? Math.max(v, partial[c]) : v + partial[c];
        }
        return op == ReduceOp.MEAN ? v / n : v;
    }

    /** SUM (also for MEAN) or MAX of one range; an empty range sums to 0. */
    private double reduceRange(ReduceOp op, float[] x, int xo, int n) {
        return op == ReduceOp.MAX ? f32.max(x, xo, n) : f32.sum(x, xo, n);
    }

    private double reduceRange(ReduceOp op, double[] x, int xo, int n) {
        return op == ReduceOp.MAX ? f64.max(x, xo, n) : f64.sum(x, xo, n);
    }

    private void perRow(ReduceOp op, int rows, int cols, CpuBuffer x, int xo, CpuBuffer out, int oo,
                        boolean f64Type) {
        threads.parallelRows(rows, cols, CpuElementwise.PARALLEL_MIN, (r0, nr) -> {
            for (int r = r0; r < r0 + nr; r++) {
                int start = xo + r * cols;
                if (f64Type) {
                    double v = reduceRange(op, x.doubles(), start, cols);
                    out.doubles()[oo + r] = op == ReduceOp.MEAN ? v / cols : v;
                } else {
                    double v = reduceRange(op, x.floats(), start, cols);
                    out.floats()[oo + r] = (float) (op == ReduceOp.MEAN ? v / cols : v);
                }
            }
        });
    }

    /**
     * Column reductions over column ranges split across the pool. Sums add {@link #COLUMN_BLOCK} rows at a time
     * into a float row with the vector add, then that row into double accumulators.
     */
    private void perColumnF32(ReduceOp op, int rows, int cols, float[] x, int xo, float[] out, int oo) {
        long minCols = Math.max(64, CpuElementwise.PARALLEL_MIN / Math.max(1, rows));
        threads.parallelRange(cols, minCols, 16, (c0, width) -> {
            if (op == ReduceOp.MAX) {
                System.arraycopy(x, xo + c0, out, oo + c0, width);
                for (int r = 1; r < rows; r++) {
                    f32.binary(BinaryOp.MAX, out, oo + c0, x, xo + r * cols + c0, out, oo + c0, width);
                }
                return;
            }
            CpuWorkspaces.Workspace w = workspaces.acquire();
            try {
                double[] acc = w.doubles(CpuWorkspaces.ROW_A, width);
                float[] part = w.floats(CpuWorkspaces.ROW_B, width);
                Arrays.fill(acc, 0, width, 0.0);
                for (int r0 = 0; r0 < rows; r0 += COLUMN_BLOCK) {
                    System.arraycopy(x, xo + r0 * cols + c0, part, 0, width);
                    for (int r = r0 + 1, r1 = Math.min(rows, r0 + COLUMN_BLOCK); r < r1; r++) {
                        f32.binary(BinaryOp.ADD, part, 0, x, xo + r * cols + c0, part, 0, width);
                    }
                    for (int j = 0; j < width; j++) {
                        acc[j] += part[j];
                    }
                }
                for (int j = 0; j < width; j++) {
                    out[oo + c0 + j] = (float) (op == ReduceOp.MEAN ? acc[j] / rows : acc[j]);
                }
            } finally {
                workspaces.release(w);
            }
        });
    }

    /** FLOAT64 column reductions: rows are added (or maxed) straight into the output row. */
    private void perColumnF64(ReduceOp op, int rows, int cols, double[] x, int xo, double[] out, int oo) {
        long minCols = Math.max(64, CpuElementwise.PARALLEL_MIN / Math.max(1, rows));
        BinaryOp combine = op == ReduceOp.MAX ? BinaryOp.MAX : BinaryOp.ADD;
        threads.parallelRange(cols, minCols, 16, (c0, width) -> {
            if (rows == 0) {
                Arrays.fill(out, oo + c0, oo + c0 + width, 0.0);
                return;
            }
            System.arraycopy(x, xo + c0, out, oo + c0, width);
            for (int r = 1; r < rows; r++) {
                f64.binary(combine, out, oo + c0, x, xo + r * cols + c0, out, oo + c0, width);
            }
            if (op == ReduceOp.MEAN) {
                for (int j = 0; j < width; j++) {
                    out[oo + c0 + j] /= rows;
                }
            }
        });
    }

    /** Per row, the first index of the largest element; NaN counts as largest (the first NaN wins). */
    @Override
    public void argmaxRows(int rows, int cols, CpuBuffer x, long xOffset, CpuBuffer out, long outOffset) {
        int xo = (int) xOffset, oo = (int) outOffset;
        int[] idx = out.ints();
        boolean f64Type = x.dtype() == DType.FLOAT64;
        threads.parallelRows(rows, cols, CpuElementwise.PARALLEL_MIN, (r0, nr) -> {
            for (int r = r0; r < r0 + nr; r++) {
                idx[oo + r] = f64Type ? argmax(x.doubles(), xo + r * cols, cols) : argmax(x.floats(), xo + r * cols,
                        cols);
            }
        });
    }

    private static int argmax(float[] x, int start, int n) {
        int best = 0;
        float bv = x[start];
        for (int c = 1; c < n && bv == bv; c++) {
            float v = x[start + c];
            if (v > bv || v != v) {
                bv = v;
                best = c;
            }
        }
        return best;
    }

    private static int argmax(double[] x, int start, int n) {
        int best = 0;
        double bv = x[start];
        for (int c = 1; c < n && bv == bv; c++) {
            double v = x[start + c];
            if (v > bv || v != v) {
                bv = v;
                best = c;
            }
        }
        return best;
    }
}
