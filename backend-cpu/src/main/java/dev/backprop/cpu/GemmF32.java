package dev.backprop.cpu;

import java.util.Arrays;

/**
 * FLOAT32 packing and C scaling shared by the scalar and the Vector API micro-kernels (packing is memory
 * movement, the same for both). Layouts are described in {@link GemmKernel}.
 */
abstract class GemmF32 extends GemmKernel<float[]> {
    GemmF32(int mr, int nr) {
        super(mr, nr);
    }

    @Override
    final float[] scratch(CpuWorkspaces.Workspace w, int slot, int size) {
        return w.floats(slot, size);
    }

    @Override
    final void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst,
                     int dstOff) {
        if (transA) {
            packATransposed(a, aOff + p0 * lda + i0, lda, mc, kc, dst, dstOff);
        } else {
            packARows(a, aOff + i0 * lda + p0, lda, mc, kc, dst, dstOff);
        }
    }

    /** op(A)[i][p] = a[src + i·lda + p]: each row is read contiguously. */
    private void packARows(float[] a, int src, int lda, int mc, int kc, float[] dst, int dstOff) {
        int mr = this.mr;
        for (int ir = 0, panel = dstOff; ir < mc; ir += mr, panel += mr * kc, src += mr * lda) {
            int rows = Math.min(mr, mc - ir);
            if (rows == 6 && mr == 6) {
                packA6(a, src, lda, kc, dst, panel);
                continue;
            }
            if (rows < mr) {
                Arrays.fill(dst, panel, panel + mr * kc, 0f);
            }
            for (int t = 0; t < rows; t++) {
                for (int p = 0, d = panel + t, q = src + t * lda; p < kc; p++, d += mr) {
                    dst[d] = a[q + p];
                }
            }
        }
    }

    /** op(A)[i][p] = a[src + p·lda + i]: each depth step gives {@code rows} contiguous values. */
    private void packATransposed(float[] a, int src, int lda, int mc, int kc, float[] dst, int dstOff) {
        int mr = this.mr;
        for (int ir = 0, panel = dstOff; ir < mc; ir += mr, panel += mr * kc, src += mr) {
            int rows = Math.min(mr, mc - ir);
            if (rows == 6 && mr == 6) {
                for (int d = panel, end = panel + 6 * kc, q = src; d < end; d += 6, q += lda) {
                    dst[d] = a[q];
                    dst[d + 1] = a[q + 1];
                    dst[d + 2] = a[q + 2];
                    dst[d + 3] = a[q + 3];
                    dst[d + 4] = a[q + 4];
                    dst[d + 5] = a[q + 5];
                }
                continue;
            }
            if (rows < mr) {
                Arrays.fill(dst, panel, panel + mr * kc, 0f);
            }
            for (int p = 0, d = panel, q = src; p < kc; p++, q += lda, d += mr) {
                System.arraycopy(a, q, dst, d, rows);
            }
        }
    }

    @Override
    void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst,
               int dstOff) {
        if (transB) {
            packBTransposed(b, bOff + j0 * ldb + p0, ldb, kc, nc, dst, dstOff);
        } else {
            packBRows(b, bOff + p0 * ldb + j0, ldb, kc, nc, dst, dstOff);
        }
    }

    /** op(B)[p][j] = b[src + j·ldb + p]: each column of op(B) is read contiguously. */
    private void packBTransposed(float[] b, int src, int ldb, int kc, int nc, float[] dst, int dstOff) {
        int nr = this.nr;
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc, src += nr * ldb) {
            int cols = Math.min(nr, nc - jr);
            if (cols == 16 && nr == 16) {
                packB16Transposed(b, src, ldb, kc, dst, panel);
                continue;
            }
            if (cols < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0f);
            }
            for (int t = 0; t < cols; t++) {
                for (int p = 0, d = panel + t, q = src + t * ldb; p < kc; p++, d += nr) {
                    dst[d] = b[q + p];
                }
            }
        }
    }

    /** op(B)[p][j] = b[src + p·ldb + j]: each depth step gives {@code cols} contiguous values. */
    final void packBRows(float[] b, int src, int ldb, int kc, int nc, float[] dst, int dstOff) {
        int nr = this.nr;
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc, src += nr) {
            int cols = Math.min(nr, nc - jr);
            if (cols < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0f);
            }
            for (int p = 0, d = panel, q = src; p < kc; p++, q += ldb, d += nr) {
                System.arraycopy(b, q, dst, d, cols);
            }
        }
    }

    /*
     * Full panels of the 6-row and 16-column tiles that the Vector API kernel uses: one depth step per iteration,
     * written contiguously and unrolled, instead of a strided write per element or a System.arraycopy call for
     * 6 or 16 values (measured on the MLP's operands, GB/s of packed output: A 4.0 -> 6.2, Aᵀ 4.4 -> 10.7,
     * Bᵀ 4.7 -> 5.9; the packing was a fifth of a training epoch's samples).
     */

    /** Six rows of A from {@code src} (row stride {@code lda}) into an {@code kc × 6} panel. */
    private static void packA6(float[] a, int src, int lda, int kc, float[] dst, int panel) {
        for (int p = 0, d = panel; p < kc; p++, d += 6) {
            int q = src + p;
            dst[d] = a[q];
            dst[d + 1] = a[q + lda];
            dst[d + 2] = a[q + 2 * lda];
            dst[d + 3] = a[q + 3 * lda];
            dst[d + 4] = a[q + 4 * lda];
            dst[d + 5] = a[q + 5 * lda];
        }
    }

    /** Sixteen columns of a transposed B, i.e. sixteen rows of b from {@code src}, into a {@code kc × 16} panel. */
    private static void packB16Transposed(float[] b, int src, int ldb, int kc, float[] dst, int panel) {
        for (int p = 0, d = panel; p < kc; p++, d += 16) {
            int q = src + p, r = q + 8 * ldb;
            dst[d] = b[q];
            dst[d + 1] = b[q + ldb];
            dst[d + 2] = b[q + 2 * ldb];
            dst[d + 3] = b[q + 3 * ldb];
            dst[d + 4] = b[q + 4 * ldb];
            dst[d + 5] = b[q + 5 * ldb];
            dst[d + 6] = b[q + 6 * ldb];
            dst[d + 7] = b[q + 7 * ldb];
            dst[d + 8] = b[r];
            dst[d + 9] = b[r + ldb];
            dst[d + 10] = b[r + 2 * ldb];
            dst[d + 11] = b[r + 3 * ldb];
            dst[d + 12] = b[r + 4 * ldb];
            dst[d + 13] = b[r + 5 * ldb];
            dst[d + 14] = b[r + 6 * ldb];
            dst[d + 15] = b[r + 7 * ldb];
        }
    }

    @Override
    final void scale(float[] c, int cOff, int ldc, int rows, int cols, double beta) {
        float f = (float) beta;
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc;
            if (beta == 0) {
                Arrays.fill(c, row, row + cols, 0f);
            } else {
                for (int j = 0; j < cols; j++) {
                    c[row + j] *= f;
                }
            }
        }
    }

    /** Writes an {@code mr × nr} edge tile, computed into {@code edge}, to the {@code rows × cols} part of C. */
    final void mergeEdge(float[] edge, float[] c, int cOff, int ldc, int rows, int cols, double alpha,
                         double beta) {
        float fa = (float) alpha, fb = (float) beta;
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc, e = i * nr;
            for (int j = 0; j < cols; j++) {
                float v = fa * edge[e + j];
                c[row + j] = beta == 0 ? v : v + fb * c[row + j];
            }
        }
    }
}
