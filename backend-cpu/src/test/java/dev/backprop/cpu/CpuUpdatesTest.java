package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.backprop.cpu.CpuTesting.assertClose;
import static dev.backprop.cpu.CpuTesting.assertExact;

/**
 * SGD (plain, momentum, Nesterov, weight decay) and Adam/AdamW over several steps against PyTorch's formulas in
 * double; the gradient must come back unchanged. Sizes include ones split over threads.
 */
class CpuUpdatesTest {
    private static final int[] SIZES = {1, 17, 257, 70_001};

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void sgdVariants(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int n : SIZES) {
                    for (int variant = 0; variant < 4; variant++) {
                        double momentum = variant == 0 ? 0 : 0.9, wd = variant == 3 ? 0.01 : 0;
                        boolean nesterov = variant == 2;
                        double[] p = CpuTesting.random(n, n, -1, 1, dt), g = CpuTesting.random(n + 1, n, -1, 1, dt);
                        double[] v = new double[n];
                        Buffer bp = CpuTesting.upload(b, dt, p), bg = CpuTesting.upload(b, dt, g);
                        Buffer bv = momentum == 0 ? null : CpuTesting.upload(b, dt, v);
                        for (int step = 0; step < 3; step++) {
                            for (int i = 0; i < n; i++) {
                                double d = g[i] + wd * p[i];
                                if (momentum != 0) {
                                    v[i] = momentum * v[i] + d;
                                    d = nesterov ? d + momentum * v[i] : v[i];
                                }
                                p[i] -= 0.1 * d;
                            }
                            b.sgdUpdate(n, bp, 0, bg, 0, bv, 0, 0.1, momentum, wd, nesterov);
                        }
                        String what = "sgd " + dt + " n=" + n + " variant " + variant;
                        assertClose(what, p, CpuTesting.download(b, bp), CpuTesting.rel(dt));
                        if (bv != null) {
                            assertClose(what + " velocity", v, CpuTesting.download(b, bv), CpuTesting.rel(dt));
                            b.release(bv);
                        }
                        assertExact(what + " gradient untouched", g, CpuTesting.download(b, bg));
                        b.release(bp);
                        b.release(bg);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void adamAndAdamW(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int n : SIZES) {
                    for (boolean decoupled : new boolean[] {false, true}) {
                        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
                        double[] p = CpuTesting.random(n + 2, n, -1, 1, dt), m = new double[n], v = new double[n];
                        Buffer bp = CpuTesting.upload(b, dt, p), bm = CpuTesting.upload(b, dt, m);
                        Buffer bv = CpuTesting.upload(b, dt, v);
                        for (int step = 1; step <= 3; step++) {
                            double[] g = CpuTesting.random(n * 10L + step, n, -1, 1, dt);
                            for (int i = 0; i < n; i++) {
                                double gi = g[i];
                                if (decoupled) {
                                    p[i] *= 1 - lr * wd;
                                } else {
                                    gi += wd * p[i];
                                }
                                m[i] = b1 * m[i] + (1 - b1) * gi;
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                                double mh = m[i] / (1 - Math.pow(b1, step)), vh = v[i] / (1 - Math.pow(b2, step));
                                p[i] -= lr * mh / (Math.sqrt(vh) + eps);
                            }
                            Buffer bg = CpuTesting.upload(b, dt, g);
                            b.adamUpdate(n, bp, 0, bg, 0, bm, 0, bv, 0, lr, b1, b2, eps, wd, decoupled, step);
                            b.release(bg);
                        }
                        String what = (decoupled ? "adamW " : "adam ") + dt + " n=" + n;
                        assertClose(what, p, CpuTesting.download(b, bp), CpuTesting.rel(dt));
                        assertClose(what + " m", m, CpuTesting.download(b, bm), CpuTesting.rel(dt));
                        assertClose(what + " v", v, CpuTesting.download(b, bv), CpuTesting.rel(dt));
                        b.release(bp);
                        b.release(bm);
                        b.release(bv);
                    }
                }
            }
        }
    }
}
