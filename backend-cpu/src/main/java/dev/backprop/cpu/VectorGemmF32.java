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
    /** Columns of C per pass of {@link #fewRows}: eight FMA chains in flight hide the FMA latency. */
    private static final int FEW_COLS = 8;

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
     * Only the one row of the tiles, four panels (eight accumulators, enough to hide the FMA latency) at a time:
     * the 6-row tiles spent five of every six FMAs on the zero rows of a single example (1 × 784 × 256 on kept
     * panels, one thread: see docs/benchmarks.md). Each accumulator runs the chain of {@link #accumulate}'s row 0
     * and is merged as {@link #tile} merges it.
     */
    @Override
    void row(int kc, float[] ap, int apOff, float[] bp, int bpOff, int nc, float[] c, int cOff, double alpha,
             double beta, float[] edge) {
        int quads = nc / (4 * nr) * 4 * nr;
        for (int jr = 0; jr < quads; jr += 4 * nr) {
            row4(kc, ap, apOff, bp, bpOff + jr * kc, c, cOff + jr, (float) alpha, (float) beta, beta != 0);
        }
        super.row(kc, ap, apOff, bp, bpOff + quads * kc, nc - quads, c, cOff + quads, alpha, beta, edge);
    }

    /** Four full panels of one row: accumulators, then {@code C = alpha·acc + beta·C} as {@link #tile}. */
    private static void row4(int kc, float[] ap, int apOff, float[] bp, int bpOff, float[] c, int cOff, float fa,
                             float fb, boolean addC) {
        int panel = kc * 2 * L;
        FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
        int ai = apOff;
        for (int bi = bpOff, end = bpOff + panel; bi < end; bi += 2 * L, ai += 6) {
            FloatVector a = FloatVector.broadcast(S, ap[ai]);
            x0 = a.fma(FloatVector.fromArray(S, bp, bi), x0);
            x1 = a.fma(FloatVector.fromArray(S, bp, bi + L), x1);
            x2 = a.fma(FloatVector.fromArray(S, bp, bi + panel), x2);
            x3 = a.fma(FloatVector.fromArray(S, bp, bi + panel + L), x3);
            x4 = a.fma(FloatVector.fromArray(S, bp, bi + 2 * panel), x4);
            x5 = a.fma(FloatVector.fromArray(S, bp, bi + 2 * panel + L), x5);
            x6 = a.fma(FloatVector.fromArray(S, bp, bi + 3 * panel), x6);
            x7 = a.fma(FloatVector.fromArray(S, bp, bi + 3 * panel + L), x7);
        }
        mergeRow(x0, c, cOff, fa, fb, addC);
        mergeRow(x1, c, cOff + L, fa, fb, addC);
        mergeRow(x2, c, cOff + 2 * L, fa, fb, addC);
        mergeRow(x3, c, cOff + 3 * L, fa, fb, addC);
        mergeRow(x4, c, cOff + 4 * L, fa, fb, addC);
        mergeRow(x5, c, cOff + 5 * L, fa, fb, addC);
        mergeRow(x6, c, cOff + 6 * L, fa, fb, addC);
        mergeRow(x7, c, cOff + 7 * L, fa, fb, addC);
    }

    /** {@code L} values of C from {@code at}: {@code alpha·acc}, plus {@code beta·C} when {@code addC}. */
    private static void mergeRow(FloatVector acc, float[] c, int at, float fa, float fb, boolean addC) {
        FloatVector v = acc.mul(fa);
        if (addC) {
            v = FloatVector.fromArray(S, c, at).mul(fb).add(v);
        }
        v.intoArray(c, at);
    }

    /** One lane per row of op(A): a product of up to {@code L} rows takes {@link #fewRows}. */
    @Override
    int fewRowsLimit() {
        return L;
    }

    @Override
    int fewRowsScratch(int k) {
        return k * L;
    }

    /**
     * op(A) packed depth-major with one lane per row ({@code ap[p·L + i]}), B's rows read in place: per depth
     * step one vector of A and one broadcast element of each of {@link #FEW_COLS} rows of B. Lane {@code i} of a
     * column's accumulator runs the FMA chain that the 6 × 2L tile runs for that element of C, from zero at each
     * depth block, and is merged into C as {@link #mergeEdge} does. A single row takes scalar FMAs instead
     * (the same chains): its vectors would hold one useful lane, and the broadcasts, not the FMAs, limited them
     * (1 × 784 × 256 with 16 lanes, one thread: 48 µs scalar against 77 µs in vectors).
     */
    @Override
    void fewRows(CpuGemm.Product<float[]> p, int kc, int j0, int j1, float[] ap, float[] acc) {
        int m = p.m(), k = p.k(), ldb = p.ldb(), lanes = m == 1 ? 1 : L;
        java.util.Arrays.fill(ap, 0, k * lanes, 0f);
        for (int i = 0; i < m; i++) {
            for (int q = 0; q < k; q++) {
                ap[q * lanes + i] = p.transA() ? p.a()[p.aOff() + q * p.lda() + i]
                        : p.a()[p.aOff() + i * p.lda() + q];
            }
        }
        float[] b = p.b();
        for (int pc = 0; pc < k; pc += kc) {
            int kq = Math.min(kc, k - pc);
            double beta = pc == 0 ? p.beta() : 1.0;
            for (int j = j0; j < j1; j += FEW_COLS) {
                int cols = Math.min(FEW_COLS, j1 - j), row = p.bOff() + j * ldb + pc;
                if (cols == FEW_COLS && m == 1) {
                    scalarColumns8(ap, pc, b, row, ldb, kq, acc);
                } else if (cols == FEW_COLS) {
                    columns8(ap, pc * L, b, row, ldb, kq, acc);
                } else {
                    for (int t = 0; t < cols; t++) {
                        column(ap, pc * lanes, lanes, b, row + t * ldb, kq, acc, t * L);
                    }
                }
                for (int t = 0; t < cols; t++) {
                    mergeColumn(acc, t * L, p.c(), p.cOff() + j + t, p.ldc(), m, p.alpha(), beta);
                }
            }
        }
    }

    /** Eight columns' accumulators over {@code kq} depth steps, B's rows from {@code row} (stride {@code ldb}). */
    private static void columns8(float[] ap, int apOff, float[] b, int row, int ldb, int kq, float[] acc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        int r0 = row, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb, r4 = r3 + ldb, r5 = r4 + ldb, r6 = r5 + ldb;
        int r7 = r6 + ldb;
        for (int q = 0; q < kq; q++) {
            FloatVector a = FloatVector.fromArray(S, ap, apOff + q * L);
            c0 = FloatVector.broadcast(S, b[r0 + q]).fma(a, c0);
            c1 = FloatVector.broadcast(S, b[r1 + q]).fma(a, c1);
            c2 = FloatVector.broadcast(S, b[r2 + q]).fma(a, c2);
            c3 = FloatVector.broadcast(S, b[r3 + q]).fma(a, c3);
            c4 = FloatVector.broadcast(S, b[r4 + q]).fma(a, c4);
            c5 = FloatVector.broadcast(S, b[r5 + q]).fma(a, c5);
            c6 = FloatVector.broadcast(S, b[r6 + q]).fma(a, c6);
            c7 = FloatVector.broadcast(S, b[r7 + q]).fma(a, c7);
        }
        c0.intoArray(acc, 0);
        c1.intoArray(acc, L);
        c2.intoArray(acc, 2 * L);
        c3.intoArray(acc, 3 * L);
        c4.intoArray(acc, 4 * L);
        c5.intoArray(acc, 5 * L);
        c6.intoArray(acc, 6 * L);
        c7.intoArray(acc, 7 * L);
    }

    /** {@link #columns8} for one row of A ({@code x}, contiguous): each column's chain in a scalar. */
    private static void scalarColumns8(float[] x, int xOff, float[] b, int row, int ldb, int kq, float[] acc) {
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
        int r0 = row, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb, r4 = r3 + ldb, r5 = r4 + ldb, r6 = r5 + ldb;
        int r7 = r6 + ldb;
        for (int q = 0; q < kq; q++) {
            float a = x[xOff + q];
            c0 = Math.fma(b[r0 + q], a, c0);
            c1 = Math.fma(b[r1 + q], a, c1);
            c2 = Math.fma(b[r2 + q], a, c2);
            c3 = Math.fma(b[r3 + q], a, c3);
            c4 = Math.fma(b[r4 + q], a, c4);
            c5 = Math.fma(b[r5 + q], a, c5);
            c6 = Math.fma(b[r6 + q], a, c6);
            c7 = Math.fma(b[r7 + q], a, c7);
        }
        acc[0] = c0;
        acc[L] = c1;
        acc[2 * L] = c2;
        acc[3 * L] = c3;
        acc[4 * L] = c4;
        acc[5 * L] = c5;
        acc[6 * L] = c6;
        acc[7 * L] = c7;
    }

    /**
     * One column's accumulator, as {@link #columns8} (or, for {@code lanes} 1, {@link #scalarColumns8}), into
     * {@code acc} from {@code accOff}.
     */
    private static void column(float[] ap, int apOff, int lanes, float[] b, int row, int kq, float[] acc,
                               int accOff) {
        if (lanes == 1) {
            float c = 0;
            for (int q = 0; q < kq; q++) {
                c = Math.fma(b[row + q], ap[apOff + q], c);
            }
            acc[accOff] = c;
            return;
        }
        FloatVector c = FloatVector.zero(S);
        for (int q = 0; q < kq; q++) {
            c = FloatVector.broadcast(S, b[row + q]).fma(FloatVector.fromArray(S, ap, apOff + q * L), c);
        }
        c.intoArray(acc, accOff);
    }

    /** {@code C[i][col] = alpha·acc[i] + beta·C[i][col]} for the first {@code m} lanes, as {@link #mergeEdge}. */
    private static void mergeColumn(float[] acc, int accOff, float[] c, int col, int ldc, int m, double alpha,
                                    double beta) {
        float fa = (float) alpha, fb = (float) beta;
        for (int i = 0; i < m; i++) {
            float v = fa * acc[accOff + i];
            int at = col + i * ldc;
            c[at] = beta == 0 ? v : v + fb * c[at];
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
