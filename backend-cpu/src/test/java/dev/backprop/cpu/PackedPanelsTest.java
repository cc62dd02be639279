package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kept GEMM panels ({@link PackedPanels}): a product on kept panels must give what packing B for that product gives
 * ({@code gemm.keep=false}) bit for bit, and any op that writes B must drop them, so the next product sees the new
 * values instead of a stale copy.
 */
class PackedPanelsTest {
    /** Row counts on both sides of the few-rows limit, of one register tile and of several row blocks. */
    private static final int[] ROWS = {1, 2, 5, 6, 8, 16, 17, 64, 150};

    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void productsOnKeptPanelsMatchPackingEveryTimeBitForBit(int threads) {
        try (CpuBackend keep = CpuTesting.backend(true, threads);
             CpuBackend pack = CpuTesting.backend(true, threads, "gemm.keep", "false")) {
            long seed = 70;
            for (int[] nk : new int[][] {{37, 5}, {256, 784}, {10, 128}, {129, 600}}) {
                for (boolean ta : new boolean[] {false, true}) {
                    for (int m : ROWS) {
                        double[] ab = m % 2 == 0 ? new double[] {1, 0} : new double[] {-0.5, 2};
                        Operands want = new Operands(pack, ta, m, nk[0], nk[1], seed);
                        Operands got = new Operands(keep, ta, m, nk[0], nk[1], seed++);
                        double[] expected = want.product(ab[0], ab[1]);
                        got.product(ab[0], ab[1]);
                        got.product(ab[0], ab[1]);
                        assertTrue(got.keptPanels(), () -> got + ": no panels kept after two products");
                        assertBits(got.toString(), expected, got.product(ab[0], ab[1]));
                        want.release();
                        got.release();
                    }
                }
            }
        }
    }

    /** Uploads, copies, fills, updates and elementwise ops that write B: each must drop the panels. */
    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void everyWriteOfBDropsItsPanels(int threads) {
        java.util.Map<String, BiConsumer<CpuBackend, Buffer>> writes = new java.util.LinkedHashMap<>();
        writes.put("upload", (b, w) -> b.upload(new float[] {0.25f, -3f}, 0, w, 7, 2));
        writes.put("fill", (b, w) -> b.fill(w, 100, 50, 0.5));
        writes.put("copy", (b, w) -> {
            Buffer src = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(9, 300, -1, 1, DType.FLOAT32));
            b.copy(src, 0, w, 40, 300);
            b.release(src);
        });
        writes.put("sgd update", (b, w) -> {
            Buffer g = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(10, (int) w.size(), -1, 1,
                    DType.FLOAT32));
            b.sgdUpdate(w.size(), w, 0, g, 0, null, 0, 0.1, 0, 0, false);
            b.release(g);
        });
        writes.put("axpby", (b, w) -> b.axpby(w.size(), 0, w, 0, 0.5, w, 0));
        for (var write : writes.entrySet()) {
            try (CpuBackend keep = CpuTesting.backend(true, threads);
                 CpuBackend pack = CpuTesting.backend(true, threads, "gemm.keep", "false")) {
                for (int m : new int[] {1, 8, 64}) {
                    Operands got = new Operands(keep, false, m, 256, 784, 80);
                    Operands want = new Operands(pack, false, m, 256, 784, 80);
                    got.product(1, 0);
                    got.product(1, 0);
                    assertTrue(got.keptPanels(), () -> got + ": no panels kept after two products");
                    write.getValue().accept(keep, got.w);
                    write.getValue().accept(pack, want.w);
                    assertFalse(got.keptPanels(), () -> write.getKey() + " of B left its panels");
                    assertBits(write.getKey() + " then " + got, want.product(1, 0), got.product(1, 0));
                    got.release();
                    want.release();
                }
            }
        }
    }

    private static void assertBits(String what, double[] want, double[] got) {
        for (int i = 0; i < want.length; i++) {
            int at = i;
            assertEquals(Double.doubleToRawLongBits(want[i]), Double.doubleToRawLongBits(got[i]),
                    () -> what + ": C[" + at + "] " + got[at] + " instead of " + want[at]);
        }
    }

    /** Seeded A, a dense layer's weights W and C on one backend, for {@code C = alpha·op(A)·Wᵀ + beta·C}. */
    private static final class Operands {
        final CpuBackend b;
        final boolean ta;
        final int m;
        final int n;
        final int k;
        final Buffer a;
        final Buffer w;
        final double[] c0;

        Operands(CpuBackend b, boolean ta, int m, int n, int k, long seed) {
            this.b = b;
            this.ta = ta;
            this.m = m;
            this.n = n;
            this.k = k;
            this.a = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed, m * k, -1, 1, DType.FLOAT32));
            this.w = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed + 1, n * k, -1, 1, DType.FLOAT32));
            this.c0 = CpuTesting.random(seed + 2, m * n, -1, 1, DType.FLOAT32);
        }

        /** C as it comes back from one product on a fresh copy of the seeded C. */
        double[] product(double alpha, double beta) {
            Buffer c = CpuTesting.upload(b, DType.FLOAT32, c0);
            b.gemm(ta, true, m, n, k, alpha, a, 0, ta ? m : k, w, 0, k, beta, c, 0, n, 1, 0, 0, 0);
            double[] out = CpuTesting.download(b, c);
            b.release(c);
            return out;
        }

        boolean keptPanels() {
            PackedPanels p = ((CpuBuffer) w).panels();
            return p != null && p.packed();
        }

        void release() {
            b.release(a);
            b.release(w);
        }

        @Override
        public String toString() {
            return m + "x" + n + "x" + k + " transA=" + ta;
        }
    }
}
