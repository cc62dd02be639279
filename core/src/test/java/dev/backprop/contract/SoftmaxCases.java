package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code softmaxRows} (softmax and log-softmax), the fused {@code softmaxCrossEntropy} and its backward.
 * Rows are shifted by up to ±200, so a kernel that skips the max subtraction overflows in FLOAT32; labels
 * include out-of-range values, whose loss must be NaN. Elementwise tolerance throughout. With such shifts
 * only the stable forms pass in FLOAT32, as in PyTorch: log-softmax as {@code (x - max) - log Σ exp(x - max)}
 * and the loss as {@code (max - z[label]) + log Σ exp(z - max)}; forming {@code max + log Σ} first loses half
 * an ulp of the shift (about 8e-6 at 200), more than a small loss or log-probability may be off.
 */
final class SoftmaxCases {
    private SoftmaxCases() {
    }

    /** {rows, cols}. */
    static final int[][] SHAPES = {{1, 1}, {3, 17}, {17, 3}, {1, 1000}, {255, 257}, {1000, 10}, {2, 255}};

    /** Logits: uniform in [-3, 3] plus a per-row shift in [-200, 200]. */
    static double[] logits(long seed, int rows, int cols, DType dt) {
        double[] x = Inputs.uniform(seed, rows * cols, -3, 3, DType.FLOAT64);
        double[] shift = Inputs.uniform(seed + 1, rows, -200, 200, DType.FLOAT64);
        for (int i = 0; i < x.length; i++) {
            x[i] = Inputs.round(x[i] + shift[i / cols], dt);
        }
        return x;
    }

