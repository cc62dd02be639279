package dev.backprop.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 micro-kernel on {@code jdk.incubator.vector}: a 6 × 2L register tile (L = lanes of
 * {@link FloatVector#SPECIES_PREFERRED}: 6×16 on AVX2, 6×32 on AVX-512). Twelve vector accumulators, two B
 * vectors and one broadcast A value fit the 16 registers of AVX2; each depth step is 12 FMAs for 2 vector loads
 * and 6 scalar broadcasts, the ratio that keeps the FMA units busy rather than the load ports.
 *
 * <p>Only loaded after {@link CpuVectorApi} has found the incubator module; nothing else refers to this class.
 */
final class VectorGemmF32 extends GemmF32 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    VectorGemmF32() {
        super(6, 2 * L);
    }

    @Override
    int defaultMc() {
        return 144;
    }

    @Override
    int defaultKc() {
        return 256;
    }

    @Override
    int defaultNc() {
        return 3072;
    }

    @Override
    String describe() {
        return "FloatVector " + mr + "x" + nr;
    }

    /**
     * Row-major B with a full panel: two vector moves per depth step instead of a {@code System.arraycopy} call
     * for {@code nr} values (24 against 11 GB/s of packed output on the MLP's operands).
     */
    @Override
    void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst,
               int dstOff) {
        if (transB) {
            super.packB(true, b, bOff, ldb, p0, kc, j0, nc, dst, dstOff);
            return;
        }
        int full = nc / nr * nr, src = bOff + p0 * ldb + j0;
        for (int jr = 0, panel = dstOff; jr < full; jr += nr, panel += nr * kc) {
            for (int d = panel, end = panel + kc * nr, q = src + jr; d < end; d += nr, q += ldb) {
                FloatVector.fromArray(S, b, q).intoArray(dst, d);
                FloatVector.fromArray(S, b, q + L).intoArray(dst, d + L);
            }
        }
        if (full < nc) {
            packRuns(b, src + full, ldb, nc - full, kc, nr, dst, dstOff + full * kc);
        }
    }

    /** Full panels as two vector moves per depth step, as {@link #packB}. */
    @Override
    void packRowsAt(float[] src, int[] starts, int p0, int kc, int j0, int nc, float[] dst, int dstOff) {
        int full = nc / nr * nr;
        for (int jr = 0, panel = dstOff; jr < full; jr += nr, panel += nr * kc) {
            for (int p = 0, d = panel; p < kc; p++, d += nr) {
                int q = starts[p0 + p] + j0 + jr;
                FloatVector.fromArray(S, src, q).intoArray(dst, d);
                FloatVector.fromArray(S, src, q + L).intoArray(dst, d + L);
            }
        }
        if (full < nc) {
            super.packRowsAt(src, starts, p0, kc, j0 + full, nc - full, dst, dstOff + full * kc);
        }
    }

    @Override
    void tile(int kc, float[] ap, int apOff, float[] bp, int bpOff, float[] c, int cOff, int ldc, int rows,
              int cols, double alpha, double beta, float[] edge) {
        accumulate(kc, ap, apOff, bp, bpOff, edge);
        if (cols == nr) {
            float fa = (float) alpha, fb = (float) beta;
            for (int i = 0; i < rows; i++) {
                int row = cOff + i * ldc, e = i * nr;
                FloatVector lo = FloatVector.fromArray(S, edge, e).mul(fa);
                FloatVector hi = FloatVector.fromArray(S, edge, e + L).mul(fa);
                if (beta != 0) {
                    lo = FloatVector.fromArray(S, c, row).mul(fb).add(lo);
                    hi = FloatVector.fromArray(S, c, row + L).mul(fb).add(hi);
                }
                lo.intoArray(c, row);
                hi.intoArray(c, row + L);
            }
        } else {
            mergeEdge(edge, c, cOff, ldc, rows, cols, alpha, beta);
        }
    }

    /**
     * The register tile itself: {@code acc = Ap·Bp} over depth {@code kc}, stored row-major ({@code mr × nr}) into
     * {@code acc}. Kept apart from the C update so this loop compiles the same whatever edge cases the caller
     * has seen (a branch on the tile shape after the loop made C2 keep the accumulators boxed).
     */
    private static void accumulate(int kc, float[] ap, int apOff, float[] bp, int bpOff, float[] acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        // The B index is the loop's only induction variable: C2 then hoists the vector loads' range checks out of
        // the loop, which it does not when a separate counter drives the loop (measured 1.3-1.7x on the kernel
        // alone, JDK 17 and 25, interleaved A/B on in-cache panels; see docs/benchmarks-cpu.md).
        int ai = apOff;
        for (int bi = bpOff, end = bpOff + kc * 2 * L; bi < end; bi += 2 * L, ai += 6) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a = FloatVector.broadcast(S, ap[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        int n = 2 * L;
        c00.intoArray(acc, 0);
        c01.intoArray(acc, L);
        c10.intoArray(acc, n);
        c11.intoArray(acc, n + L);
        c20.intoArray(acc, 2 * n);
        c21.intoArray(acc, 2 * n + L);
        c30.intoArray(acc, 3 * n);
        c31.intoArray(acc, 3 * n + L);
        c40.intoArray(acc, 4 * n);
        c41.intoArray(acc, 4 * n + L);
        c50.intoArray(acc, 5 * n);
        c51.intoArray(acc, 5 * n + L);
    }
}
