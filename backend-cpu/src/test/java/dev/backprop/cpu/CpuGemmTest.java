package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.backprop.cpu.CpuTesting.assertWithin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GEMM against a naive triple loop in double: all transposes, tile edges, several cache blocks per dimension
 * (with deliberately tiny blocking), views with padded leading dimensions and offsets, alpha/beta (beta 0 must
 * not read C, so C starts as NaN), batches with strides, FLOAT32 and FLOAT64, in vector and scalar mode and with
 * 1, 2 and 3 threads. Elements of C outside the view must stay untouched.
 */
class CpuGemmTest {
    /** m, n, k triples: single elements, tile edges on every side, depths across several kc blocks. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {3, 17, 5}, {17, 3, 33}, {6, 32, 16}, {7, 33, 47}, {13, 50, 0}, {40, 9, 70}, {61, 45, 23},
    };

    static Stream<Arguments> modes() {
        List<Arguments> a = new ArrayList<>();
        for (boolean vector : new boolean[] {true, false}) {
            for (int threads : new int[] {1, 2, 3}) {
                a.add(Arguments.of(vector, threads));
            }
        }
        return a.stream();
    }

    /** Small products through tiny blocks (mc 12, kc 16, nc 40), so every loop level runs several times. */
    @ParameterizedTest(name = "vector={0} threads={1}")
    @MethodSource("modes")
    void blockedLoopsEdgesAndTransposes(boolean vector, int threads) {
        try (CpuBackend b = CpuTesting.backend(vector, threads, "gemm.mc", "12", "gemm.kc", "16", "gemm.nc", "40")) {
            long seed = 1;
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int[] s : SHAPES) {
                    for (int t = 0; t < 4; t++) {
                        check(b, dt, t / 2 == 1, t % 2 == 1, s[0], s[1], s[2], 1.0, 0.0, 0, 1, seed++);
                        check(b, dt, t / 2 == 1, t % 2 == 1, s[0], s[1], s[2], -0.5, 2.0, 3, 1, seed++);
                    }
                }
            }
        }
    }

    /** Default blocking, products big enough to be split over threads, plus batches. */
    @ParameterizedTest(name = "vector={0} threads={1}")
    @MethodSource("modes")
    void defaultBlockingThreadSplitsAndBatches(boolean vector, int threads) {
        try (CpuBackend b = CpuTesting.backend(vector, threads)) {
            check(b, DType.FLOAT32, false, false, 130, 257, 300, 1.0, 0.0, 0, 1, 11);
            check(b, DType.FLOAT32, true, true, 257, 70, 129, 0.25, 1.0, 5, 1, 12);
            check(b, DType.FLOAT32, false, true, 128, 256, 784, 1.0, 0.0, 0, 1, 13);
            check(b, DType.FLOAT64, true, false, 100, 140, 200, 1.5, -1.0, 2, 1, 14);
            check(b, DType.FLOAT32, false, false, 9, 20, 31, 1.0, 0.5, 1, 5, 15);
            check(b, DType.FLOAT32, true, false, 70, 80, 90, 1.0, 0.0, 0, 3, 16);
            check(b, DType.FLOAT64, false, true, 33, 17, 12, 2.0, 0.0, 3, 4, 17);
        }
    }

    /**
     * Products above the serial threshold through tiny blocks (several column, depth and row blocks per thread),
     * with shared packing on and off, so both multithreaded drivers run every loop level.
     */
    @ParameterizedTest(name = "vector={0} threads={1}")
    @MethodSource("modes")
    void threadSplitsThroughTinyBlocks(boolean vector, int threads) {
        for (String shared : new String[] {"true", "false"}) {
            try (CpuBackend b = CpuTesting.backend(vector, threads, "gemm.mc", "12", "gemm.kc", "16", "gemm.nc",
                    "40", "gemm.shared", shared)) {
                check(b, DType.FLOAT32, false, false, 70, 90, 50, 1.0, 0.0, 1, 1, 31);
                check(b, DType.FLOAT32, true, true, 67, 101, 45, -0.5, 2.0, 2, 1, 32);
                check(b, DType.FLOAT64, true, false, 90, 61, 53, 1.0, 1.0, 0, 1, 33);
            }
        }
    }

    /** From {@link CpuGemm#SHARED_SERIAL_WORK} multiply-adds up, a product on one thread takes the shared driver. */
    @Test
    void oneThreadLargeProductsThroughSharedPacking() {
        assertTrue(650L * 660 * 640 >= CpuGemm.SHARED_SERIAL_WORK, "the product below must reach the threshold");
        try (CpuBackend b = CpuTesting.backend(true, 1)) {
            check(b, DType.FLOAT32, false, false, 650, 660, 640, 1.0, 0.0, 0, 1, 41);
            check(b, DType.FLOAT32, true, true, 650, 660, 640, -0.5, 2.0, 3, 1, 42);
        }
    }

    /** The compute grid of the shared driver covers the block exactly, in whole tiles, with rows within mc. */
    @Test
    void taskGridCoversTheBlockInWholeTiles() {
        int[][] blocks = {{128, 256}, {784, 256}, {128, 784}, {1024, 1024}, {5, 7}, {6, 3000}, {2048, 2048}};
        for (int[] mn : blocks) {
            for (int threads : new int[] {1, 2, 4}) {
                SharedPackGemm.Grid g = SharedPackGemm.Grid.of(mn[0], mn[1], 6, 16, 144, threads);
                String at = mn[0] + "x" + mn[1] + " on " + threads + ": " + g;
                assertEquals(0, g.taskRows() % 6, at);
                assertEquals(0, g.taskCols() % 16, at);
                assertTrue(g.taskRows() <= 144, at);
                assertTrue(g.rowTasks() * g.taskRows() >= mn[0] && (g.rowTasks() - 1) * g.taskRows() < mn[0], at);
                assertTrue(g.colTasks() * g.taskCols() >= mn[1] && (g.colTasks() - 1) * g.taskCols() < mn[1], at);
            }
        }
        assertTrue(SharedPackGemm.Grid.of(128, 256, 6, 16, 144, 2).tasks() >= 4, "MLP forward: tasks per thread");
    }

    @Test
    void betaZeroIgnoresNaNAndZeroDepthScalesC() {
        try (CpuBackend b = CpuTesting.backend(true, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                check(b, dt, false, false, 8, 8, 0, 1.0, 0.0, 0, 1, 21);
                check(b, dt, false, false, 8, 8, 0, 1.0, -3.0, 2, 1, 22);
                check(b, dt, true, true, 20, 19, 18, 1.0, 0.0, 4, 2, 23);
            }
        }
    }

    /**
     * Runs one (batched) product with padded views: A, B, C each start at an offset and have {@code pad} extra
     * columns per row and extra elements between batch items, then compares C with the naive result.
     */
    static void check(CpuBackend b, DType dt, boolean ta, boolean tb, int m, int n, int k, double alpha,
                      double beta, int pad, int batch, long seed) {
        int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
        int lda = ac + pad, ldb = bc + pad, ldc = n + pad;
        int off = 2 * pad + 1;
        long sA = (long) ar * lda + pad, sB = (long) br * ldb + pad, sC = (long) m * ldc + pad;
        double[] a = CpuTesting.random(seed, (int) (off + sA * batch), -1, 1, dt);
        double[] bm = CpuTesting.random(seed + 1000, (int) (off + sB * batch), -1, 1, dt);
        double[] c0 = CpuTesting.random(seed + 2000, (int) (off + sC * batch), -1, 1, dt);
        if (beta == 0) {
            for (int i = 0; i < batch; i++) {
                for (int r = 0; r < m; r++) {
                    for (int j = 0; j < n; j++) {
                        c0[(int) (off + i * sC + (long) r * ldc + j)] = Double.NaN;
                    }
                }
            }
        }
        double[] want = c0.clone(), bound = new double[c0.length];
        for (int i = 0; i < batch; i++) {
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0, terms = 0;
                    for (int p = 0; p < k; p++) {
                        double x = ta ? a[(int) (off + i * sA + (long) p * lda + r)] : a[(int) (off + i * sA
                                + (long) r * lda + p)];
                        double y = tb ? bm[(int) (off + i * sB + (long) j * ldb + p)] : bm[(int) (off + i * sB
                                + (long) p * ldb + j)];
                        sum += x * y;
                        terms += Math.abs(x * y);
                    }
                    int ci = (int) (off + i * sC + (long) r * ldc + j);
                    double old = beta == 0 ? 0 : beta * c0[ci];
                    want[ci] = alpha * sum + old;
                    bound[ci] = CpuTesting.rel(dt) * (Math.abs(alpha) * terms + Math.abs(old)) + 1e-30;
                }
            }
        }
        Buffer ba = CpuTesting.upload(b, dt, a), bb = CpuTesting.upload(b, dt, bm), bc2 = CpuTesting.upload(b, dt, c0);
        b.gemm(ta, tb, m, n, k, alpha, ba, off, lda, bb, off, ldb, beta, bc2, off, ldc, batch, sA, sB, sC);
        double[] got = CpuTesting.download(b, bc2);
        assertWithin("gemm " + dt + " transA=" + ta + " transB=" + tb + " m=" + m + " n=" + n + " k=" + k
                + " alpha=" + alpha + " beta=" + beta + " pad=" + pad + " batch=" + batch, want, got, bound);
        b.release(ba);
        b.release(bb);
        b.release(bc2);
        assertEquals(0, b.memoryStats().liveBuffers());
    }

    /**
     * A product of up to a vector's lanes of rows with a transposed B reads B in place instead of packing it; C must
     * be what the packed tiles give ({@code gemm.fewrows=false}) bit for bit, or one example would not predict what
     * it predicts in a batch. Depths across several kc blocks, alpha/beta, both layouts of A, column counts off the
     * 8-column step, 1 and 2 threads.
     */
    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2})
    void fewRowsMatchThePackedTilesBitForBit(int threads) {
        int lanes = 16;     // the most FLOAT32 lanes (AVX-512)
        try (CpuBackend few = CpuTesting.backend(true, threads);
             CpuBackend packed = CpuTesting.backend(true, threads, "gemm.fewrows", "false")) {
            long seed = 50;
            for (int[] nk : new int[][] {{37, 5}, {256, 784}, {10, 128}, {129, 600}}) {
                for (boolean ta : new boolean[] {false, true}) {
                    for (int m = 1; m <= lanes; m++) {
                        double[] ab = m % 2 == 0 ? new double[] {1, 0} : new double[] {-0.5, 2};
                        double[] want = product(packed, ta, m, nk[0], nk[1], ab[0], ab[1], seed);
                        double[] got = product(few, ta, m, nk[0], nk[1], ab[0], ab[1], seed++);
                        for (int i = 0; i < want.length; i++) {
                            int at = i, rows = m, n = nk[0];
                            String what = "C[" + at / n + "][" + at % n + "] of " + rows + "x" + n + "x" + nk[1]
                                    + " transA=" + ta + " alpha=" + ab[0] + " beta=" + ab[1];
                            assertEquals(Double.doubleToRawLongBits(want[i]), Double.doubleToRawLongBits(got[i]),
                                    () -> what + ": " + got[at] + " instead of " + want[at]);
                        }
                    }
                }
            }
        }
    }

    /** {@code C = alpha·op(A)·Bᵀ + beta·C} for seeded operands, C as it comes back. */
    private static double[] product(CpuBackend b, boolean ta, int m, int n, int k, double alpha, double beta,
                                    long seed) {
        Buffer a = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed, m * k, -1, 1, DType.FLOAT32));
        Buffer w = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed + 1, n * k, -1, 1, DType.FLOAT32));
        Buffer c = CpuTesting.upload(b, DType.FLOAT32, CpuTesting.random(seed + 2, m * n, -1, 1, DType.FLOAT32));
        b.gemm(ta, true, m, n, k, alpha, a, 0, ta ? m : k, w, 0, k, beta, c, 0, n, 1, 0, 0, 0);
        double[] out = CpuTesting.download(b, c);
        for (Buffer x : new Buffer[] {a, w, c}) {
            b.release(x);
        }
        return out;
    }

    @Test
    void gridSplitPrefersTheCheaperRepacking() {
        // 2 chunks, m = 128 < n = 784: splitting columns repacks A (128·k) instead of B (784·k).
        assertEquals(1, CpuGemm.splitRows(2, 22, 49, 128, 784));
        // 2 chunks, m = 784 > n = 256: split rows.
        assertEquals(2, CpuGemm.splitRows(2, 131, 16, 784, 256));
        // 4 chunks on a square product: a 2 × 2 grid.
        assertEquals(2, CpuGemm.splitRows(4, 100, 50, 600, 800));
        // Only one column tile: all chunks go to rows.
        assertEquals(3, CpuGemm.splitRows(3, 10, 1, 60, 5));
    }
}
