package dev.backprop.cpu;

/**
 * The dtype- and instruction-set-specific pieces of the blocked GEMM that {@link CpuGemm} drives: packing of
 * operand panels and the register-blocked micro-kernel. {@code A} is the array type ({@code float[]} or
 * {@code double[]}).
 *
 * <h2>Packed layouts</h2>
 * <ul>
 *   <li>A block of {@code op(A)} ({@code mc × kc}) is stored as {@code ceil(mc/mr)} row panels of {@code mr}
 *       rows; inside a panel, column {@code p} holds its {@code mr} values contiguously:
 *       {@code ap[panel·mr·kc + p·mr + t] = op(A)[i0 + panel·mr + t][p0 + p]}. Rows past {@code mc} are zero,
 *       so the micro-kernel never branches on edges.</li>
 *   <li>A block of {@code op(B)} ({@code kc × nc}) is stored as {@code ceil(nc/nr)} column panels of {@code nr}
 *       columns: {@code bp[panel·nr·kc + p·nr + t] = op(B)[p0 + p][j0 + panel·nr + t]}, zero-padded.</li>
 * </ul>
 * Transposes are absorbed here: the micro-kernel sees the same layout for all four combinations.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
abstract class GemmKernel<A> {
    /** Rows of the register tile. */
    final int mr;
    /** Columns of the register tile. */
    final int nr;

    GemmKernel(int mr, int nr) {
        this.mr = mr;
        this.nr = nr;
    }

    /** Default cache blocking for this kernel: rows of op(A) per L2 block, depth per L1 panel, columns per L3 block. */
    abstract int defaultMc();

    abstract int defaultKc();

    abstract int defaultNc();

    /** A scratch array of at least {@code size} elements from slot {@code slot} of {@code w}. */
    abstract A scratch(CpuWorkspaces.Workspace w, int slot, int size);

    /** A new array of {@code size} elements, for panels kept beyond one call ({@link PackedPanels}). */
    abstract A newArray(int size);

    /**
     * The edge-tile scratch for {@link #tile}: {@code mr·nr} elements plus 32 unused ones at the end. Every tile
     * writes and reads its accumulators there; each thread has its own array, and after a garbage collection
     * packs long-lived objects together, two threads' arrays can end up side by side in memory. The unused tail
     * keeps the written parts at least two cache lines apart, so the cores do not pass a line back and forth
     * once per tile. Measured effect, 2 threads: 0.96-1.09x in one interleaved run, 1.05-1.17x at n = 512 in
     * separate runs with a forced collection (docs/benchmarks-cpu.md); false sharing can only cost.
     */
    final A edgeScratch(CpuWorkspaces.Workspace w) {
        return scratch(w, CpuWorkspaces.TILE, mr * nr + 32);
    }

    /** Packs {@code op(A)[i0 .. i0+mc)[p0 .. p0+kc)} into {@code dst} from element {@code dstOff} (layout above). */
    abstract void packA(boolean transA, A a, int aOff, int lda, int i0, int mc, int p0, int kc, A dst, int dstOff);

    /** Packs {@code op(B)[p0 .. p0+kc)[j0 .. j0+nc)} into {@code dst} from element {@code dstOff} (layout above). */
    abstract void packB(boolean transB, A b, int bOff, int ldb, int p0, int kc, int j0, int nc, A dst, int dstOff);

    /**
     * Packs a {@code kc × nc} block of a B whose rows lie anywhere in {@code src} (layout above):
     * {@code op(B)[p][j] = src[starts[p0 + p] + j0 + j]}. A convolution reads its image this way: each depth row is
     * one tap of one channel, a run of the padded image, so no im2col matrix is written ({@link CpuConvolution}).
     */
    abstract void packRowsAt(A src, int[] starts, int p0, int kc, int j0, int nc, A dst, int dstOff);

    /**
     * Packs {@code count} lines that are runs of {@code src} along the depth into panels of {@code tile} lines
     * ({@code mr} for an A block, {@code nr} for a B block; layouts above): value {@code p} of line {@code t} is
     * {@code src[starts[s0 + t] + p0 + p]}. A convolution's image rows as the A of its weight gradient.
     */
    abstract void packLinesAt(A src, int[] starts, int s0, int count, int p0, int kc, int tile, A dst, int dstOff);

    /**
     * One register tile: {@code C[0..rows)[0..cols) = alpha · Ap·Bp + beta · C} for a packed A panel at
     * {@code apOff} and a packed B panel at {@code bpOff}, both {@code kc} deep. {@code C} starts at
     * {@code cOff} with row stride {@code ldc}; {@code rows ≤ mr}, {@code cols ≤ nr}. With {@code beta == 0}, C
     * is only written. {@code edge} is a scratch array of {@code mr·nr} elements for partial tiles.
     */
    abstract void tile(int kc, A ap, int apOff, A bp, int bpOff, A c, int cOff, int ldc, int rows, int cols,
                       double alpha, double beta, A edge);

    /**
     * {@link #tile} for a single row of C against {@code nc} columns of packed B panels from {@code bpOff} (one
     * after another, each {@code kc·nr} long): {@code ap} is an A panel whose other rows are zero. This default runs
     * the tiles; a kernel may compute only the one row, with the same FMA chain per element.
     */
    void row(int kc, A ap, int apOff, A bp, int bpOff, int nc, A c, int cOff, double alpha, double beta, A edge) {
        for (int jr = 0; jr < nc; jr += nr) {
            tile(kc, ap, apOff, bp, bpOff + jr * kc, c, cOff + jr, 0, 1, Math.min(nr, nc - jr), alpha, beta, edge);
        }
    }

    /**
     * Rows of {@code op(A)} up to which a product with a transposed B goes to {@link #fewRows} instead of the
     * packed tiles; 0 where the kernel has no such path. A product of a few rows uses each element of B once, so
     * packing B, which reads and writes all of it, costs as much as the product itself (a dense layer's forward
     * pass on one example: 784 × 256 weights packed for 784 × 256 multiply-adds).
     */
    int fewRowsLimit() {
        return 0;
    }

    /**
     * {@code C[0, m)[j0, j1) = alpha · op(A)·Bᵀ + beta · C} for {@code m ≤ }{@link #fewRowsLimit()}, reading the
     * rows of B where they are, with the same arithmetic per element as {@link #tile} over depth blocks of
     * {@code kc} (beta on the first, 1 on the others), so the result is the packed path's, bit for bit.
     * {@code ap} and {@code acc} are scratch arrays of at least {@link #fewRowsScratch} and {@code mr·nr}
     * elements.
     */
    void fewRows(CpuGemm.Product<A> p, int kc, int j0, int j1, A ap, A acc) {
        throw new UnsupportedOperationException(describe() + " has no path for products of a few rows");
    }

    /** Elements of the {@code ap} scratch {@link #fewRows} needs for depth {@code k}. */
    int fewRowsScratch(int k) {
        return 0;
    }

    /** {@code C = beta · C} over {@code rows × cols} at {@code cOff} (stride {@code ldc}); beta 0 writes zeros. */
    abstract void scale(A c, int cOff, int ldc, int rows, int cols, double beta);

    /** A one-line description for capability details, e.g. {@code FloatVector 6x16}. */
    abstract String describe();
}
