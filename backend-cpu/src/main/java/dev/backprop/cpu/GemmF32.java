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
        int mr = this.mr;
        for (int ir = 0, panel = dstOff; ir < mc; ir += mr, panel += mr * kc) {
            int rows = Math.min(mr, mc - ir);
            if (rows < mr) {
                Arrays.fill(dst, panel, panel + mr * kc, 0f);
            }
            if (transA) {
                // op(A)[i][p] = a[p·lda + i]: each p gives rows contiguous values.
                int src = aOff + p0 * lda + i0 + ir;
                for (int p = 0, d = panel; p < kc; p++, src += lda, d += mr) {
                    System.arraycopy(a, src, dst, d, rows);
                }
            } else {
                // op(A)[i][p] = a[i·lda + p]: read each row contiguously, write with stride mr.
                for (int t = 0; t < rows; t++) {
                    int src = aOff + (i0 + ir + t) * lda + p0;
                    for (int p = 0, d = panel + t; p < kc; p++, d += mr) {
                        dst[d] = a[src + p];
                    }
                }
            }
        }
    }

    @Override
    final void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst,
                     int dstOff) {
        int nr = this.nr;
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc) {
            int cols = Math.min(nr, nc - jr);
            if (cols < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0f);
            }
            if (transB) {
                // op(B)[p][j] = b[j·ldb + p]: read each column of op(B) contiguously, write with stride nr.
                for (int t = 0; t < cols; t++) {
                    int src = bOff + (j0 + jr + t) * ldb + p0;
                    for (int p = 0, d = panel + t; p < kc; p++, d += nr) {
                        dst[d] = b[src + p];
                    }
                }
            } else {
                int src = bOff + p0 * ldb + j0 + jr;
                for (int p = 0, d = panel; p < kc; p++, src += ldb, d += nr) {
                    System.arraycopy(b, src, dst, d, cols);
                }
            }
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
