package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
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

    /**
     * Kept panels and the one-row kernel on every kernel and path: vector and scalar, FLOAT32 and FLOAT64, one and
     * two threads, shared packing on and off, small blocks (depth tails, several row blocks), both A layouts. B holds
     * two weight matrices of one shape at two offsets with a leading dimension wider than k, and a wider one over
     * both, read in turn, so panels kept for one must never serve another. Each product must give what packing B
     * every time gives, and each row alone (one row: {@link GemmKernel#row}) what the tiles give it within a product
     * of many rows, bit for bit.
     */
    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void keptPanelsAndSingleRowsMatchTheTilesOnEveryKernelAndLayout(int threads) {
        int k = 150, ldb = k + 5;
        int[] ns = {37, 37, 50}, offsets = {0, 37 * ldb, 0};
        for (boolean vector : new boolean[] {true, false}) {
            for (String shared : new String[] {"true", "false"}) {
                for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    String[] options = {"gemm.kc", "64", "gemm.mc", "12", "gemm.shared", shared};
                    try (CpuBackend keep = CpuTesting.backend(vector, threads, options);
                         CpuBackend pack = CpuTesting.backend(vector, threads, with(options, "gemm.keep", "false",
                                 "gemm.fewrows", "false"))) {
                        double[] wv = CpuTesting.random(90, 2 * 37 * ldb, -1, 1, dtype);
                        Buffer kw = CpuTesting.upload(keep, dtype, wv), pw = CpuTesting.upload(pack, dtype, wv);
                        for (boolean ta : new boolean[] {false, true}) {
                            for (int m : new int[] {1, 7, 13, 64}) {
                                String what = (vector ? "vector " : "scalar ") + dtype + " shared=" + shared + " "
                                        + m + "x?x" + k + " transA=" + ta;
                                double[] av = CpuTesting.random(91 + m, m * k, -1, 1, dtype);
                                for (int turn : new int[] {0, 0, 0, 1, 1, 1, 2, 2, 2, 0}) {
                                    int n = ns[turn], off = offsets[turn];
                                    double[] c0 = CpuTesting.random(92 + m, m * n, -1, 1, dtype);
                                    double[] want = product(pack, dtype, ta, m, n, k, av, pw, off, ldb, c0);
                                    assertBits(what + " B at " + off, want,
                                            product(keep, dtype, ta, m, n, k, av, kw, off, ldb, c0));
                                    for (int i = 0; m > 1 && i < m; i += 3) {
                                        double[] row = rowOf(av, ta, m, k, i);
                                        double[] c0Row = Arrays.copyOfRange(c0, i * n, (i + 1) * n);
                                        assertBits(what + " row " + i + " alone", Arrays.copyOfRange(want,
                                                i * n, (i + 1) * n), product(keep, dtype, ta, 1, n, k, row, kw, off,
                                                ldb, c0Row));
                                    }
                                }
                            }
                        }
                        keep.release(kw);
                        pack.release(pw);
                    }
                }
            }
        }
    }

    /** {@code options} followed by {@code more}. */
    private static String[] with(String[] options, String... more) {
        String[] all = Arrays.copyOf(options, options.length + more.length);
        System.arraycopy(more, 0, all, options.length, more.length);
        return all;
    }

    /** Row {@code i} of {@code op(A)} for A of {@code m × k} ({@code k × m} stored when {@code ta}). */
    private static double[] rowOf(double[] a, boolean ta, int m, int k, int i) {
        double[] row = new double[k];
        for (int p = 0; p < k; p++) {
            row[p] = ta ? a[p * m + i] : a[i * k + p];
        }
        return row;
    }

    /** {@code C = -0.5·op(A)·Wᵀ + 2·C0} with W the {@code n × k} matrix at {@code off} of {@code w}. */
    private static double[] product(CpuBackend b, DType dtype, boolean ta, int m, int n, int k, double[] av,
                                    Buffer w, int off, int ldb, double[] c0) {
        Buffer a = CpuTesting.upload(b, dtype, av), c = CpuTesting.upload(b, dtype, c0);
        b.gemm(ta, true, m, n, k, -0.5, a, 0, ta ? m : k, w, off, ldb, 2, c, 0, n, 1, 0, 0, 0);
        double[] out = CpuTesting.download(b, c);
        b.release(a);
        b.release(c);
        return out;
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
