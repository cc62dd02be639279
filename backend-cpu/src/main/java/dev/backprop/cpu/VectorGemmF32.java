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

    @Override
    void tile(int kc, float[] ap, int apOff, float[] bp, int bpOff, float[] c, int cOff, int ldc, int rows,
              int cols, double alpha, double beta, float[] edge) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int p = 0, ai = apOff, bi = bpOff; p < kc; p++, ai += 6, bi += 2 * L) {
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
        if (rows == 6 && cols == nr) {
            float fa = (float) alpha, fb = (float) beta;
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
    private static void store(FloatVector lo, FloatVector hi, float[] c, int row, float alpha, float beta,
                              boolean read) {
        if (read) {
            FloatVector.fromArray(S, c, row).mul(beta).add(lo.mul(alpha)).intoArray(c, row);
            FloatVector.fromArray(S, c, row + L).mul(beta).add(hi.mul(alpha)).intoArray(c, row + L);
        } else {
            lo.mul(alpha).intoArray(c, row);
            hi.mul(alpha).intoArray(c, row + L);
        }
    }
}
