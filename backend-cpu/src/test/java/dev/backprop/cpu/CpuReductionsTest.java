package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.backprop.cpu.CpuTesting.assertExact;
import static dev.backprop.cpu.CpuTesting.assertWithin;

/**
 * Sum, mean and max along every axis and argmax per row, against double arithmetic with the contract's
 * {@code 1e-5·Σ|x|} bound, including a million same-signed terms (where a plain float running sum would drift far
 * past that bound), NaN propagation, empty sums, ties, and ranges split over threads.
 */
class CpuReductionsTest {
    private static final int[][] SHAPES = {{1, 1}, {3, 17}, {257, 5}, {1000, 3}, {3, 1000}, {400, 400}, {0, 5},
        {5, 0}};

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void everyOpAndAxis(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            long seed = 3;
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int[] s : SHAPES) {
                    for (ReduceOp op : ReduceOp.values()) {
                        for (ReduceAxis axis : ReduceAxis.values()) {
                            if (op != ReduceOp.SUM && (s[0] == 0 || s[1] == 0)) {
                                continue; // core rejects MEAN and MAX of nothing
                            }
                            check(b, dt, op, axis, s[0], s[1], CpuTesting.random(seed++, s[0] * s[1] + 2, -3, 3, dt));
                        }
                    }
                }
                double[] ones = CpuTesting.random(5, 1_000_002, 0.5, 1.5, dt);
                check(b, dt, ReduceOp.SUM, ReduceAxis.ALL, 1, 1_000_000, ones);
                check(b, dt, ReduceOp.SUM, ReduceAxis.PER_ROW, 2, 500_000, ones);
                check(b, dt, ReduceOp.SUM, ReduceAxis.PER_COLUMN, 100_000, 10, ones);
                double[] nan = CpuTesting.random(6, 302, -1, 1, dt);
                nan[2 + 5 * 30 + 7] = Double.NaN;
                for (ReduceAxis axis : ReduceAxis.values()) {
                    check(b, dt, ReduceOp.MAX, axis, 10, 30, nan);
                    check(b, dt, ReduceOp.SUM, axis, 10, 30, nan);
                }
            }
        }
    }

    /** Reduces {@code x[2 ..]} viewed as rows × cols into an output at offset 1. */
    private static void check(CpuBackend b, DType dt, ReduceOp op, ReduceAxis axis, int rows, int cols, double[] x) {
        int len = axis.resultLength(rows, cols);
        double[] want = new double[len + 1], bound = new double[len + 1];
        for (int o = 0; o < len; o++) {
            double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : 0, terms = 0;
            int count = 0;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    boolean in = switch (axis) {
                        case ALL -> true;
                        case PER_ROW -> r == o;
                        case PER_COLUMN -> c == o;
                    };
                    if (in) {
                        double v = x[2 + r * cols + c];
                        acc = op == ReduceOp.MAX ? (Double.isNaN(v) || Double.isNaN(acc) ? Double.NaN
                                : Math.max(acc, v)) : acc + v;
                        terms += Math.abs(v);
                        count++;
                    }
                }
            }
            want[1 + o] = op == ReduceOp.MEAN ? acc / count : acc;
            bound[1 + o] = op == ReduceOp.MAX ? 0 : CpuTesting.rel(dt) * (op == ReduceOp.MEAN ? terms / count : terms);
        }
        Buffer bx = CpuTesting.upload(b, dt, x), out = CpuTesting.upload(b, dt, new double[len + 1]);
        b.reduce(op, axis, rows, cols, bx, 2, out, 1);
        if (op == ReduceOp.MAX) {
            for (int i = 1; i <= len; i++) {
                want[i] = dt == DType.FLOAT32 ? (float) want[i] : want[i];
            }
            assertExact(op + " " + axis + " " + dt + " " + rows + "x" + cols, want, CpuTesting.download(b, out));
        } else {
            assertWithin(op + " " + axis + " " + dt + " " + rows + "x" + cols, want, CpuTesting.download(b, out),
                    bound);
        }
        b.release(bx);
        b.release(out);
    }

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void argmaxTakesTheFirstMaximumAndNaNWins(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int[] s : new int[][] {{1, 1}, {3, 17}, {257, 5}, {2000, 40}}) {
                    int rows = s[0], cols = s[1];
                    double[] x = CpuTesting.random(rows * 7L + cols, rows * cols + 1, 0, 4, dt);
                    for (int i = 0; i < x.length; i++) {
                        x[i] = Math.floor(x[i]); // many ties
                    }
                    for (int r = 0; r < rows; r += 3) {
                        x[1 + r * cols + (r % cols)] = Double.NaN;
                        x[1 + r * cols + cols - 1] = Double.NaN;
                    }
                    double[] want = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        int best = 0;
                        for (int c = 1; c < cols; c++) {
                            double v = x[1 + r * cols + c], bv = x[1 + r * cols + best];
                            if (!Double.isNaN(bv) && (Double.isNaN(v) || v > bv)) {
                                best = c;
                            }
                        }
                        want[r] = best;
                    }
                    Buffer bx = CpuTesting.upload(b, dt, x), out = b.allocate(DType.INT32, rows);
                    b.argmaxRows(rows, cols, bx, 1, out, 0);
                    assertExact("argmax " + dt + " " + rows + "x" + cols, want, CpuTesting.download(b, out));
                    b.release(bx);
                    b.release(out);
                }
            }
        }
    }
}
