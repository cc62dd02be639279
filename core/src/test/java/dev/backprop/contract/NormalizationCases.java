package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.random.Philox;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.Regularization;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Batch normalization's kernels on {@code [N, C]}, {@code [N, C, L]} and {@code [N, C, H, W]} inputs (statistics with a
 * mean far from zero, so a one-pass variance cancels; the forward pass; the backward pass with batch and with running
 * statistics), and dropout, whose kept elements and values must equal the definition exactly: the mask comes from
 * Philox4x32-10 and the scale is one multiplication in the buffer's dtype, so every backend gives the same bits.
 */
final class NormalizationCases {
    private NormalizationCases() {
    }

    /** Input shapes: channel is dimension 1. */
    static final int[][] SHAPES = {{1, 1}, {8, 6}, {17, 3, 5}, {4, 3, 5, 5}, {2, 17, 3, 7}, {32, 16, 14, 14},
            {1, 3, 1, 1}};

    private static int size(int[] d) {
        int n = 1;
        for (int x : d) {
            n *= x;
        }
        return n;
    }

    private static int positions(int[] d) {
        int s = 1;
        for (int i = 2; i < d.length; i++) {
            s *= d[i];
        }
        return s;
    }

    static Stream<DynamicTest> stats(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] d : SHAPES) {
                String what = "batchNormStats " + dt + " " + java.util.Arrays.toString(d);
                tests.add(dynamicTest(what, () -> statsCase(o, dt, d, what)));
            }
        }
        return tests.stream();
    }

    private static void statsCase(Oracle o, DType dt, int[] d, String what) {
        int c = d[1];
        double[] x = Inputs.uniform(size(d), size(d), 99, 101, dt); // mean ~100, spread ~1: cancellation bait
        try (Scope scope = Scope.open()) {
            Oracle.Placed mean = o.output(dt, 1, c), var = o.output(dt, 2, c);
            Normalization.batchNormStats(o.placed(dt, x, 3, d).view(), mean.view(), var.view());
            Tensor rm = Tensor.empty(o.reference(), DType.FLOAT64, c),
                    rv = Tensor.empty(o.reference(), DType.FLOAT64, c);
            Normalization.batchNormStats(o.truth(dt, x, d), rm, rv);
            double[] wantMean = rm.toDoubles(), wantVar = rv.toDoubles();
            double[] meanTerms = new double[c], varTerms = new double[c];
            for (int ch = 0; ch < c; ch++) {
                meanTerms[ch] = Math.abs(wantMean[ch]);
                varTerms[ch] = wantVar[ch];
            }
            Tolerance.bounded(what + " mean", dt, wantMean, mean.read(what), meanTerms);
            Tolerance.bounded(what + " var", dt, wantVar, var.read(what), varTerms);
        }
    }

    /** Per-channel parameters for a case: {mean, var, gamma, beta}, rounded to {@code dt}. */
    private static double[][] params(long seed, int c, DType dt) {
        return new double[][] {Inputs.uniform(seed, c, -2, 2, dt), Inputs.uniform(seed + 1, c, 0.2, 3, dt),
                Inputs.uniform(seed + 2, c, 0.5, 1.5, dt), Inputs.uniform(seed + 3, c, -1, 1, dt)};
    }

    static Stream<DynamicTest> forward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] d : SHAPES) {
                for (boolean inPlace : new boolean[] {false, true}) {
                    String what = "batchNormForward " + dt + " " + java.util.Arrays.toString(d)
                            + (inPlace ? " in place" : "");
                    tests.add(dynamicTest(what, () -> forwardCase(o, dt, d, inPlace, what)));
                }
            }
            tests.add(dynamicTest("batchNormForward " + dt + " constant channel", () -> constantChannelCase(o, dt)));
        }
        return tests.stream();
    }

    /**
     * A constant channel of 7 (mean 7, variance 0) and one near 1e4: y must be beta and the exact x̂, where
     * {@code a·x + (beta - a·mean)} cancels at the scale of {@code a·mean} (2.4e-4 off in FLOAT32).
     */
    private static void constantChannelCase(Oracle o, DType dt) {
        String what = "batchNormForward " + dt + " constant channel";
        double[] x = {7, 7, 10000, 10001, 7, 7, 10003, 9999};
        double[][] p = {{7, 10000.75}, {0, 2.1875}, {1, 1.5}, {0.5, -0.25}};
        double eps = 1e-5;
        try (Scope scope = Scope.open()) {
            Oracle.Placed y = o.output(dt, 1, 2, 2, 2);
            Normalization.batchNormForward(o.placed(dt, x, 0, 2, 2, 2).view(), o.actual(dt, p[0], 2),
                    o.actual(dt, p[1], 2), o.actual(dt, p[2], 2), o.actual(dt, p[3], 2), eps, y.view());
            double[] want = new double[x.length], terms = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int ch = (i / 2) % 2;
                want[i] = (x[i] - p[0][ch]) / Math.sqrt(p[1][ch] + eps) * p[2][ch] + p[3][ch];
                terms[i] = Math.abs(want[i] - p[3][ch]) + Math.abs(p[3][ch]);
            }
            Tolerance.bounded(what, dt, want, y.read(what), terms);
        }
    }

    private static void forwardCase(Oracle o, DType dt, int[] d, boolean inPlace, String what) {
        int c = d[1], s = positions(d);
        double eps = 1e-5;
        double[] x = Inputs.uniform(size(d) + 7, size(d), -3, 3, dt);
        double[][] p = params(size(d), c, dt);
        try (Scope scope = Scope.open()) {
            Oracle.Placed px = o.placed(dt, x, 2, d);
            Oracle.Placed y = inPlace ? px : o.output(dt, 1, d);
            Normalization.batchNormForward(px.view(), o.actual(dt, p[0], c), o.actual(dt, p[1], c),
                    o.actual(dt, p[2], c), o.actual(dt, p[3], c), eps, y.view());
            Tensor ry = Tensor.empty(o.reference(), DType.FLOAT64, d);
            Normalization.batchNormForward(o.truth(dt, x, d), o.truth(dt, p[0], c), o.truth(dt, p[1], c),
                    o.truth(dt, p[2], c), o.truth(dt, p[3], c), eps, ry);
            double[] terms = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int ch = (i / s) % c;
                // |x - mean|, not |x| + |mean|: the mean is subtracted before scaling, or a channel near its mean
                // (a constant one above all) loses beta to the cancellation of a·x against a·mean.
                terms[i] = Math.abs(x[i] - p[0][ch]) / Math.sqrt(p[1][ch] + eps) * Math.abs(p[2][ch])
                        + Math.abs(p[3][ch]);
            }
            Tolerance.bounded(what, dt, ry.toDoubles(), y.read(what), terms);
        }
    }

    static Stream<DynamicTest> backward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] d : SHAPES) {
                for (boolean batch : new boolean[] {true, false}) {
                    String what = "batchNormBackward " + dt + " " + java.util.Arrays.toString(d)
                            + (batch ? " batch statistics" : " running statistics");
                    tests.add(dynamicTest(what, () -> backwardCase(o, dt, d, batch, false, what)));
                }
                String what = "batchNormBackward " + dt + " " + java.util.Arrays.toString(d) + " dx in place";
                tests.add(dynamicTest(what, () -> backwardCase(o, dt, d, true, true, what)));
            }
            tests.add(dynamicTest("batchNormBackward " + dt + " near large means", () -> nearLargeMeansCase(o, dt)));
        }
        return tests.stream();
    }

    /**
     * Channels near 1e4 and 1e5 with spreads of 2e-2 and 1e-1 (exact means and variances in FLOAT32): dx is held to
     * {@code |x - mean|}, not {@code |x| + |mean|}. Folding the mean into a constant,
     * {@code a·dy + b·x + (k - b·mean)}, cancels at the scale of {@code b·mean}: FLOAT32 dx came out 13.0 for
     * 11.82.
     */
    private static void nearLargeMeansCase(Oracle o, DType dt) {
        String what = "batchNormBackward " + dt + " near large means";
        int[] d = {4, 2};
        double[] x = {1e4 + 2 / 128.0, 1e5 + 3 / 32.0, 1e4 - 1 / 128.0, 1e5 - 1 / 32.0, 1e4 + 3 / 128.0,
            1e5 + 2 / 32.0, 1e4 - 4 / 128.0, 1e5 - 4 / 32.0};
        double[] dy = {-1, 0.25, 0.5, -0.75, 1.5, 1, -0.125, 2};
        double[][] p = {{1e4, 1e5}, {7.5 / 16384, 7.5 / 1024}, {1, 1.5}};
        double eps = 1e-5, m = d[0];
        try (Scope scope = Scope.open()) {
            Oracle.Placed dx = o.output(dt, 2, d), dg = o.output(dt, 1, 2), db = o.output(dt, 3, 2);
            Normalization.batchNormBackward(o.placed(dt, x, 2, d).view(), o.placed(dt, dy, 1, d).view(),
                    o.actual(dt, p[0], 2), o.actual(dt, p[1], 2), o.actual(dt, p[2], 2), eps, true, dx.view(),
                    dg.view(), db.view());
            Tensor rdx = Tensor.empty(o.reference(), DType.FLOAT64, d);
            Tensor rdg = Tensor.empty(o.reference(), DType.FLOAT64, 2);
            Tensor rdb = Tensor.empty(o.reference(), DType.FLOAT64, 2);
            Normalization.batchNormBackward(o.truth(dt, x, d), o.truth(dt, dy, d), o.truth(dt, p[0], 2),
                    o.truth(dt, p[1], 2), o.truth(dt, p[2], 2), eps, true, rdx, rdg, rdb);
            double[] sumAbsDy = new double[2], sumAbsDyXhat = new double[2], xhat = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int ch = i % 2;
                xhat[i] = Math.abs(x[i] - p[0][ch]) / Math.sqrt(p[1][ch] + eps);
                sumAbsDy[ch] += Math.abs(dy[i]);
                sumAbsDyXhat[ch] += Math.abs(dy[i]) * xhat[i];
            }
            double[] dxTerms = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int ch = i % 2;
                dxTerms[i] = p[2][ch] / Math.sqrt(p[1][ch] + eps)
                        * (Math.abs(dy[i]) + sumAbsDy[ch] / m + xhat[i] * sumAbsDyXhat[ch] / m);
            }
            Tolerance.bounded(what + " dgamma", dt, rdg.toDoubles(), dg.read(what), sumAbsDyXhat);
            Tolerance.bounded(what + " dbeta", dt, rdb.toDoubles(), db.read(what), sumAbsDy);
            Tolerance.bounded(what + " dx", dt, rdx.toDoubles(), dx.read(what), dxTerms);
        }
    }

    private static void backwardCase(Oracle o, DType dt, int[] d, boolean batch, boolean inPlace, String what) {
        int c = d[1], s = positions(d), n = d[0];
        double eps = 1e-5, m = (double) n * s;
        double[] x = Inputs.uniform(size(d) + 11, size(d), -3, 3, dt);
        double[] dy = Inputs.uniform(size(d) + 13, size(d), -1, 1, dt);
        double[][] p = params(size(d) + 5, c, dt);
        try (Scope scope = Scope.open()) {
            Oracle.Placed pdy = o.placed(dt, dy, 1, d);
            Oracle.Placed dx = inPlace ? pdy : o.output(dt, 2, d);
            Oracle.Placed dg = o.output(dt, 1, c), db = o.output(dt, 3, c);
            Normalization.batchNormBackward(o.placed(dt, x, 2, d).view(), pdy.view(), o.actual(dt, p[0], c),
                    o.actual(dt, p[1], c), o.actual(dt, p[2], c), eps, batch, dx.view(), dg.view(), db.view());
            Tensor rdx = Tensor.empty(o.reference(), DType.FLOAT64, d);
            Tensor rdg = Tensor.empty(o.reference(), DType.FLOAT64, c),
                    rdb = Tensor.empty(o.reference(), DType.FLOAT64, c);
            Normalization.batchNormBackward(o.truth(dt, x, d), o.truth(dt, dy, d), o.truth(dt, p[0], c),
                    o.truth(dt, p[1], c), o.truth(dt, p[2], c), eps, batch, rdx, rdg, rdb);
            double[] sumAbsDy = new double[c], sumAbsDyXhat = new double[c], inv = new double[c];
            double[] dxTerms = new double[x.length];
            for (int ch = 0; ch < c; ch++) {
                inv[ch] = 1 / Math.sqrt(p[1][ch] + eps);
            }
            for (int i = 0; i < x.length; i++) {
                int ch = (i / s) % c;
                sumAbsDy[ch] += Math.abs(dy[i]);
                sumAbsDyXhat[ch] += Math.abs(dy[i]) * (Math.abs(x[i]) + Math.abs(p[0][ch])) * inv[ch];
            }
            for (int i = 0; i < x.length; i++) {
                int ch = (i / s) % c;
                double xhat = (Math.abs(x[i]) + Math.abs(p[0][ch])) * inv[ch];
                dxTerms[i] = Math.abs(p[2][ch]) * inv[ch]
                        * (Math.abs(dy[i]) + (batch ? sumAbsDy[ch] / m + xhat * sumAbsDyXhat[ch] / m : 0));
            }
            Tolerance.bounded(what + " dgamma", dt, rdg.toDoubles(), dg.read(what), sumAbsDyXhat);
            Tolerance.bounded(what + " dbeta", dt, rdb.toDoubles(), db.read(what), sumAbsDy);
            Tolerance.bounded(what + " dx", dt, rdx.toDoubles(), dx.read(what), dxTerms);
        }
    }

    static Stream<DynamicTest> dropout(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        long[] sizes = {1, 3, 4, 17, 1000, 257 * 255};
        double[] ps = {0, 0.1, 0.5, 0.9};
        for (DType dt : o.floating()) {
            for (int k = 0; k < sizes.length; k++) {
                int n = (int) sizes[k];
                double p = ps[k % ps.length];
                long seed = k == 2 ? -1L : 0x5eedL * (k + 1), offset = k == 4 ? (1L << 40) + 3 : 7L * k;
                for (boolean inPlace : new boolean[] {false, true}) {
                    String what = "dropout " + dt + " n=" + n + " p=" + p + " seed=" + seed + " offset=" + offset
                            + (inPlace ? " in place" : "");
                    tests.add(dynamicTest(what, () -> dropoutCase(o, dt, n, p, seed, offset, inPlace, what)));
                }
            }
        }
        return tests.stream();
    }

    private static void dropoutCase(Oracle o, DType dt, int n, double p, long seed, long offset, boolean inPlace,
                                    String what) {
        double[] x = Inputs.sprinkle(Inputs.uniform(n + seed, n, -4, 4, dt), 2, 97, 0);
        double scale = 1.0 / (1.0 - p);
        int threshold = Philox.threshold(p);
        int[] words = new int[n];
        Philox.words(seed, offset, words, n);
        double[] want = new double[n];
        for (int i = 0; i < n; i++) {
            boolean keep = (words[i] >>> 8) >= threshold;
            want[i] = !keep ? 0 : dt == DType.FLOAT32 ? (double) ((float) x[i] * (float) scale) : x[i] * scale;
        }
        try (Scope scope = Scope.open()) {
            Oracle.Placed px = o.placed(dt, x, 1, n);
            Oracle.Placed y = inPlace ? px : o.output(dt, 2, n);
            Regularization.dropout(px.view(), p, seed, offset, y.view());
            Tolerance.exact(what, want, y.read(what));
        }
    }
}
