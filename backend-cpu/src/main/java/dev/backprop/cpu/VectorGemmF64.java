package dev.backprop.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT64 micro-kernel on {@code jdk.incubator.vector}: a 6 × 2L register tile (L = lanes of
 * {@link DoubleVector#SPECIES_PREFERRED}: 6×8 on AVX2, 6×16 on AVX-512). Twelve vector accumulators, two B
 * vectors and one broadcast A value fit the 16 registers of AVX2; each depth step is 12 FMAs for 2 vector loads
 * and 6 scalar broadcasts, the ratio that keeps the FMA units busy rather than the load ports.
 *
 * <p>Only loaded after {@link CpuVectorApi} has found the incubator module; nothing else refers to this class.
 */
final class VectorGemmF64 extends GemmF64 {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    VectorGemmF64() {
        super(6, 2 * L);
    }

    @Override
    int defaultMc() {
        return 96;
    }

    @Override
    int defaultKc() {
        return 256;
    }

    @Override
    int defaultNc() {
        return 2048;
    }

    @Override
    String describe() {
        return "DoubleVector " + mr + "x" + nr;
    }

    @Override
    void tile(int kc, double[] ap, int apOff, double[] bp, int bpOff, double[] c, int cOff, int ldc, int rows,
              int cols, double alpha, double beta, double[] edge) {
        accumulate(kc, ap, apOff, bp, bpOff, edge);
        if (cols == nr) {
            double fa = alpha, fb = beta;
            for (int i = 0; i < rows; i++) {
                int row = cOff + i * ldc, e = i * nr;
                DoubleVector lo = DoubleVector.fromArray(S, edge, e).mul(fa);
                DoubleVector hi = DoubleVector.fromArray(S, edge, e + L).mul(fa);
                if (beta != 0) {
                    lo = DoubleVector.fromArray(S, c, row).mul(fb).add(lo);
                    hi = DoubleVector.fromArray(S, c, row + L).mul(fb).add(hi);
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
    private static void accumulate(int kc, double[] ap, int apOff, double[] bp, int bpOff, double[] acc) {
        DoubleVector c00 = DoubleVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        DoubleVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        // The B index is the loop's only induction variable: C2 then hoists the vector loads' range checks out of
        // the loop, which it does not when a separate counter drives the loop (measured 1.3-1.7x on the kernel
        // alone, JDK 17 and 25, interleaved A/B on in-cache panels; see docs/benchmarks-cpu.md).
        int ai = apOff;
        for (int bi = bpOff, end = bpOff + kc * 2 * L; bi < end; bi += 2 * L, ai += 6) {
            DoubleVector b0 = DoubleVector.fromArray(S, bp, bi);
            DoubleVector b1 = DoubleVector.fromArray(S, bp, bi + L);
            DoubleVector a = DoubleVector.broadcast(S, ap[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = DoubleVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = DoubleVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = DoubleVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = DoubleVector.broadcast(S, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = DoubleVector.broadcast(S, ap[ai + 5]);
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
