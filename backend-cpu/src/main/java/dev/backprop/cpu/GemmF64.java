package dev.backprop.cpu;

import java.util.Arrays;

/**
 * FLOAT64 packing and C scaling shared by the scalar and the Vector API micro-kernels (packing is memory
 * movement, the same for both). Layouts are described in {@link GemmKernel}.
 */
abstract class GemmF64 extends GemmKernel<double[]> {
    GemmF64(int mr, int nr) {
        super(mr, nr);
    }

    @Override
    final double[] scratch(CpuWorkspaces.Workspace w, int slot, int size) {
        return w.doubles(slot, size);
    }

    @Override
    final double[] newArray(int size) {
        return new double[size];
    }

    @Override
    final void packA(boolean transA, double[] a, int aOff, int lda, int i0, int mc, int p0, int kc, double[] dst,
                     int dstOff) {
        int mr = this.mr;
        for (int ir = 0, panel = dstOff; ir < mc; ir += mr, panel += mr * kc) {
            int rows = Math.min(mr, mc - ir);
            if (rows < mr) {
                Arrays.fill(dst, panel, panel + mr * kc, 0.0);
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
    final void packB(boolean transB, double[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, double[] dst,
                     int dstOff) {
        int nr = this.nr;
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc) {
            int cols = Math.min(nr, nc - jr);
            if (cols < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0.0);
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
    void packRowsAt(double[] src, int[] starts, int p0, int kc, int j0, int nc, double[] dst, int dstOff) {
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc) {
            int width = Math.min(nr, nc - jr);
            if (width < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0.0);
            }
            for (int p = 0, d = panel; p < kc; p++, d += nr) {
                System.arraycopy(src, starts[p0 + p] + j0 + jr, dst, d, width);
            }
        }
    }

    @Override
    final void packLinesAt(double[] src, int[] starts, int s0, int count, int p0, int kc, int tile, double[] dst,
                           int dstOff) {
        for (int i = 0, panel = dstOff; i < count; i += tile, panel += tile * kc) {
            int lines = Math.min(tile, count - i);
            if (lines < tile) {
                Arrays.fill(dst, panel, panel + tile * kc, 0.0);
            }
            for (int t = 0; t < lines; t++) {
                for (int p = 0, d = panel + t, q = starts[s0 + i + t] + p0; p < kc; p++, d += tile) {
                    dst[d] = src[q + p];
                }
            }
        }
    }

    @Override
    final void scale(double[] c, int cOff, int ldc, int rows, int cols, double beta) {
        double f = beta;
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc;
            if (beta == 0) {
                Arrays.fill(c, row, row + cols, 0.0);
            } else {
                for (int j = 0; j < cols; j++) {
                    c[row + j] *= f;
                }
            }
        }
    }

    /** Writes an {@code mr × nr} edge tile, computed into {@code edge}, to the {@code rows × cols} part of C. */
    final void mergeEdge(double[] edge, double[] c, int cOff, int ldc, int rows, int cols, double alpha,
                         double beta) {
        double fa = alpha, fb = beta;
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc, e = i * nr;
            for (int j = 0; j < cols; j++) {
                double v = fa * edge[e + j];
                c[row + j] = beta == 0 ? v : v + fb * c[row + j];
            }
        }
    }
}
