package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.OpFamilies;

/**
 * GEMM for the cpu backend: a Goto/BLIS-style blocked driver around the register-blocked micro-kernels of a
 * {@link GemmKernel} (Vector API or scalar, FLOAT32 or FLOAT64).
 *
 * <h2>Blocking</h2>
 * For one C block the loops are, from the outside in: {@code jc} over columns in steps of {@code nc} (the
 * packed B block, {@code kc × nc}, is sized for L3), {@code pc} over the depth in steps of {@code kc} (B is
 * packed once per (jc, pc)), {@code ic} over rows in steps of {@code mc} (the packed A block, {@code mc × kc},
 * is sized for L2), then {@code jr}/{@code ir} over register tiles, where one {@code kc × nr} B panel stays in L1
 * while the A panels stream past it. beta is applied on the first depth block only; later blocks accumulate.
 * Defaults come from the kernel and can be overridden with {@code backprop.cpu.gemm.mc/kc/nc}.
 *
 * <p>Why FLOAT32 {@code mc 144, kc 256, nc 3072} (with the 6 × 16 AVX2 tile of a JVM that sees no AVX-512): a
 * packed B micro-panel is {@code kc·nr·4} = 16 KiB, half the 32 KiB L1, leaving room
 * for the A panel streaming past it; the packed A block is {@code mc·kc·4} = 144 KiB of the 1 MiB L2; the B
 * block {@code kc·nc·4} = 3 MiB sits in the 32 MiB L3 shared by both cores. Measured at n = 1024 on 1 thread
 * (GFLOP/s per second of the caller's CPU time, which tolerates a shared machine's load): kc 256 gave 49.7
 * against 41.4 for kc 128; the other two sizes rest on the cache arithmetic above. {@code GemmPairs} (benchmarks
 * module) compares settings interleaved: {@code GemmPairs 1 24 1024 cpu "cpu:gemm.kc=128"}.
 *
 * <h2>Threads</h2>
 * One product on several threads goes to {@link SharedPackGemm}: A and B are packed once, by all threads
 * together, into buffers every thread reads, and C is cut into several tasks per thread that threads claim as
 * they become free (so a thread delayed by another process on the machine does not stall the product). Only a
 * product whose packed operands would exceed {@link #SHARED_LIMIT} elements falls back to a {@code tm × tn}
 * grid of independent blocks, one per chunk, each packing what it needs into its own workspace (the split goes
 * along the dimension whose repacking is cheaper). A batch with at least as many items as threads is split by
 * item instead. Products under {@link #SERIAL_WORK} multiply-adds run on the caller alone, with the blocked loops
 * above up to {@link #SHARED_SERIAL_WORK} and through {@link SharedPackGemm} (on one thread) from there.
 *
 * <h2>Few rows</h2>
 * A product with a transposed B (a dense layer's {@code X·Wᵀ}) and no more rows than the kernel's
 * {@link GemmKernel#fewRowsLimit()} (inference on a few examples) skips the packing: each element of B is used by
 * those few rows only, so packing it cost as much as the product. Measured on one thread, interleaved in one JVM
 * ({@code GemmPairs 1 16 1x784x256:NT,8x784x256:NT cpu:gemm.fewrows=false cpu}): 1 × 784 × 256 2.8 against 8.6
 * GFLOP/s, 8 rows 18.9 against 34.2. Its columns are split over threads as the blocked loops' are.
 *
 * <h2>Kept panels</h2>
 * A transposed B read by two products with nothing written in between keeps its packed panels on its buffer
 * ({@link PackedPanels}): a predictor's weights are packed once, not per request, and only A is packed per
 * product. Such products take the packed tiles at any row count (one row takes {@link GemmKernel#row}), so
 * they give what packing B every time gives, bit for bit.
 */
final class CpuGemm implements OpFamilies.Gemm<CpuBuffer> {
    /** Multiply-adds below which a product is not worth handing to another thread (about 64³). */
    static final long SERIAL_WORK = 1L << 18;
    /**
     * Elements of packed A and B (together) up to which a multithreaded product packs both whole and shares them
     * ({@link SharedPackGemm}); 2^25 floats is 128 MiB, past n = 4096 square. Larger products use per-chunk
     * blocks instead, which need only {@code mc·kc + kc·nc} per thread.
     */
    static final long SHARED_LIMIT = 1L << 25;
    /**
     * Multiply-adds from which even a product on one thread goes through {@link SharedPackGemm} (about 645³):
     * packing A whole and B per column block lets each C block stay in L2 across all depth blocks, where the
     * serial Goto loop sweeps all of C once per depth block. Measured on 1 thread, interleaved in one JVM: n =
     * 1024 1.05x, 2048 1.12x, 256 and 512 unchanged (0.98-1.01x), hence the threshold between them.
     */
    static final long SHARED_SERIAL_WORK = 1L << 28;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final Plan<float[]> f32;
    private final Plan<double[]> f64;
    /** The shared-packing driver for one product on several threads, or null where turned off. */
    private final SharedPackGemm shared;
    /** Whether products of a few rows read B in place ({@link GemmKernel#fewRows}) where the kernel can. */
    private final boolean fewRowsInPlace;
    /** Whether a transposed B read twice unchanged keeps its packed panels ({@link PackedPanels}). */
    private final boolean keepPanels;
    /** The bound on kept panels' bytes ({@code gemm.keep.limit}) and their count. */
    private final PanelBudget panelBudget;

