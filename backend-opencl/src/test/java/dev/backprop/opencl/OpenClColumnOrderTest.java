package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.contract.Inputs;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code reduce_cols}' order of operations, bit for bit: each of a column's CY row slices folds rows ty, ty + CY, ...
 * in order, then the slices fold as a tree (common.cl's COLUMN_FOLD and column_group_reduce), emulated here in the
 * dtype's arithmetic. The shapes put rows just before, on and after the ends of COLUMN_FOLD's rounds (4·CY rows) and
 * columns either side of a group's 16, so a round that skips, repeats or reorders rows shows in the last bit; the
 * fused bias gradient repeats this order ({@link OpenClFusedTest}).
 */
class OpenClColumnOrderTest extends OpenClBackendTest {
    private static final int CX = 16;
    private static final int ROUND = 4;
    private static final double PAD = -3.5;

    @Test
    void columnReductionsFoldRowSlicesInOrderThenAsATree() {
        int cy = be.runtime().reduceGroupSize / CX;
        int round = ROUND * cy;
        int[][] shapes = {{1, 1}, {cy - 1, 3}, {cy + 1, 17}, {round - 1, 15}, {round, 16}, {round + 1, 33},
                {2 * round + cy + 1, 5}, {1000, 3}, {257, 255}};
        for (DType dt : FusedRuns.floatingDtypes(be)) {
            for (ReduceOp op : ReduceOp.values()) {
                for (int s = 0; s < shapes.length; s++) {
                    int rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
                    double[] x = Inputs.uniform(31L * s + op.ordinal(), n, -3 + s % 2, 3, dt);
                    if (op == ReduceOp.MAX && n > 4) {
                        x[n / 3] = Double.NaN;
                    }
                    double[][] got = FusedRuns.run(be, dt, new double[][] {FusedRuns.padded(x, 5, n + 7, PAD),
                            FusedRuns.padded(new double[0], 0, cols + 4, PAD)},
                            (b, buf) -> b.reduce(op, ReduceAxis.PER_COLUMN, rows, cols, buf[0], 5, buf[1], 2));
                    double[] want = FusedRuns.padded(emulate(op, dt, x, rows, cols, cy), 2, cols + 4, PAD);
                    assertArrayEquals(want, got[1], "reduce " + op + " PER_COLUMN " + dt + " [" + rows + ", "
                            + cols + "], CY " + cy);
                }
            }
        }
    }

    @Test
    void emulationFoldsSlicesBeforeTheTree() {
        // In float32 (spacing 8 at 1e8) each 4 added to 1e8 alone rounds away; added in pairs first, they stay.
        double[] x = {1e8, 4, 4, 4, 4, 4, 4, 4};
        assertEquals(1e8, emulate(ReduceOp.SUM, DType.FLOAT32, x, 8, 1, 1)[0]);
        assertEquals(1e8 + 24, emulate(ReduceOp.SUM, DType.FLOAT32, x, 8, 1, 8)[0]);
    }

    /** The column reductions of a rows x cols matrix in the kernels' order, rounded to {@code dt} at each step. */
    static double[] emulate(ReduceOp op, DType dt, double[] x, int rows, int cols, int cy) {
        double[] out = new double[cols];
        double[] slice = new double[cy];
        for (int c = 0; c < cols; c++) {
            for (int ty = 0; ty < cy; ty++) {
                double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : 0;
                for (int r = ty; r < rows; r += cy) {
                    acc = combine(op, dt, acc, x[r * cols + c]);
                }
                slice[ty] = acc;
            }
            for (int w = cy / 2; w > 0; w >>= 1) {
                for (int ty = 0; ty < w; ty++) {
                    slice[ty] = combine(op, dt, slice[ty], slice[ty + w]);
                }
            }
            out[c] = op == ReduceOp.MEAN ? round(dt, slice[0] / rows) : slice[0];
        }
        return out;
    }

    /** common.cl's reduce_combine: a sum, or the larger with NaN winning as nan_max does. */
    private static double combine(ReduceOp op, DType dt, double a, double b) {
        if (op == ReduceOp.MAX) {
            return Double.isNaN(a) || a > b ? a : b;
        }
        return round(dt, a + b);
    }

    private static double round(DType dt, double v) {
        return dt == DType.FLOAT32 ? (float) v : v;
    }
}
