package dev.backprop.cpu;

/**
 * FLOAT32 micro-kernel on plain Java loops, for JVMs without {@code jdk.incubator.vector} (or with
 * {@code backprop.cpu.vector=false}). A 4×4 tile is 16 scalar accumulators, which the JIT keeps in registers;
 * each step of the depth loop reads 4 values of A and 4 of B for 16 multiply-adds.
 */
final class ScalarGemmF32 extends GemmF32 {
    ScalarGemmF32() {
        super(4, 4);
    }

    @Override
    int defaultMc() {
        return 128;
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
        return "scalar 4x4";
    }

    @Override
    void tile(int kc, float[] ap, int apOff, float[] bp, int bpOff, float[] c, int cOff, int ldc, int rows,
              int cols, double alpha, double beta, float[] edge) {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0, ai = apOff, bi = bpOff; p < kc; p++, ai += 4, bi += 4) {
            float a0 = ap[ai], a1 = ap[ai + 1], a2 = ap[ai + 2], a3 = ap[ai + 3];
            float b0 = bp[bi], b1 = bp[bi + 1], b2 = bp[bi + 2], b3 = bp[bi + 3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        edge[0] = c00; edge[1] = c01; edge[2] = c02; edge[3] = c03;
        edge[4] = c10; edge[5] = c11; edge[6] = c12; edge[7] = c13;
        edge[8] = c20; edge[9] = c21; edge[10] = c22; edge[11] = c23;
        edge[12] = c30; edge[13] = c31; edge[14] = c32; edge[15] = c33;
        mergeEdge(edge, c, cOff, ldc, rows, cols, alpha, beta);
    }
}
