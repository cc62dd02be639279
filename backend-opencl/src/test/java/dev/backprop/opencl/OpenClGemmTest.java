package dev.backprop.opencl;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Both GEMM kernel variants (packed, the CPU default, and tiled, the GPU default) on PoCL, against a float64
 * product computed here: every transpose pair, edge sizes 1, 17, 257 and 1000 (in each of m, n, k) around the tile
 * sizes, views (leading dimensions larger than the row, element offsets), batches with strides, alpha/beta,
 * {@code k == 0}, and {@code beta == 0} ignoring NaN in C. Tolerance as in the contract: {@code 1e-5·Σ|a·b|} per
 * element (FLOAT64: 1e-11).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClGemmTest {
    private final List<OpenClBackend> backends = new ArrayList<>();

    @BeforeAll
    void create() {
        backends.add(OpenClTestSupport.create(Map.of("gemm", "packed")));
        backends.add(OpenClTestSupport.create(Map.of("gemm", "tiled")));
    }

    @AfterAll
    void close() {
        backends.forEach(OpenClBackend::close);
    }

    /** One GEMM call: op(A) m×k, op(B) k×n, padding of the leading dimensions, offsets and batch. */
    record Case(boolean ta, boolean tb, int m, int n, int k, double alpha, double beta, int pad, int offset,
                int batch) {
        @Override
        public String toString() {
            return String.format("%s%s m=%d n=%d k=%d alpha=%s beta=%s pad=%d offset=%d batch=%d", ta ? "T" : "N",
                    tb ? "T" : "N", m, n, k, alpha, beta, pad, offset, batch);
        }
    }

    @TestFactory
    Stream<DynamicTest> gemm() {
        List<Case> cases = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {17, 17, 17}, {1, 257, 17}, {257, 1, 33}, {33, 257, 1}, {257, 17, 257},
                {200, 130, 70}, {193, 129, 65}};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] s : shapes) {
                    cases.add(new Case(ta, tb, s[0], s[1], s[2], 1.0, 0.0, 0, 0, 1));
                }
                cases.add(new Case(ta, tb, 37, 45, 29, -0.5, 0.75, 3, 5, 1));
                cases.add(new Case(ta, tb, 19, 33, 70, 2.0, 1.0, 0, 7, 3));
                cases.add(new Case(ta, tb, 9, 11, 0, 1.0, 0.5, 1, 2, 2));
            }
        }
        cases.add(new Case(false, false, 1000, 1000, 257, 1.0, 0.0, 0, 0, 1));
        cases.add(new Case(true, true, 17, 33, 1000, 1.0, 0.0, 0, 0, 1));
        cases.add(new Case(true, false, 1000, 17, 257, 1.0, 0.0, 0, 0, 1));
        cases.add(new Case(false, true, 17, 1000, 257, 1.0, 0.0, 0, 0, 1));
        List<DynamicTest> tests = new ArrayList<>();
        for (OpenClBackend be : backends) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                if (dt == DType.FLOAT64 && !be.capabilities().float64()) {
                    continue;
                }
                String variant = be.gemmConfig(dt).variant().name().toLowerCase();
                for (Case c : cases) {
                    tests.add(DynamicTest.dynamicTest(variant + " " + dt + " " + c, () -> check(be, dt, c)));
                }
            }
        }
        return tests.stream();
    }

    private static void check(OpenClBackend be, DType dt, Case c) {
        int aRows = c.ta() ? c.k() : c.m(), aCols = c.ta() ? c.m() : c.k();
        int bRows = c.tb() ? c.n() : c.k(), bCols = c.tb() ? c.k() : c.n();
        int lda = aCols + c.pad(), ldb = bCols + c.pad(), ldc = c.n() + c.pad();
        long strideA = (long) aRows * lda + c.pad(), strideB = (long) bRows * ldb, strideC = (long) c.m() * ldc + 1;
        Random rnd = new Random(31L * c.hashCode() + dt.ordinal());
        double[] a = random(rnd, c.offset() + strideA * c.batch());
        double[] b = random(rnd, c.offset() + strideB * c.batch());
        double[] cIn = random(rnd, c.offset() + strideC * c.batch());
        if (c.beta() == 0) {
            java.util.Arrays.fill(cIn, Double.NaN); // must not leak into the result
        }
        double[] expected = cIn.clone(), terms = new double[cIn.length];
        boolean[] written = new boolean[cIn.length];
        for (int z = 0; z < c.batch(); z++) {
            // op(A) as m x k and op(B) transposed as n x k, so every dot product below runs along rows
            double[] opA = new double[c.m() * c.k()], opBt = new double[c.n() * c.k()];
            for (int p = 0; p < c.k(); p++) {
                for (int i = 0; i < c.m(); i++) {
                    opA[i * c.k() + p] = a[(int) (c.offset() + z * strideA
                            + (c.ta() ? (long) p * lda + i : (long) i * lda + p))];
                }
                for (int j = 0; j < c.n(); j++) {
                    opBt[j * c.k() + p] = b[(int) (c.offset() + z * strideB
                            + (c.tb() ? (long) j * ldb + p : (long) p * ldb + j))];
                }
            }
            for (int i = 0; i < c.m(); i++) {
                for (int j = 0; j < c.n(); j++) {
                    double s = 0, t = 0;
                    for (int p = 0; p < c.k(); p++) {
                        double prod = opA[i * c.k() + p] * opBt[j * c.k() + p];
                        s += prod;
                        t += Math.abs(prod);
                    }
                    int ci = (int) (c.offset() + z * strideC + (long) i * ldc + j);
                    double old = c.beta() == 0 ? 0 : c.beta() * cIn[ci];
                    expected[ci] = c.alpha() * s + old;
                    terms[ci] = Math.abs(c.alpha()) * t + Math.abs(old) + Double.MIN_NORMAL;
                    written[ci] = true;
                }
            }
        }
        Buffer ba = upload(be, dt, a), bb = upload(be, dt, b), bc = upload(be, dt, cIn);
        try {
            be.gemm(c.ta(), c.tb(), c.m(), c.n(), c.k(), c.alpha(), ba, c.offset(), lda, bb, c.offset(), ldb, c.beta(),
                    bc, c.offset(), ldc, c.batch(), strideA, strideB, strideC);
            double[] got = download(be, bc);
            double tol = dt == DType.FLOAT64 ? 1e-11 : 1e-5;
            for (int i = 0; i < got.length; i++) {
                if (!written[i]) {
                    assertEquals(expected[i], got[i], 0.0, "element " + i + " outside C was modified");
                } else if (!(Math.abs(got[i] - expected[i]) <= tol * terms[i])) {
                    fail("element " + i + ": got " + got[i] + ", expected " + expected[i] + " (allowed "
                            + tol * terms[i] + ")");
                }
            }
            assertTrue(got.length > 0);
        } finally {
            be.release(ba);
            be.release(bb);
            be.release(bc);
        }
    }

    private static double[] random(Random rnd, long n) {
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1); // representable in float32 so both dtypes see the same input
        }
        return v;
    }

    static Buffer upload(OpenClBackend be, DType dt, double[] v) {
        Buffer buf = be.allocate(dt, v.length);
        if (dt == DType.FLOAT64) {
            be.upload(v, 0, buf, 0, v.length);
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            be.upload(f, 0, buf, 0, f.length);
        }
        return buf;
    }

    static double[] download(OpenClBackend be, Buffer buf) {
        int n = (int) buf.size();
        double[] out = new double[n];
        if (buf.dtype() == DType.FLOAT64) {
            be.download(buf, 0, out, 0, n);
        } else {
            float[] f = new float[n];
            be.download(buf, 0, f, 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }
}