    static Stream<DynamicTest> softmaxRows(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (boolean log : new boolean[] {false, true}) {
                String name = "softmaxRows " + (log ? "log " : "") + dt;
                tests.add(dynamicTest(name, () -> softmaxCase(o, dt, log, false)));
                tests.add(dynamicTest(name + " in place", () -> softmaxCase(o, dt, log, true)));
            }
        }
        return tests.stream();
    }

    private static void softmaxCase(Oracle o, DType dt, boolean log, boolean inPlace) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            String what = "softmaxRows " + (log ? "log " : "") + dt + " [" + rows + ", " + cols + "]"
                    + (inPlace ? " in place" : "");
            double[] x = logits(41L * s, rows, cols, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed px = o.placed(dt, x, s % 3, rows, cols);
                Oracle.Placed out = inPlace ? px : o.output(dt, 1, rows, cols);
                Softmax.softmaxRows(log, px.view(), out.view());
                double[] got = out.read(what);
                Tensor rx = o.truth(dt, x, rows, cols);
                double[] want = (log ? Softmax.logSoftmax(rx) : Softmax.softmax(rx)).toDoubles();
                Tolerance.elementwise(what, dt, want, got);
            }
        }
    }

    static Stream<DynamicTest> softmaxCrossEntropy(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            tests.add(dynamicTest("softmaxCrossEntropy " + dt, () -> forwardCase(o, dt, false, false)));
            tests.add(dynamicTest("softmaxCrossEntropy " + dt + " probs=logits",
                    () -> forwardCase(o, dt, true, false)));
            tests.add(dynamicTest("softmaxCrossEntropy " + dt + " labels out of range",
                    () -> forwardCase(o, dt, false, true)));
            tests.add(dynamicTest("softmaxCrossEntropy " + dt + " at the ends of the range", () -> extremeCase(o, dt)));
        }
        return tests.stream();
    }

    /**
     * Logits at the top of the dtype's range, equal ones, ±1e4 and -inf: a loss formed as {@code max + log Σ}
     * rounds at the scale of the logits and loses {@code ln 4} in a row of four equal {@code -3e38}.
     */
    private static void extremeCase(Oracle o, DType dt) {
        double big = dt == DType.FLOAT32 ? 3e38 : 1e308, inf = Double.POSITIVE_INFINITY;
        double[] z = {-big, -big, -big, -big, big, big, -1, 0, 1e4, -1e4, 0, 1, -inf, 0, 1, 2, 2, 2, 2, 2};
        double[] l = {1, 1, 0, 3, 2};
        String what = "softmaxCrossEntropy " + dt + " at the ends of the range";
        try (Scope scope = Scope.open()) {
            double[] rounded = java.util.Arrays.stream(z).map(v -> Inputs.round(v, dt)).toArray();
            Oracle.Placed pz = o.placed(dt, rounded, 0, 5, 4);
            Oracle.Placed losses = o.output(dt, 0, 5);
            Oracle.Placed probs = o.output(dt, 1, 5, 4);
            Softmax.softmaxCrossEntropy(pz.view(), o.placed(DType.INT32, l, 0, 5).view(), losses.view(), probs.view());
            double[] expected = {Math.log(4), Math.log(2), 0, Math.log(1 + Math.exp(-1) + Math.exp(-2)), Math.log(4)};
            Tolerance.elementwise(what + " losses", dt, expected, losses.read(what + " losses"));
            double[] p = probs.read(what + " probs");
            Tolerance.elementwise(what + " probs", dt, new double[] {0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0, 0},
                    java.util.Arrays.copyOfRange(p, 0, 8));
        }
    }

    private static double[] labels(long seed, int rows, int cols, boolean outOfRange) {
        double[] l = Inputs.ints(seed, rows, 0, cols - 1);
        if (outOfRange) {
            Inputs.sprinkle(l, 0, 3, -1);
            Inputs.sprinkle(l, 1, 5, cols);
        }
        return l;
    }

    private static void forwardCase(Oracle o, DType dt, boolean inPlace, boolean outOfRange) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            String what = "softmaxCrossEntropy " + dt + " [" + rows + ", " + cols + "]"
                    + (inPlace ? " probs=logits" : "") + (outOfRange ? " with out-of-range labels" : "");
            double[] z = logits(43L * s, rows, cols, dt);
            double[] l = labels(47L * s, rows, cols, outOfRange);
            try (Scope scope = Scope.open()) {
                Oracle.Placed pz = o.placed(dt, z, s % 3, rows, cols);
                Oracle.Placed pl = o.placed(DType.INT32, l, (s + 1) % 3, rows);
                Oracle.Placed losses = o.output(dt, 2, rows);
                Oracle.Placed probs = inPlace ? pz : o.output(dt, s % 2, rows, cols);
                Softmax.softmaxCrossEntropy(pz.view(), pl.view(), losses.view(), probs.view());
                double[] gotLoss = losses.read(what + " losses");
                double[] gotProbs = probs.read(what + " probs");
                Tensor rz = o.truth(dt, z, rows, cols), rl = o.truth(DType.INT32, l, rows);
                Tensor rLoss = Tensor.empty(o.reference(), rz.dtype(), rows),
                        rProbs = Tensor.empty(o.reference(), rz.dtype(), rz.shape());
                Softmax.softmaxCrossEntropy(rz, rl, rLoss, rProbs);
                Tolerance.elementwise(what + " losses", dt, rLoss.toDoubles(), gotLoss);
                Tolerance.elementwise(what + " probs", dt, rProbs.toDoubles(), gotProbs);
            }
        }
    }

    static Stream<DynamicTest> softmaxCrossEntropyBackward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            tests.add(dynamicTest("softmaxCrossEntropyBackward " + dt, () -> backwardCase(o, dt, false)));
            tests.add(dynamicTest("softmaxCrossEntropyBackward " + dt + " dlogits=probs",
                    () -> backwardCase(o, dt, true)));
        }
        return tests.stream();
    }

    private static void backwardCase(Oracle o, DType dt, boolean inPlace) {
        for (int s = 0; s < SHAPES.length; s++) {
            int rows = SHAPES[s][0], cols = SHAPES[s][1];
            String what = "softmaxCrossEntropyBackward " + dt + " [" + rows + ", " + cols + "]"
                    + (inPlace ? " dlogits=probs" : "");
            double[] p = probabilities(o, dt, logits(53L * s, rows, cols, dt), rows, cols);
            double[] l = labels(59L * s, rows, cols, false);
            double[] g = Inputs.uniform(61L * s, rows, -1, 1, dt);
            Inputs.sprinkle(g, 0, 4, Inputs.round(1.0 / rows, dt));
            try (Scope scope = Scope.open()) {
                Oracle.Placed pp = o.placed(dt, p, s % 3, rows, cols);
                Oracle.Placed pl = o.placed(DType.INT32, l, (s + 2) % 3, rows);
                Oracle.Placed pg = o.placed(dt, g, 1, rows);
                Oracle.Placed out = inPlace ? pp : o.output(dt, s % 2, rows, cols);
                Softmax.softmaxCrossEntropyBackward(pp.view(), pl.view(), pg.view(), out.view());
                double[] got = out.read(what);
                Tensor rp = o.truth(dt, p, rows, cols), rdz = Tensor.empty(o.reference(), rp.dtype(), rp.shape());
                Softmax.softmaxCrossEntropyBackward(rp, o.truth(DType.INT32, l, rows), o.truth(dt, g, rows), rdz);
                Tolerance.elementwise(what, dt, rdz.toDoubles(), got);
            }
        }
    }

    /** Softmax rows from the reference, rounded to {@code dt}: realistic probabilities as input. */
    private static double[] probabilities(Oracle o, DType dt, double[] z, int rows, int cols) {
        try (Scope scope = Scope.open()) {
            double[] p = Softmax.softmax(o.truth(dt, z, rows, cols)).toDoubles();
            for (int i = 0; i < p.length; i++) {
                p[i] = Inputs.round(p[i], dt);
            }
            return p;
        }
    }
}
