package dev.backprop.contract;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Fused;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code biasActivation} and {@code biasActivationBackward}: every fused activation on every floating dtype,
 * out of place and in place ({@code y = z}, {@code dz = g}), at offsets, for one row, odd sizes, more than 256
 * and more than 4096 rows. Each result is checked twice: against the float64 reference with the contract
 * tolerances, and bit for bit against the same computation done with the unfused primitives on the backend
 * under test (the SPI's defaults), which a backend's own fused family must reproduce. The multi-tensor updates
 * are in {@link MultiUpdateCases}.
 */
final class FusedCases {
    private FusedCases() {
    }

    /** {rows, cols}: one row, odd sizes, more than 256 rows, more than 4096 rows. */
    static final int[][] SHAPES = {{1, 1}, {1, 17}, {3, 5}, {17, 10}, {257, 3}, {300, 33}, {4100, 3}};

    private static final UnaryOp[] ACTIVATIONS = {UnaryOp.IDENTITY, UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.TANH};

    static Stream<DynamicTest> biasActivation(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (UnaryOp act : ACTIVATIONS) {
                for (boolean inPlace : new boolean[] {false, true}) {
                    String name = "biasActivation " + act + " " + dt + (inPlace ? " y=z" : "");
                    tests.add(dynamicTest(name, () -> forwardCase(o, act, dt, inPlace, name)));
                }
            }
        }
        return tests.stream();
    }

    static Stream<DynamicTest> biasActivationBackward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (UnaryOp act : ACTIVATIONS) {
                for (boolean inPlace : new boolean[] {false, true}) {
                    String name = "biasActivationBackward " + act + " " + dt + (inPlace ? " dz=g" : "");
                    tests.add(dynamicTest(name, () -> backwardCase(o, act, dt, inPlace, name)));
                }
            }
        }
        return tests.stream();
    }

    private static void forwardCase(Oracle o, UnaryOp act, DType dt, boolean inPlace, String name) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1], n = rows * cols;
            String what = name + " [" + rows + ", " + cols + "]";
            double[] z = Inputs.sprinkle(Inputs.uniform(13L * n + act.ordinal(), n, -4, 4, dt), 0, 7, 0.0);
            double[] bias = Inputs.uniform(17L * cols, cols, -1, 1, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed pz = o.placed(dt, z, s % 3, rows, cols), pb = o.placed(dt, bias, (s + 1) % 3, cols);
                Oracle.Placed py = inPlace ? pz : o.output(dt, (s + 2) % 3, rows, cols);
                Fused.biasActivation(act, pz.view(), pb.view(), py.view());
                double[] got = py.read(what);

                Tensor rz = o.truth(dt, z, rows, cols);
                Fused.biasActivation(act, rz, o.truth(dt, bias, cols), rz);
                Tolerance.elementwise(what + " vs reference", dt, rz.toDoubles(), got);

                Tensor u = Elementwise.binary(BinaryOp.ADD, o.actual(dt, z, rows, cols), o.actual(dt, bias, cols));
                Elementwise.unary(act, 0, 0, u, u);
                sameBits(what + " vs add then " + act, u.toDoubles(), got);
            }
        }
    }

    private static void backwardCase(Oracle o, UnaryOp act, DType dt, boolean inPlace, String name) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1], n = rows * cols;
            String what = name + " [" + rows + ", " + cols + "]";
            double[] y = output(act, 19L * n + act.ordinal(), n, dt);
            double[] g = Inputs.uniform(23L * n, n, -2, 2, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed py = o.placed(dt, y, s % 3, rows, cols), pg = o.placed(dt, g, (s + 1) % 3, rows, cols);
                Oracle.Placed pdz = inPlace ? pg : o.output(dt, (s + 2) % 3, rows, cols);
                Oracle.Placed pdb = o.output(dt, 1 + s % 2, cols);
                Fused.biasActivationBackward(act, py.view(), pg.view(), pdz.view(), pdb.view());
                double[] gotDz = pdz.read(what + " dz"), gotDb = pdb.read(what + " dbias");

                Tensor ry = o.truth(dt, y, rows, cols), rdz = o.truth(dt, g, rows, cols);
                Tensor rdb = Tensor.empty(o.reference(), rdz.dtype(), rdz.shape().dim(1));
                Fused.biasActivationBackward(act, ry, rdz, rdz, rdb);
                double[] wantDz = rdz.toDoubles();
                Tolerance.elementwise(what + " dz vs reference", dt, wantDz, gotDz);
                Tolerance.bounded(what + " dbias vs reference", dt, rdb.toDoubles(), gotDb,
                        columnSums(Inputs.abs(wantDz), rows, cols));

                Tensor[] unfused = unfusedBackward(act, o.actual(dt, y, rows, cols), o.actual(dt, g, rows, cols));
                sameBits(what + " dz vs the unfused primitives", unfused[0].toDoubles(), gotDz);
                sameBits(what + " dbias vs the unfused primitives", unfused[1].toDoubles(), gotDb);
            }
        }
    }

    /** A plausible forward output of {@code act}: in its range, with ReLU's zeros present exactly. */
    private static double[] output(UnaryOp act, long seed, int n, DType dt) {
        return switch (act) {
            case RELU -> Inputs.sprinkle(Inputs.uniform(seed, n, 0, 3, dt), 0, 3, 0.0);
            case SIGMOID -> Inputs.uniform(seed, n, 0.001, 0.999, dt);
            case TANH -> Inputs.uniform(seed, n, -0.99, 0.99, dt);
            default -> Inputs.uniform(seed, n, -3, 3, dt);
        };
    }

    /** {dz, dbias} by the SPI's default composition of primitives, through the facades. */
    private static Tensor[] unfusedBackward(UnaryOp act, Tensor y, Tensor g) {
        Tensor dz = Tensor.empty(y.backend(), y.dtype(), y.shape());
        switch (act) {
            case IDENTITY -> Elementwise.copy(g, dz);
            case RELU -> Elementwise.unaryBackward(UnaryOp.RELU, 0, 0, y, g, dz);
            default -> {
                Tensor one = Tensor.full(y.backend(), y.dtype(), 1.0);
                Tensor t = Tensor.empty(y.backend(), y.dtype(), y.shape());
                if (act == UnaryOp.SIGMOID) {
                    Elementwise.binary(BinaryOp.SUB, one, y, t);
                    Elementwise.binary(BinaryOp.MUL, y, t, t);
                } else {
                    Elementwise.binary(BinaryOp.MUL, y, y, t);
                    Elementwise.binary(BinaryOp.SUB, one, t, t);
                }
                Elementwise.binary(BinaryOp.MUL, t, g, dz);
            }
        }
        return new Tensor[] {dz, Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, dz)};
    }

    static double[] columnSums(double[] m, int rows, int cols) {
        double[] s = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                s[c] += m[r * cols + c];
            }
        }
        return s;
    }

    /** Bit-for-bit equality (raw bits, so {@code -0.0} differs from {@code 0.0}). */
    static void sameBits(String what, double[] expected, double[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": got " + actual.length + " elements, expected " + expected.length);
        }
        int bad = 0, first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                bad++;
                first = first < 0 ? i : first;
            }
        }
        if (bad > 0) {
            throw new AssertionError(String.format("%s: %d of %d elements differ in their bits; first at [%d]: got "
                    + "%s, expected %s", what, bad, expected.length, first, actual[first], expected[first]));
        }
    }
}
