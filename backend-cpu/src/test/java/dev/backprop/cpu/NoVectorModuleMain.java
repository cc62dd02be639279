package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

import java.util.ServiceLoader;

/**
 * Run by {@link NoVectorModuleTest} in a JVM started without {@code --add-modules jdk.incubator.vector}: finds
 * the provider through ServiceLoader, creates the backend with default options, checks a GEMM and an exp, and
 * prints the probe's and the backend's Vector API state; then creates two more backends, so the test can count
 * the log lines about the scalar path.
 */
public final class NoVectorModuleMain {
    private NoVectorModuleMain() {
    }

    public static void main(String[] args) {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("cpu")).findFirst().orElseThrow();
        System.out.println("probe: " + p.probe().devices().get(0).details().get("vector"));
        try (Backend b = p.create(BackendOptions.defaults())) {
            System.out.println("backend: " + b.capabilities().details().get("vector"));
            int m = 13, n = 21, k = 30;
            float[] a = new float[m * k], bm = new float[k * n], c = new float[m * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 5) - 2;
            }
            for (int i = 0; i < bm.length; i++) {
                bm[i] = (i % 3) - 1;
            }
            Buffer ba = b.allocate(DType.FLOAT32, a.length), bb = b.allocate(DType.FLOAT32, bm.length);
            Buffer bc = b.allocate(DType.FLOAT32, c.length);
            b.upload(a, 0, ba, 0, a.length);
            b.upload(bm, 0, bb, 0, bm.length);
            b.gemm(false, false, m, n, k, 1, ba, 0, k, bb, 0, n, 0, bc, 0, n, 1, 0, 0, 0);
            b.download(bc, 0, c, 0, c.length);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float want = 0;
                    for (int q = 0; q < k; q++) {
                        want += a[i * k + q] * bm[q * n + j];
                    }
                    if (want != c[i * n + j]) {
                        throw new AssertionError("gemm [" + i + ", " + j + "] = " + c[i * n + j] + ", want " + want);
                    }
                }
            }
            b.unary(UnaryOp.EXP, 0, 0, ba, 0, ba, 0, 3);
            float[] e = new float[3];
            b.download(ba, 0, e, 0, 3);
            if (Math.abs(e[2] - Math.exp(a[2])) > 1e-6 * Math.exp(a[2])) {
                throw new AssertionError("exp(" + a[2] + ") = " + e[2]);
            }
            System.out.println("results: ok");
        }
        for (int i = 0; i < 2; i++) {
            try (Backend b = p.create(BackendOptions.defaults())) {
                b.synchronize();
            }
        }
        System.out.println("backends created: 3");
    }
}
