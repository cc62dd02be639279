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
    final float[] newArray(int size) {
        return new float[size];
    }

    @Override
    final void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst,
                     int dstOff) {
        if (transA) {
            packRuns(a, aOff + p0 * lda + i0, lda, mc, kc, mr, dst, dstOff);
        } else {
            packLines(a, aOff + i0 * lda + p0, lda, mc, kc, mr, dst, dstOff);
        }
    }

    @Override
    void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst,
               int dstOff) {
        if (transB) {
            packLines(b, bOff + j0 * ldb + p0, ldb, nc, kc, nr, dst, dstOff);
        } else {
            packRuns(b, bOff + p0 * ldb + j0, ldb, nc, kc, nr, dst, dstOff);
        }
    }

    /*
     * The two memory layouts an operand can have, whichever of A and B it is. Full panels of the 6-row and
     * 16-column tiles of the Vector API kernel take unrolled loops that write contiguously, instead of a strided
     * write per element or a System.arraycopy call for 6 values (GB/s of packed output on the MLP's operands:
     * rows of A 4.0 -> 7.9, Aᵀ 4.4 -> 5.7, Bᵀ 4.7 -> 5.3; packing had been a fifth of a training epoch's samples).
     */

    /**
     * {@code count} lines of {@code kc} contiguous values (line {@code i} at {@code src + i·ld}) into panels of
     * {@code tile} lines, depth-major: panel element {@code [p][t]} is value {@code p} of line {@code t}. Rows of
     * a plain A, columns of a transposed B.
     */
    static void packLines(float[] x, int src, int ld, int count, int kc, int tile, float[] dst, int dstOff) {
        for (int i = 0, panel = dstOff; i < count; i += tile, panel += tile * kc, src += tile * ld) {
            int lines = Math.min(tile, count - i);
            if (lines == 6 && tile == 6) {
                lines6(x, src, ld, kc, dst, panel);
                continue;
            }
            if (lines == tile && tile % 16 == 0) {
                for (int h = 0; h < tile; h += 16) {
                    lines16(x, src + h * ld, ld, kc, dst, panel + h, tile);
                }
                continue;
            }
            if (lines < tile) {
                Arrays.fill(dst, panel, panel + tile * kc, 0f);
            }
            for (int t = 0; t < lines; t++) {
                for (int p = 0, d = panel + t, q = src + t * ld; p < kc; p++, d += tile) {
                    dst[d] = x[q + p];
                }
            }
        }
    }

    /**
     * {@code kc} depth steps of {@code count} contiguous values (step {@code p} at {@code src + p·ld}) cut into
     * panels of {@code tile} values. Rows of a plain B, columns of a transposed A.
     */
    static void packRuns(float[] x, int src, int ld, int count, int kc, int tile, float[] dst, int dstOff) {
        for (int i = 0, panel = dstOff; i < count; i += tile, panel += tile * kc, src += tile) {
            int width = Math.min(tile, count - i);
            if (width == 6 && tile == 6) {
                for (int d = panel, end = panel + 6 * kc, q = src; d < end; d += 6, q += ld) {
                    dst[d] = x[q];
                    dst[d + 1] = x[q + 1];
                    dst[d + 2] = x[q + 2];
                    dst[d + 3] = x[q + 3];
                    dst[d + 4] = x[q + 4];
                    dst[d + 5] = x[q + 5];
                }
                continue;
            }
            if (width < tile) {
                Arrays.fill(dst, panel, panel + tile * kc, 0f);
            }
            for (int p = 0, d = panel, q = src; p < kc; p++, q += ld, d += tile) {
                System.arraycopy(x, q, dst, d, width);
            }
        }
    }

    /** Six lines from {@code src} (stride {@code ld}) into a {@code kc × 6} panel. */
    private static void lines6(float[] x, int src, int ld, int kc, float[] dst, int panel) {
        for (int p = 0, d = panel; p < kc; p++, d += 6) {
            int q = src + p;
            dst[d] = x[q];
            dst[d + 1] = x[q + ld];
            dst[d + 2] = x[q + 2 * ld];
            dst[d + 3] = x[q + 3 * ld];
            dst[d + 4] = x[q + 4 * ld];
            dst[d + 5] = x[q + 5 * ld];
        }
    }

    /**
     * Sixteen lines from {@code src} (stride {@code ld}) into sixteen columns of a panel {@code tile} wide, from
     * {@code panel}: the whole of a 16-wide panel, or half of a 32-wide one (AVX-512).
     */
    private static void lines16(float[] x, int src, int ld, int kc, float[] dst, int panel, int tile) {
        for (int p = 0, d = panel; p < kc; p++, d += tile) {
            int q = src + p, r = q + 8 * ld;
            dst[d] = x[q];
            dst[d + 1] = x[q + ld];
            dst[d + 2] = x[q + 2 * ld];
            dst[d + 3] = x[q + 3 * ld];
            dst[d + 4] = x[q + 4 * ld];
            dst[d + 5] = x[q + 5 * ld];
            dst[d + 6] = x[q + 6 * ld];
            dst[d + 7] = x[q + 7 * ld];
            dst[d + 8] = x[r];
            dst[d + 9] = x[r + ld];
            dst[d + 10] = x[r + 2 * ld];
            dst[d + 11] = x[r + 3 * ld];
            dst[d + 12] = x[r + 4 * ld];
            dst[d + 13] = x[r + 5 * ld];
            dst[d + 14] = x[r + 6 * ld];
            dst[d + 15] = x[r + 7 * ld];
        }
    }

    @Override
    void packRowsAt(float[] src, int[] starts, int p0, int kc, int j0, int nc, float[] dst, int dstOff) {
        for (int jr = 0, panel = dstOff; jr < nc; jr += nr, panel += nr * kc) {
            int width = Math.min(nr, nc - jr);
            if (width < nr) {
                Arrays.fill(dst, panel, panel + nr * kc, 0f);
            }
            for (int p = 0, d = panel; p < kc; p++, d += nr) {
                System.arraycopy(src, starts[p0 + p] + j0 + jr, dst, d, width);
            }
        }
    }

    @Override
    final void packLinesAt(float[] src, int[] starts, int s0, int count, int p0, int kc, int tile, float[] dst,
                           int dstOff) {
        for (int i = 0, panel = dstOff; i < count; i += tile, panel += tile * kc) {
            int lines = Math.min(tile, count - i);
            if (lines < tile) {
                Arrays.fill(dst, panel, panel + tile * kc, 0f);
            }
            if (lines == 6 && tile == 6) {
                lines6At(src, starts, s0 + i, p0, kc, dst, panel);
                continue;
            }
            for (int t = 0; t < lines; t++) {
                for (int p = 0, d = panel + t, q = starts[s0 + i + t] + p0; p < kc; p++, d += tile) {
                    dst[d] = src[q + p];
                }
            }
        }
    }

    /** Six lines starting where {@code starts[s .. s+6)} say into a {@code kc × 6} panel, as {@link #lines6}. */
    private static void lines6At(float[] x, int[] starts, int s, int p0, int kc, float[] dst, int panel) {
        int q0 = starts[s] + p0, q1 = starts[s + 1] + p0, q2 = starts[s + 2] + p0;
        int q3 = starts[s + 3] + p0, q4 = starts[s + 4] + p0, q5 = starts[s + 5] + p0;
        for (int p = 0, d = panel; p < kc; p++, d += 6) {
            dst[d] = x[q0 + p];
            dst[d + 1] = x[q1 + p];
            dst[d + 2] = x[q2 + p];
            dst[d + 3] = x[q3 + p];
            dst[d + 4] = x[q4 + p];
            dst[d + 5] = x[q5 + p];
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
