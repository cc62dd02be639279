package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code unary} and {@code unaryBackward}: every {@link UnaryOp} on every floating dtype and the sizes 1, 3,
 * 17, 255, 257, 1000, at offsets, out of place and in place. Inputs include the kinks (0, the clamp bounds)
 * exactly, so PyTorch's conventions ({@code relu'(0) = 0}, {@code abs'(0) = 0}, inclusive clamp) are checked.
 * Ops that only select or negate are compared exactly, the others with the elementwise tolerance.
 */
final class UnaryCases {
    private UnaryCases() {
    }

    static final int[] SIZES = {1, 3, 17, 255, 257, 1000};
    private static final Set<UnaryOp> EXACT = EnumSet.of(UnaryOp.IDENTITY, UnaryOp.NEG, UnaryOp.ABS, UnaryOp.RELU,
            UnaryOp.THRESHOLD, UnaryOp.CLAMP);
    private static final double CLAMP_LO = -1.0, CLAMP_HI = 1.5;

    /** One parameterisation of an op: {@code p1}, {@code p2} and the input domain. */
    record Variant(UnaryOp op, double p1, double p2, double lo, double hi) {
        String name() {
            return op + (op == UnaryOp.POW || op == UnaryOp.CLAMP ? "(" + p1 + (op == UnaryOp.CLAMP ? ", " + p2 : "")
                    + ")" : "");
        }
    }

    static List<Variant> variants() {
        List<Variant> v = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            switch (op) {
                case LOG, SQRT -> v.add(new Variant(op, 0, 0, 0.05, 5));
                case EXP -> v.add(new Variant(op, 0, 0, -10, 10));
                case SIGMOID, TANH -> v.add(new Variant(op, 0, 0, -8, 8));
                case CLAMP -> v.add(new Variant(op, CLAMP_LO, CLAMP_HI, -3, 3));
                case POW -> {
                    v.add(new Variant(op, 2.5, 0, 0.1, 3));
                    v.add(new Variant(op, -1.0, 0, 0.1, 3));
                    v.add(new Variant(op, 2.0, 0, -3, 3));
                }
                default -> v.add(new Variant(op, 0, 0, -3, 3));
            }
        }
        return v;
    }

    /** Seeded input for a variant, with its kinks (0 and the clamp bounds) present exactly. */
    static double[] input(Variant v, long seed, int n, DType dt) {
        double[] x = Inputs.uniform(seed, n, v.lo, v.hi, dt);
        if (v.lo < 0) {
            Inputs.sprinkle(x, 0, 7, 0.0);
        }
        if (v.op == UnaryOp.CLAMP) {
            Inputs.sprinkle(x, 2, 11, CLAMP_LO);
            Inputs.sprinkle(x, 5, 13, CLAMP_HI);
        }
        return x;
    }

    static Stream<DynamicTest> unary(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (Variant v : variants()) {
                tests.add(dynamicTest("unary " + v.name() + " " + dt, () -> forwardCase(o, v, dt, false)));
                tests.add(dynamicTest("unary " + v.name() + " " + dt + " in place", () -> forwardCase(o, v, dt, true)));
            }
        }
        return tests.stream();
    }

    static Stream<DynamicTest> unaryBackward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (Variant v : variants()) {
                for (int alias = 0; alias < 3; alias++) {
                    int a = alias;
                    String how = a == 0 ? "" : a == 1 ? " dx=g" : " dx=x";
                    tests.add(dynamicTest("unaryBackward " + v.name() + " " + dt + how,
                            () -> backwardCase(o, v, dt, a)));
                }
            }
        }
        return tests.stream();
    }

    private static void forwardCase(Oracle o, Variant v, DType dt, boolean inPlace) {
        for (int s = 0; s < SIZES.length; s++) {
            int n = SIZES[s];
            String what = "unary " + v.name() + " " + dt + " n=" + n + (inPlace ? " in place" : "");
            double[] x = input(v, 31L * n + v.op.ordinal(), n, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, s % 3, n);
                Oracle.Placed out = inPlace ? px : o.output(dt, (s + 1) % 4, n);
                Elementwise.unary(v.op, v.p1, v.p2, px.view(), out.view());
                double[] got = out.read(what);
                Tensor rx = o.truth(dt, x, n);
                double[] want = Elementwise.unary(v.op, v.p1, v.p2, rx).toDoubles();
                compare(what, v.op, dt, want, got);
            }
        }
    }

    /** {@code alias}: 0 separate output, 1 output is g, 2 output is x. */
    private static void backwardCase(Oracle o, Variant v, DType dt, int alias) {
        for (int s = 0; s < SIZES.length; s++) {
            int n = SIZES[s];
            String what = "unaryBackward " + v.name() + " " + dt + " n=" + n + " alias=" + alias;
            double[] x = input(v, 57L * n + v.op.ordinal(), n, dt);
            double[] g = Inputs.uniform(91L * n, n, -2, 2, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, (s + 2) % 3, n);
                Oracle.Placed pg = o.placed(dt, g, s % 2, n);
                Oracle.Placed out = alias == 1 ? pg : alias == 2 ? px : o.output(dt, 1, n);
                Elementwise.unaryBackward(v.op, v.p1, v.p2, px.view(), pg.view(), out.view());
                double[] got = out.read(what);
                Tensor rx = o.truth(dt, x, n), rg = o.truth(dt, g, n);
                Tensor rdx = Tensor.empty(o.reference(), rx.dtype(), rx.shape());
                Elementwise.unaryBackward(v.op, v.p1, v.p2, rx, rg, rdx);
                compare(what, v.op, dt, rdx.toDoubles(), got);
            }
        }
    }

    private static void compare(String what, UnaryOp op, DType dt, double[] want, double[] got) {
        if (EXACT.contains(op)) {
            Tolerance.exact(what, want, got);
        } else {
            Tolerance.elementwise(what, dt, want, got);
        }
    }
}