    CpuGemm(CpuThreads threads, CpuWorkspaces workspaces, GemmKernel<float[]> f32, GemmKernel<double[]> f64,
            Blocking f32Blocking, Blocking f64Blocking, boolean shareOperands, boolean fewRowsInPlace,
            boolean keepPanels, PanelBudget panelBudget) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = new Plan<>(f32, f32Blocking.roundedTo(f32));
        this.f64 = new Plan<>(f64, f64Blocking.roundedTo(f64));
        this.shared = shareOperands ? new SharedPackGemm(threads, workspaces) : null;
        this.fewRowsInPlace = fewRowsInPlace;
        this.keepPanels = keepPanels;
        this.panelBudget = panelBudget;
    }

    /** Cache block sizes: rows of A per L2 block, depth per panel, columns of B per L3 block. */
    record Blocking(int mc, int kc, int nc) {
        Blocking {
            if (mc < 1 || kc < 1 || nc < 1) {
                throw new IllegalArgumentException("backprop.cpu.gemm.mc/kc/nc must be positive, got mc=" + mc
                        + ", kc=" + kc + ", nc=" + nc);
            }
        }

        static Blocking defaultsOf(GemmKernel<?> k) {
            return new Blocking(k.defaultMc(), k.defaultKc(), k.defaultNc());
        }

        /** mc and nc rounded up to whole tiles, so only the matrix edge has partial tiles. */
        Blocking roundedTo(GemmKernel<?> k) {
            return new Blocking(roundUp(mc, k.mr), kc, roundUp(nc, k.nr));
        }

        @Override
        public String toString() {
            return "mc=" + mc + " kc=" + kc + " nc=" + nc;
        }
    }

    private record Plan<A>(GemmKernel<A> kernel, Blocking blocking) {
    }

    /** One product: {@code C = alpha·op(A)·op(B) + beta·C} on arrays with element offsets. */
    record Product<A>(boolean transA, boolean transB, int m, int n, int k, double alpha, A a, int aOff,
                              int lda, A b, int bOff, int ldb, double beta, A c, int cOff, int ldc) {
        Product<A> item(long i, long strideA, long strideB, long strideC) {
            return new Product<>(transA, transB, m, n, k, alpha, a, (int) (aOff + i * strideA), lda, b,
                    (int) (bOff + i * strideB), ldb, beta, c, (int) (cOff + i * strideC), ldc);
        }
    }

    /** Description of the kernels and blocking, for capability details. */
    String describe() {
        return "f32 " + f32.kernel().describe() + " " + f32.blocking() + "; f64 " + f64.kernel().describe() + " "
                + f64.blocking();
    }

    /** {@link dev.backprop.backend.Backend#gemm}, with arguments already validated by core. */
    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, CpuBuffer a, long aOff,
                     int lda, CpuBuffer b, long bOff, int ldb, double beta, CpuBuffer c, long cOff, int ldc, int batch,
                     long strideA, long strideB, long strideC) {
        // C first: its accessor drops kept panels, so a C that is also B (not a valid product) never reads them.
        if (c.dtype() == DType.FLOAT64) {
            double[] out = c.doubles();
            run(f64, new Product<>(transA, transB, m, n, k, alpha, (double[]) a.readOnly(), (int) aOff, lda,
                    (double[]) b.readOnly(), (int) bOff, ldb, beta, out, (int) cOff, ldc), b, batch, strideA, strideB,
                    strideC);
        } else {
            float[] out = c.floats();
            run(f32, new Product<>(transA, transB, m, n, k, alpha, (float[]) a.readOnly(), (int) aOff, lda,
                    (float[]) b.readOnly(), (int) bOff, ldb, beta, out, (int) cOff, ldc), b, batch, strideA, strideB,
                    strideC);
        }
    }

    private <A> void run(Plan<A> plan, Product<A> p, CpuBuffer b, int batch, long strideA, long strideB,
                         long strideC) {
        if (p.m() == 0 || p.n() == 0 || batch == 0) {
            return;
        }
        if (batch == 1) {
            A panels = keepPanels ? PackedPanels.of(b, panelBudget, plan.kernel(), p,
                    Math.min(plan.blocking().kc(), p.k()), plan.blocking().nc()) : null;
            parallel(plan, p, panels);
            return;
        }
        long work = (long) p.m() * p.n() * Math.max(1, p.k());
        if (batch >= threads.threads() && batch > 1 && work * batch >= SERIAL_WORK) {
            int chunks = threads.chunksFor(work * batch, SERIAL_WORK);
            threads.parallelFor(chunks, chunk -> {
                long lo = (long) batch * chunk / chunks, hi = (long) batch * (chunk + 1) / chunks;
                for (long i = lo; i < hi; i++) {
                    serial(plan, p.item(i, strideA, strideB, strideC));
                }
            });
            return;
        }
        for (long i = 0; i < batch; i++) {
            parallel(plan, p.item(i, strideA, strideB, strideC), null);
        }
    }

    /** One product over a grid of C blocks, one per chunk; {@code panels} are B's kept panels, or null. */
    private <A> void parallel(Plan<A> plan, Product<A> p, A panels) {
        GemmKernel<A> kn = plan.kernel();
        long work = (long) p.m() * p.n() * Math.max(1, p.k());
        int chunks = threads.chunksFor(work, SERIAL_WORK);
        long sharedSize = (long) roundUp(p.m(), kn.mr) * p.k()
                + (long) Math.min(plan.blocking().nc(), roundUp(p.n(), kn.nr)) * p.k();
        boolean fewRows = panels == null && fewRows(kn, p);
        boolean canShare = shared != null && p.k() > 0 && sharedSize <= SHARED_LIMIT && !fewRows;
        if (canShare && (chunks > 1 || work >= SHARED_SERIAL_WORK)) {
            shared.run(kn, plan.blocking(), p, panels);
            return;
        }
        if (chunks == 1) {
            block(plan, p, 0, p.m(), 0, p.n(), panels);
            return;
        }
        int rowTiles = ceilDiv(p.m(), kn.mr), colTiles = ceilDiv(p.n(), kn.nr);
        int tm = fewRows ? 1 : splitRows(chunks, rowTiles, colTiles, p.m(), p.n());
        int tn = Math.max(1, Math.min(chunks / tm, colTiles));
        threads.parallelFor(tm * tn, chunk -> {
            int bi = chunk / tn, bj = chunk % tn;
            int i0 = tileBound(bi, tm, rowTiles, kn.mr, p.m()), i1 = tileBound(bi + 1, tm, rowTiles, kn.mr, p.m());
            int j0 = tileBound(bj, tn, colTiles, kn.nr, p.n()), j1 = tileBound(bj + 1, tn, colTiles, kn.nr, p.n());
            block(plan, p, i0, i1, j0, j1, panels);
        });
    }

    /** Whether {@code p} is a product of few rows that the kernel computes without packing B. */
    private <A> boolean fewRows(GemmKernel<A> kn, Product<A> p) {
        return fewRowsInPlace && p.transB() && p.m() <= kn.fewRowsLimit();
    }

    /**
     * Rows of the chunk grid: the divisor {@code tm} of {@code chunks} that minimises repacking
     * ({@code tn·m} for A plus {@code tm·n} for B, each times k) among grids that have a tile for every block.
     */
    static int splitRows(int chunks, int rowTiles, int colTiles, int m, int n) {
        int best = 1;
        long bestCost = Long.MAX_VALUE;
        for (int tm = 1; tm <= chunks; tm++) {
            int tn = chunks / tm;
            if (chunks % tm != 0 || tm > rowTiles || tn > colTiles) {
                continue;
            }
            long cost = (long) tn * m + (long) tm * n;
            if (cost < bestCost) {
                bestCost = cost;
                best = tm;
            }
        }
        if (bestCost == Long.MAX_VALUE) {
            // Fewer tiles than chunks: split the longer tile dimension as far as it goes.
            best = rowTiles >= colTiles ? Math.min(chunks, rowTiles) : 1;
        }
        return best;
    }

    /** The first row (or column) of block {@code b} of {@code parts}, cutting {@code tiles} tiles evenly. */
    private static int tileBound(int b, int parts, int tiles, int tileSize, int limit) {
        return (int) Math.min(limit, (long) tiles * b / parts * tileSize);
    }

    private <A> void serial(Plan<A> plan, Product<A> p) {
        block(plan, p, 0, p.m(), 0, p.n(), null);
    }

    /**
     * The blocked loops for C rows {@code [i0, i1)} and columns {@code [j0, j1)}, in one workspace; on B's kept
     * {@code panels} where not null.
     */
    private <A> void block(Plan<A> plan, Product<A> p, int i0, int i1, int j0, int j1, A panels) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        GemmKernel<A> kn = plan.kernel();
        if (p.k() == 0) {
            kn.scale(p.c(), p.cOff() + i0 * p.ldc() + j0, p.ldc(), i1 - i0, j1 - j0, p.beta());
            return;
        }
        Blocking bl = plan.blocking();
        if (panels != null) {
            onPanels(kn, bl, p, i0, i1, j0, j1, panels);
            return;
        }
        if (fewRows(kn, p)) {
            CpuWorkspaces.Workspace w = workspaces.acquire();
            try {
                kn.fewRows(p, bl.kc(), j0, j1, kn.scratch(w, CpuWorkspaces.PACK_A, kn.fewRowsScratch(p.k())),
                        kn.edgeScratch(w));
            } finally {
                workspaces.release(w);
            }
            return;
        }
        int kcMax = Math.min(bl.kc(), p.k());
        int mcMax = Math.min(bl.mc(), roundUp(i1 - i0, kn.mr));
        int ncMax = Math.min(bl.nc(), roundUp(j1 - j0, kn.nr));
        CpuWorkspaces.Workspace w = workspaces.acquire();
        try {
            A ap = kn.scratch(w, CpuWorkspaces.PACK_A, mcMax * kcMax);
            A bp = kn.scratch(w, CpuWorkspaces.PACK_B, ncMax * kcMax);
            A edge = kn.edgeScratch(w);
            for (int jc = j0; jc < j1; jc += bl.nc()) {
                int nc = Math.min(bl.nc(), j1 - jc);
                for (int pc = 0; pc < p.k(); pc += bl.kc()) {
                    int kc = Math.min(bl.kc(), p.k() - pc);
                    double beta = pc == 0 ? p.beta() : 1.0;
                    kn.packB(p.transB(), p.b(), p.bOff(), p.ldb(), pc, kc, jc, nc, bp, 0);
                    for (int ic = i0; ic < i1; ic += bl.mc()) {
                        int mc = Math.min(bl.mc(), i1 - ic);
                        kn.packA(p.transA(), p.a(), p.aOff(), p.lda(), ic, mc, pc, kc, ap, 0);
                        macroKernel(kn, p, kc, mc, nc, ic, jc, beta, ap, bp, 0, edge);
                    }
                }
            }
        } finally {
            workspaces.release(w);
        }
    }

    /**
     * {@link #block} on B's kept panels ({@link PackedPanels}: every depth block of every column, so only A is
     * packed): the same tiles, each C element's depth blocks in the same order, so the same result bit for bit.
     */
    private <A> void onPanels(GemmKernel<A> kn, Blocking bl, Product<A> p, int i0, int i1, int j0, int j1,
                              A panels) {
        int kcMax = Math.min(bl.kc(), p.k()), nPad = roundUp(p.n(), kn.nr);
        int mcMax = Math.min(bl.mc(), roundUp(i1 - i0, kn.mr));
        CpuWorkspaces.Workspace w = workspaces.acquire();
        try {
            A ap = kn.scratch(w, CpuWorkspaces.PACK_A, mcMax * kcMax);
            A edge = kn.edgeScratch(w);
            for (int pc = 0; pc < p.k(); pc += kcMax) {
                int kc = Math.min(kcMax, p.k() - pc);
                double beta = pc == 0 ? p.beta() : 1.0;
                for (int ic = i0; ic < i1; ic += bl.mc()) {
                    int mc = Math.min(bl.mc(), i1 - ic);
                    kn.packA(p.transA(), p.a(), p.aOff(), p.lda(), ic, mc, pc, kc, ap, 0);
                    macroKernel(kn, p, kc, mc, j1 - j0, ic, j0, beta, ap, panels, pc * nPad + j0 * kc, edge);
                }
            }
        } finally {
            workspaces.release(w);
        }
    }

    /**
     * Every register tile of one packed {@code mc × kc} A block against one packed {@code kc × nc} B block, whose
     * panels start at {@code bpBase}.
     */
    private static <A> void macroKernel(GemmKernel<A> kn, Product<A> p, int kc, int mc, int nc, int ic, int jc,
                                        double beta, A ap, A bp, int bpBase, A edge) {
        int mr = kn.mr, nr = kn.nr, ldc = p.ldc();
        if (mc == 1) {
            kn.row(kc, ap, 0, bp, bpBase, nc, p.c(), p.cOff() + ic * ldc + jc, p.alpha(), beta, edge);
            return;
        }
        for (int jr = 0; jr < nc; jr += nr) {
            int cols = Math.min(nr, nc - jr);
            int bpOff = bpBase + jr * kc;
            for (int ir = 0; ir < mc; ir += mr) {
                int rows = Math.min(mr, mc - ir);
                kn.tile(kc, ap, ir * kc, bp, bpOff, p.c(), p.cOff() + (ic + ir) * ldc + jc + jr, ldc, rows, cols,
                        p.alpha(), beta, edge);
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
