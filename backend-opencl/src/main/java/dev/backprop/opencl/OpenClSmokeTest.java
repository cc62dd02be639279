package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;

import java.util.Arrays;

/**
 * The check {@link OpenClBackendProvider#create} runs before handing out a backend: a GEMM over two tiles with
 * an edge, a softmax and a full sum, compared with values computed here. It catches drivers that build the
 * kernels but compute garbage (a miscompiled vector type, a broken local-memory path) before any user data does.
 */
final class OpenClSmokeTest {
    private OpenClSmokeTest() {
    }

    /** @throws BackendFailureException naming the first op whose result is wrong */
    static void run(OpenClBackend be, DType dtype) {
        int m = 7, k = 5, n = 19;
        double[] a = new double[m * k], b = new double[k * n], expected = new double[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7) - 3;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i % 5) - 2;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) {
                    expected[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        Buffer ba = be.allocate(dtype, a.length), bb = be.allocate(dtype, b.length), bc = be.allocate(dtype, m * n);
        Buffer sum = be.allocate(dtype, 1);
        try {
            upload(be, a, ba);
            upload(be, b, bb);
            be.gemm(false, false, m, n, k, 1.0, ba, 0, k, bb, 0, n, 0.0, bc, 0, n, 1, 0, 0, 0);
            expect("gemm", expected, download(be, bc, m * n));
            be.softmaxRows(false, m, n, bc, 0, bc, 0);
            be.reduce(ReduceOp.SUM, ReduceAxis.ALL, m, n, bc, 0, sum, 0);
            double total = download(be, sum, 1)[0];
            if (Math.abs(total - m) > 1e-3 * m) {
                throw new BackendFailureException("opencl smoke test (" + dtype + "): the softmax rows of a " + m + "x"
                        + n + " matrix sum to " + total + ", expected " + m);
            }
        } finally {
            for (Buffer x : new Buffer[] {ba, bb, bc, sum}) {
                be.release(x);
            }
        }
    }

    private static void upload(OpenClBackend be, double[] v, Buffer dst) {
        if (dst.dtype() == DType.FLOAT64) {
            be.upload(v, 0, dst, 0, v.length);
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            be.upload(f, 0, dst, 0, f.length);
        }
    }

    private static double[] download(OpenClBackend be, Buffer src, int n) {
        double[] out = new double[n];
        if (src.dtype() == DType.FLOAT64) {
            be.download(src, 0, out, 0, n);
        } else {
            float[] f = new float[n];
            be.download(src, 0, f, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }

    private static void expect(String op, double[] expected, double[] actual) {
        if (!Arrays.equals(expected, actual)) {
            throw new BackendFailureException("opencl smoke test: " + op + " gave " + Arrays.toString(actual)
                    + ", expected " + Arrays.toString(expected));
        }
    }
}
