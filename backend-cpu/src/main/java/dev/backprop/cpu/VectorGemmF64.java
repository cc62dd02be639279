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
        DoubleVector c00 = DoubleVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        DoubleVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int p = 0, ai = apOff, bi = bpOff; p < kc; p++, ai += 6, bi += 2 * L) {
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
        if (rows == 6 && cols == nr) {
            double fa = alpha, fb = beta;
            boolean read = beta != 0;
            store(c00, c01, c, cOff, fa, fb, read);
            store(c10, c11, c, cOff + ldc, fa, fb, read);
            store(c20, c21, c, cOff + 2 * ldc, fa, fb, read);
            store(c30, c31, c, cOff + 3 * ldc, fa, fb, read);
            store(c40, c41, c, cOff + 4 * ldc, fa, fb, read);
            store(c50, c51, c, cOff + 5 * ldc, fa, fb, read);
            return;
        }
        int n = nr;
        c00.intoArray(edge, 0);
        c01.intoArray(edge, L);
        c10.intoArray(edge, n);
        c11.intoArray(edge, n + L);
        c20.intoArray(edge, 2 * n);
        c21.intoArray(edge, 2 * n + L);
        c30.intoArray(edge, 3 * n);
        c31.intoArray(edge, 3 * n + L);
        c40.intoArray(edge, 4 * n);
        c41.intoArray(edge, 4 * n + L);
        c50.intoArray(edge, 5 * n);
        c51.intoArray(edge, 5 * n + L);
        mergeEdge(edge, c, cOff, ldc, rows, cols, alpha, beta);
    }

    /** One full tile row: {@code C[row] = alpha·acc + beta·C[row]}, C read only when {@code read}. */
    private static void store(DoubleVector lo, DoubleVector hi, double[] c, int row, double alpha, double beta,
                              boolean read) {
        if (read) {
            DoubleVector.fromArray(S, c, row).mul(beta).add(lo.mul(alpha)).intoArray(c, row);
            DoubleVector.fromArray(S, c, row + L).mul(beta).add(hi.mul(alpha)).intoArray(c, row + L);
        } else {
            lo.mul(alpha).intoArray(c, row);
            hi.mul(alpha).intoArray(c, row + L);
        }
    }
}
