package dev.backprop.cuda;

import jcuda.jcublas.cublasOperation;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operand swap of {@link CudaGemm}: the column-major call it plans, executed here exactly as cuBLAS
 * defines {@code gemm}/{@code gemmStridedBatched}, must give the row-major result the SPI defines, for every
 * transpose combination, padded views and batches, and must satisfy cuBLAS's argument rules (which would
 * otherwise fail with CUBLAS_STATUS_INVALID_VALUE on the GPU).
 */
class CudaGemmPlanTest {
    /** cuBLAS's definition, column-major, for one batch of {@code call}; first/second/c are whole buffers. */
    private static void cublasReference(CudaGemm.Call call, int batch, double alpha, double[] first, double[] second,
                                        double beta, double[] c, long offFirst, long offSecond, long offC) {
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < call.rows(); i++) {
                for (int j = 0; j < call.cols(); j++) {
                    double sum = 0;
                    for (int p = 0; p < call.k(); p++) {
                        long f = offFirst + b * call.strideFirst() + (call.opFirst() == cublasOperation.CUBLAS_OP_N
                                ? i + (long) p * call.ldFirst() : p + (long) i * call.ldFirst());
                        long s = offSecond + b * call.strideSecond() + (call.opSecond() == cublasOperation.CUBLAS_OP_N
                                ? p + (long) j * call.ldSecond() : j + (long) p * call.ldSecond());
                        sum += first[(int) f] * second[(int) s];
                    }
                    int ci = (int) (offC + b * call.strideC() + i + (long) j * call.ldc());
                    c[ci] = alpha * sum + (beta == 0 ? 0 : beta * c[ci]);
                }
            }
        }
    }

    /** The SPI's row-major definition (Backend#gemm). */
    private static void rowMajorReference(boolean ta, boolean tb, int m, int n, int k, int batch, double alpha,
                                          double[] a, long aOff, int lda, long sa, double[] b, long bOff, int ldb,
                                          long sb, double beta, double[] c, long cOff, int ldc, long sc) {
        for (int i = 0; i < batch; i++) {
            for (int r = 0; r < m; r++) {
                for (int col = 0; col < n; col++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double av = a[(int) (aOff + i * sa + (ta ? (long) p * lda + r : (long) r * lda + p))];
                        double bv = b[(int) (bOff + i * sb + (tb ? (long) col * ldb + p : (long) p * ldb + col))];
                        sum += bv * av;
                    }
                    int ci = (int) (cOff + i * sc + (long) r * ldc + col);
                    c[ci] = alpha * sum + (beta == 0 ? 0 : beta * c[ci]);
                }
            }
        }
    }

    private static double[] random(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(19) - 9;
        }
        return v;
    }

    /** cuBLAS's rules: dimensions ≥ 0, lda ≥ max(1, rows of the stored operand), same for ldb, ldc ≥ max(1, m). */
    private static void assertValidForCublas(CudaGemm.Call call, String what) {
        int firstRows = call.opFirst() == cublasOperation.CUBLAS_OP_N ? call.rows() : call.k();
        int secondRows = call.opSecond() == cublasOperation.CUBLAS_OP_N ? call.k() : call.cols();
        assertTrue(call.ldFirst() >= Math.max(1, firstRows), what + ": lda " + call.ldFirst() + " < " + firstRows);
        assertTrue(call.ldSecond() >= Math.max(1, secondRows), what + ": ldb " + call.ldSecond() + " < " + secondRows);
        assertTrue(call.ldc() >= Math.max(1, call.rows()), what + ": ldc " + call.ldc() + " < " + call.rows());
    }

    @Test
    void swappedColumnMajorCallComputesTheRowMajorProduct() {
        Random r = new Random(42);
        int[] sizes = {1, 2, 3, 5};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int m : sizes) {
                    for (int n : sizes) {
                        for (int k : sizes) {
                            int pad = r.nextInt(3);
                            int batch = 1 + r.nextInt(2);
                            check(r, ta, tb, m, n, k, pad, batch);
                        }
                    }
                }
            }
        }
    }

    private static void check(Random r, boolean ta, boolean tb, int m, int n, int k, int pad, int batch) {
        int lda = (ta ? m : k) + pad;
        int ldb = (tb ? k : n) + pad;
        int ldc = n + pad;
        long sa = (long) (ta ? k : m) * lda + pad;
        long sb = (long) (tb ? n : k) * ldb + pad;
        long sc = (long) m * ldc + pad;
        long aOff = r.nextInt(4), bOff = r.nextInt(4), cOff = r.nextInt(4);
        double[] a = random(r, (int) (aOff + sa * batch));
        double[] b = random(r, (int) (bOff + sb * batch));
        double[] c = random(r, (int) (cOff + sc * batch));
        double[] expected = c.clone();
        double[] actual = c.clone();
        double alpha = 1.5, beta = r.nextBoolean() ? 0.0 : -0.5;
        rowMajorReference(ta, tb, m, n, k, batch, alpha, a, aOff, lda, sa, b, bOff, ldb, sb, beta, expected, cOff,
                ldc, sc);
        CudaGemm.Call call = CudaGemm.plan(ta, tb, m, n, k, lda, ldb, ldc, sa, sb, sc);
        String what = "transA=" + ta + " transB=" + tb + " m=" + m + " n=" + n + " k=" + k + " pad=" + pad
                + " batch=" + batch;
        assertValidForCublas(call, what);
        cublasReference(call, batch, alpha, b, a, beta, actual, bOff, aOff, cOff);
        assertArrayEquals(expected, actual, what);
    }

    /**
     * The bf16 path rounds only the span of each operand that cuBLAS reads: {@link CudaGemm#firstSpan} and
     * {@link CudaGemm#secondSpan} must be one past the largest element the call reads (nothing read is left out,
     * nothing past the operand's last element is touched), for every transpose, padding and batch.
     */
    @Test
    void bf16OperandSpansEndAtTheLastElementCublasReads() {
        Random r = new Random(7);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int trial = 0; trial < 40; trial++) {
                    int m = 1 + r.nextInt(6), n = 1 + r.nextInt(6), k = 1 + r.nextInt(6), pad = r.nextInt(3);
                    int batch = 1 + r.nextInt(3);
                    int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                    long sa = (long) (ta ? k : m) * lda + pad, sb = (long) (tb ? n : k) * ldb + pad;
                    CudaGemm.Call call = CudaGemm.plan(ta, tb, m, n, k, lda, ldb, ldc, sa, sb, (long) m * ldc);
                    long first = -1, second = -1;
                    for (int bi = 0; bi < batch; bi++) {
                        for (int i = 0; i < call.rows(); i++) {
                            for (int j = 0; j < call.cols(); j++) {
                                for (int p = 0; p < call.k(); p++) {
                                    first = Math.max(first, bi * call.strideFirst() + (call.opFirst()
                                            == cublasOperation.CUBLAS_OP_N ? i + (long) p * call.ldFirst()
                                            : p + (long) i * call.ldFirst()));
                                    second = Math.max(second, bi * call.strideSecond() + (call.opSecond()
                                            == cublasOperation.CUBLAS_OP_N ? p + (long) j * call.ldSecond()
                                            : j + (long) p * call.ldSecond()));
                                }
                            }
                        }
                    }
                    String what = "transA=" + ta + " transB=" + tb + " m=" + m + " n=" + n + " k=" + k + " pad="
                            + pad + " batch=" + batch;
                    assertEquals(first + 1, CudaGemm.firstSpan(call, batch), "B's span, " + what);
                    assertEquals(second + 1, CudaGemm.secondSpan(call, batch), "A's span, " + what);
                }
            }
        }
    }
}
