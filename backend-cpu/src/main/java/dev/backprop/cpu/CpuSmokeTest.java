package dev.backprop.cpu;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

/**
 * The check {@link CpuBackend} runs when it is created: a small GEMM with edge tiles in both dimensions (exact in
 * float: small whole numbers) and an exp, so a kernel set that does not work on this JVM fails at creation with
 * a clear message rather than giving wrong numbers later.
 */
final class CpuSmokeTest {
    private CpuSmokeTest() {
    }

    static void run(CpuBackend b) {
        int m = 7, n = 19, k = 5;
        float[] a = new float[m * k], bm = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = i % 7 - 3;
        }
        for (int i = 0; i < bm.length; i++) {
            bm[i] = i % 5 - 2;
        }
        Buffer ba = b.allocate(DType.FLOAT32, a.length), bb = b.allocate(DType.FLOAT32, bm.length);
        Buffer bc = b.allocate(DType.FLOAT32, c.length);
        try {
            b.upload(a, 0, ba, 0, a.length);
            b.upload(bm, 0, bb, 0, bm.length);
            b.gemm(false, false, m, n, k, 1.0, ba, 0, k, bb, 0, n, 0.0, bc, 0, n, 1, 0, 0, 0);
            b.download(bc, 0, c, 0, c.length);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float want = 0;
                    for (int p = 0; p < k; p++) {
                        want += a[i * k + p] * bm[p * n + j];
                    }
                    if (c[i * n + j] != want) {
                        throw new BackendFailureException("cpu: smoke test failed: gemm gave " + c[i * n + j]
                                + " at [" + i + ", " + j + "], expected " + want + " (kernels: "
                                + b.capabilities().details() + ")");
                    }
                }
            }
            float[] x = {0f, 1f, -1f, 10f, -10f, 0.5f, 2f, -3f, 4f};
            b.upload(x, 0, ba, 0, x.length);
            b.unary(UnaryOp.EXP, 0, 0, ba, 0, bb, 0, x.length);
            float[] y = new float[x.length];
            b.download(bb, 0, y, 0, y.length);
            for (int i = 0; i < x.length; i++) {
                double want = Math.exp(x[i]);
                if (!(Math.abs(y[i] - want) <= 1e-6 * want)) {
                    throw new BackendFailureException("cpu: smoke test failed: exp(" + x[i] + ") gave " + y[i]
                            + ", expected " + want + " (kernels: " + b.capabilities().details() + ")");
                }
            }
        } finally {
            b.release(ba);
            b.release(bb);
            b.release(bc);
        }
    }
}
