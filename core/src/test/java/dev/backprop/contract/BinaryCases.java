package dev.backprop.contract;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code binary} and {@code axpby}. Binary: every {@link BinaryOp} on every dtype it supports (INT32 for all
 * but DIV, with wrapping arithmetic), every pairing of the four {@link Broadcast} modes that covers a
 * {@code rows × cols} result, awkward shapes, offsets, and in place on either full operand. Comparisons and
 * INT32 are exact; floating arithmetic uses the elementwise tolerance. Inputs are drawn with repeats so
 * comparisons meet ties.
 */
final class BinaryCases {
    private BinaryCases() {
    }

    /** {rows, cols}. */
    static final int[][] SHAPES = {{1, 1}, {3, 17}, {17, 3}, {1, 1000}, {1000, 1}, {255, 257}};

    /** Operand shape for a broadcast mode; ROW and SCALAR alternate between their two spellings. */
    private static int[] operand(Broadcast mode, int rows, int cols, boolean alt) {
        return switch (mode) {
            case FULL -> new int[] {rows, cols};
            case ROW -> alt ? new int[] {1, cols} : new int[] {cols};
            case COLUMN -> new int[] {rows, 1};
            case SCALAR -> alt ? new int[] {} : new int[] {1};
        };
    }

    /** Pairs of modes: one FULL operand with every mode on either side, and a column against a row. */
    private static final Broadcast[][] PAIRS = {
            {Broadcast.FULL, Broadcast.FULL}, {Broadcast.FULL, Broadcast.ROW}, {Broadcast.FULL, Broadcast.COLUMN},
            {Broadcast.FULL, Broadcast.SCALAR}, {Broadcast.ROW, Broadcast.FULL}, {Broadcast.COLUMN, Broadcast.FULL},
            {Broadcast.SCALAR, Broadcast.FULL}, {Broadcast.COLUMN, Broadcast.ROW},
    };

    static Stream<DynamicTest> binary(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.all()) {
            for (BinaryOp op : BinaryOp.values()) {
                if (op == BinaryOp.DIV && dt == DType.INT32) {
                    continue;
                }
                for (Broadcast[] pair : PAIRS) {
                    tests.add(dynamicTest("binary " + op + " " + dt + " " + pair[0] + " x " + pair[1],
                            () -> binaryCase(o, op, dt, pair[0], pair[1], 0)));
                }
                tests.add(dynamicTest("binary " + op + " " + dt + " in place out=a",
                        () -> binaryCase(o, op, dt, Broadcast.FULL, Broadcast.ROW, 1)));
                tests.add(dynamicTest("binary " + op + " " + dt + " in place out=b",
                        () -> binaryCase(o, op, dt, Broadcast.FULL, Broadcast.FULL, 2)));
            }
        }
        return tests.stream();
    }

    private static double[] operandValues(BinaryOp op, DType dt, long seed, int n, boolean divisor) {
        if (dt == DType.INT32) {
            return op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN ? Inputs.ints(seed, n, -3, 3)
                    : Inputs.anyInts(seed, n);
        }
        if (divisor) {
            double[] v = Inputs.uniform(seed, n, 0.5, 3, dt);
            return Inputs.sprinkle(v, 1, 2, -v[0]);
        }
        return op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN
                ? Inputs.choose(seed, n, dt, -1.5, -0.25, 0, 0.25, 1, 2.75) : Inputs.uniform(seed, n, -3, 3, dt);
    }

    /** {@code alias}: 0 separate output, 1 output is a, 2 output is b. */
    private static void binaryCase(Oracle o, BinaryOp op, DType dt, Broadcast ma, Broadcast mb, int alias) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            int[] da = operand(ma, rows, cols, s % 2 == 0), db = operand(mb, rows, cols, s % 2 == 1);
            String what = "binary " + op + " " + dt + " a" + java.util.Arrays.toString(da) + " b"
                    + java.util.Arrays.toString(db) + " alias=" + alias;
            double[] a = operandValues(op, dt, 11L * s + op.ordinal(), (int) ma.length(rows, cols), false);
            double[] b = operandValues(op, dt, 13L * s + 5, (int) mb.length(rows, cols), op == BinaryOp.DIV);
            try (Scope scope = Scope.open()) {
                Oracle.Placed pa = o.placed(dt, a, s % 3, da), pb = o.placed(dt, b, (s + 1) % 3, db);
                Oracle.Placed out = alias == 1 ? pa : alias == 2 ? pb : o.output(dt, 2, rows, cols);
                Elementwise.binary(op, pa.view(), pb.view(), out.view());
                double[] got = out.read(what);
                Tensor ra = o.truth(dt, a, da), rb = o.truth(dt, b, db);
                double[] want = Elementwise.binary(op, ra, rb).toDoubles();
                if (dt == DType.INT32 || op.isComparison() || op == BinaryOp.MAX || op == BinaryOp.MIN) {
                    Tolerance.exact(what, want, got);
                } else {
                    Tolerance.elementwise(what, dt, want, got);
                }
            }
        }
    }

    /** {alpha, beta}; beta 0 runs with y full of NaN, which must not propagate. */
    private static final double[][] AXPBY = {{2, 0}, {0.5, 1}, {-1, 0.25}, {0.1, -3}};

    static Stream<DynamicTest> axpby(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (double[] ab : AXPBY) {
                tests.add(dynamicTest("axpby " + dt + " alpha=" + ab[0] + " beta=" + ab[1]
                        + (ab[1] == 0 ? " (y=NaN)" : ""), () -> axpbyCase(o, dt, ab[0], ab[1], false)));
            }
            tests.add(dynamicTest("axpby " + dt + " in place y=x", () -> axpbyCase(o, dt, 0.5, 1.5, true)));
        }
        return tests.stream();
    }

    private static void axpbyCase(Oracle o, DType dt, double alpha, double beta, boolean inPlace) {
        for (int s = 0; s < UnaryCases.SIZES.length; s++) {
            int n = UnaryCases.SIZES[s];
            String what = "axpby " + dt + " n=" + n + " alpha=" + alpha + " beta=" + beta + (inPlace ? " y=x" : "");
            double[] x = Inputs.uniform(3L * n, n, -3, 3, dt);
            double[] y = beta == 0 ? nan(n) : Inputs.uniform(5L * n, n, -3, 3, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, s % 3, n);
                Oracle.Placed py = inPlace ? px : o.placed(dt, y, (s + 1) % 3, n);
                Elementwise.axpby(alpha, px.view(), beta, py.view());
                double[] got = py.read(what);
                Tensor rx = o.truth(dt, x, n), ry = inPlace ? rx : o.truth(dt, y, n);
                Elementwise.axpby(alpha, rx, beta, ry);
                Tolerance.elementwise(what, dt, ry.toDoubles(), got);
            }
        }
    }

    private static double[] nan(int n) {
        double[] v = new double[n];
        java.util.Arrays.fill(v, Double.NaN);
        return v;
    }
}
