package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code reduce} (SUM, MEAN, MAX over ALL, PER_ROW, PER_COLUMN) and {@code argmaxRows}. SUM and MEAN use
 * {@code |err| ≤ 1e-5·Σ|x|} (the reference's SUM or MEAN of {@code |x|} for that element); MAX and argmax are
 * exact. Argmax inputs have ties (the first wins), NaN (counts as largest, first NaN wins) and infinities.
 */
final class ReductionCases {
    private ReductionCases() {
    }

    /** {rows, cols}. */
    static final int[][] SHAPES = {{1, 1}, {3, 17}, {17, 3}, {1, 1000}, {1000, 1}, {255, 257}, {257, 255}, {1000, 3}};

    static Stream<DynamicTest> reduce(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (ReduceOp op : ReduceOp.values()) {
                for (ReduceAxis axis : ReduceAxis.values()) {
                    tests.add(dynamicTest("reduce " + op + " " + axis + " " + dt, () -> reduceCase(o, op, axis, dt)));
                }
            }
        }
        return tests.stream();
    }

    private static void reduceCase(Oracle o, ReduceOp op, ReduceAxis axis, DType dt) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            String what = "reduce " + op + " " + axis + " " + dt + " [" + rows + ", " + cols + "]";
            // An offset mean keeps sums away from zero for some shapes and near it for others.
            double[] x = Inputs.uniform(17L * s + op.ordinal(), rows * cols, -3 + (s % 2), 3, dt);
            int len = axis.resultLength(rows, cols);
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, s % 3, rows, cols);
                Oracle.Placed out = o.output(dt, (s + 1) % 3, len);
                Reductions.reduce(op, axis, px.view(), out.view());
                double[] got = out.read(what);
                Tensor rx = o.truth(dt, x, rows, cols);
                double[] want = Reductions.reduce(op, axis, rx).toDoubles();
                if (op == ReduceOp.MAX) {
                    Tolerance.exact(what, want, got);
                } else {
                    Tensor abs = o.truth(dt, Inputs.abs(x), rows, cols);
                    double[] terms = Reductions.reduce(op, axis, abs).toDoubles();
                    Tolerance.bounded(what, dt, want, got, terms);
                }
            }
        }
    }

    static Stream<DynamicTest> argmaxRows(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            tests.add(dynamicTest("argmaxRows " + dt + " random", () -> argmaxCase(o, dt, false)));
            tests.add(dynamicTest("argmaxRows " + dt + " ties, NaN, infinities", () -> argmaxCase(o, dt, true)));
        }
        return tests.stream();
    }

    private static void argmaxCase(Oracle o, DType dt, boolean special) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            String what = "argmaxRows " + dt + " [" + rows + ", " + cols + "]" + (special ? " special" : "");
            double[] x = special
                    ? Inputs.choose(23L * s, rows * cols, dt, -1, 0, 0.5, 2, Double.NEGATIVE_INFINITY)
                    : Inputs.uniform(29L * s, rows * cols, -3, 3, dt);
            if (special) {
                addSpecialRows(x, rows, cols);
            }
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, s % 3, rows, cols);
                Oracle.Placed out = o.output(DType.INT32, (s + 2) % 3, rows);
                Reductions.argmaxRows(px.view(), out.view());
                double[] got = out.read(what);
                double[] want = Reductions.argmaxRows(o.truth(dt, x, rows, cols)).toDoubles();
                Tolerance.exact(what, want, got);
            }
        }
    }

    /** Row 0 all equal; row 1 a NaN in the middle and another later; row 2 +inf twice; the rest as drawn. */
    private static void addSpecialRows(double[] x, int rows, int cols) {
        java.util.Arrays.fill(x, 0, cols, 0.5);
        if (rows > 1) {
            x[cols + cols / 2] = Double.NaN;
            x[2 * cols - 1] = Double.NaN;
        }
        if (rows > 2) {
            x[2 * cols + cols / 3] = Double.POSITIVE_INFINITY;
            x[3 * cols - 1] = Double.POSITIVE_INFINITY;
        }
        for (int r = 3; r < rows; r += 5) {
            x[r * cols + (r % cols)] = Double.NaN;
        }
    }
}
