package dev.backprop.cpu;

/**
 * The multithreaded path of {@link CpuGemm} for one product: operands packed once and shared by every thread,
 * then fine-grained C tiles claimed dynamically.
 *
 * <h2>Phases</h2>
 * For each column block of {@code nc} columns of C (usually just one: {@code nc} is 3072):
 * <ol>
 *   <li><b>Pack.</b> {@code op(B)} for those columns, every depth block of {@code kc}, goes into one shared
 *       buffer; on the first column block {@code op(A)}, all of it, goes into another. The pieces (one depth
 *       block × a slice of rows or columns) are claimed by whichever thread is free, so packing itself runs on
 *       every core and nothing is packed twice.</li>
 *   <li><b>Compute.</b> The C block is cut into a grid of {@code mcTask × ncTask} tasks, several per thread, and
 *       each thread claims the next task until none is left: a thread that starts late (the machine is shared)
 *       or runs slower just does fewer tasks instead of holding up the product. A task walks all depth blocks
 *       itself (beta applied on the first), so no two threads ever write the same part of C and the only
 *       synchronisation is the end of each phase.</li>
 * </ol>
 * Because A is shared, splitting columns as well as rows costs no repacking, which is what lets the short and
 * wide products of an MLP step (128 rows) use both cores. The price is memory: the shared buffers hold
 * {@code roundUp(m, mr)·k + roundUp(min(n, nc), nr)·k} elements in the caller's workspace, kept for reuse.
 *
 * <h2>Task size</h2>
 * A task has at most {@code mc} rows (the L2 block) and at least {@link #MIN_TASK_ROWS} rows, so one packed
 * B micro-panel ({@code kc × nr}, in L1) still meets several A panels; the grid aims at {@link #TASKS_PER_THREAD}
 * tasks per thread for load balance, splitting columns (in whole {@code nr} tiles, at least
 * {@link #MIN_TASK_COL_TILES} of them) when the rows alone cannot give that many, and also when a task's C block
 * would exceed {@link #MAX_TASK_C} elements.
 */
final class SharedPackGemm {
    /** Tasks per thread the compute grid aims at: enough to even out a late or slow thread. */
    static final int TASKS_PER_THREAD = 3;
    /** Fewest rows of a task (8 register tiles of 6 rows), so each B micro-panel is reused enough. */
    static final int MIN_TASK_ROWS = 48;
    /** Fewest register-tile columns of a task. */
    static final int MIN_TASK_COL_TILES = 2;
    /**
     * Most elements of C in one task (128 KiB of FLOAT32), so a task's C block stays in L2 next to its A block
     * while the task walks every depth block: with whole rows of C per task, the 144-row tasks of n = 1024 and
     * 2048 products swept 0.6-1.2 MB of C per depth block through L3. Measured with 2 threads, interleaved in one
     * JVM: n = 1024 1.07-1.13x, 2048 1.08-1.10x, 256 and 512 unchanged (0.98-1.05x).
     */
    static final int MAX_TASK_C = 32 * 1024;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    /** Per-thread scratch for edge tiles (a few hundred bytes), so a claimed task needs no pool round trip. */
    private final ThreadLocal<CpuWorkspaces.Workspace> tiles = ThreadLocal.withInitial(CpuWorkspaces.Workspace::new);

    SharedPackGemm(CpuThreads threads, CpuWorkspaces workspaces) {
        this.threads = threads;
        this.workspaces = workspaces;
    }

    /** Rows and columns of one compute task, and how many tasks the grid has. */
    record Grid(int taskRows, int taskCols, int rowTasks, int colTasks) {
        int tasks() {
            return rowTasks * colTasks;
        }

        /** The task grid for an {@code m × n} block with {@code mr × nr} tiles, row blocks of at most {@code mc}. */
        static Grid of(int m, int n, int mr, int nr, int mc, int threads) {
            int target = threads * TASKS_PER_THREAD;
            int minRows = CpuGemm.roundUp(Math.min(MIN_TASK_ROWS, m), mr);
            int rows = Math.min(mc, Math.max(minRows, CpuGemm.roundUp(CpuGemm.ceilDiv(m, target), mr)));
            int rowTasks = CpuGemm.ceilDiv(m, rows);
            int colTiles = CpuGemm.ceilDiv(n, nr);
            int colTasks = Math.max(1, Math.min(CpuGemm.ceilDiv(target, rowTasks), colTiles / MIN_TASK_COL_TILES));
            colTasks = Math.min(colTiles, Math.max(colTasks, CpuGemm.ceilDiv(rows * colTiles * nr, MAX_TASK_C)));
            int cols = CpuGemm.ceilDiv(colTiles, colTasks) * nr;
            return new Grid(rows, cols, rowTasks, CpuGemm.ceilDiv(n, cols));
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} for one product with {@code k > 0}, on every thread; with B's kept
     * {@code panels} (not null: {@link PackedPanels}, the layout packed here) only A is packed.
     */
    <A> void run(GemmKernel<A> kn, CpuGemm.Blocking bl, CpuGemm.Product<A> p, A panels) {
        int m = p.m(), n = p.n(), k = p.k(), kc = Math.min(bl.kc(), k);
        int mPad = CpuGemm.roundUp(m, kn.mr);
        int ncMax = Math.min(bl.nc(), CpuGemm.roundUp(n, kn.nr));
        CpuWorkspaces.Workspace w = workspaces.acquire();
        try {
            A ap = kn.scratch(w, CpuWorkspaces.PACK_A, mPad * k);
            A bp = panels != null ? panels : kn.scratch(w, CpuWorkspaces.PACK_B, ncMax * k);
            int depthBlocks = CpuGemm.ceilDiv(k, kc);
            int slices = threads.threads() * 2;
            for (int jc = 0; jc < n; jc += bl.nc()) {
                int nc = Math.min(bl.nc(), n - jc), ncPad = CpuGemm.roundUp(nc, kn.nr);
                boolean packA = jc == 0;
                int col0 = jc;
                // Pack tasks below depthBlocks·slices pack B, the rest A: kept panels skip the former.
                int first = panels != null ? depthBlocks * slices : 0;
                int packTasks = depthBlocks * slices * (packA ? 2 : 1) - first;
                if (packTasks > 0) {
                    threads.parallelFor(packTasks, t -> pack(kn, p, kc, mPad, ncPad, col0, nc, slices, first + t, ap,
                            bp));
                }
                Grid g = Grid.of(m, nc, kn.mr, kn.nr, bl.mc(), threads.threads());
                threads.parallelFor(g.tasks(), t -> compute(kn, p, kc, mPad, ncPad, col0, nc, g, t, ap, bp));
            }
        } finally {
            workspaces.release(w);
        }
    }

    /**
     * Pack task {@code t}: slice {@code t % slices} of depth block {@code t / slices % depthBlocks} of B (tasks
     * below {@code depthBlocks·slices}) or of A (the rest). Slices are whole panels.
     */
    private static <A> void pack(GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int mPad, int ncPad, int jc,
                                 int nc, int slices, int t, A ap, A bp) {
        int depthBlocks = CpuGemm.ceilDiv(p.k(), kc);
        int slice = t % slices, q = t / slices % depthBlocks;
        int pc = q * kc, kcq = Math.min(kc, p.k() - pc);
        if (t < depthBlocks * slices) {
            int tiles = CpuGemm.ceilDiv(nc, kn.nr);
            int j0 = tiles * slice / slices * kn.nr, j1 = Math.min(nc, tiles * (slice + 1) / slices * kn.nr);
            if (j1 > j0) {
                kn.packB(p.transB(), p.b(), p.bOff(), p.ldb(), pc, kcq, jc + j0, j1 - j0, bp, pc * ncPad + j0 * kcq);
            }
        } else {
            int tiles = CpuGemm.ceilDiv(p.m(), kn.mr);
            int i0 = tiles * slice / slices * kn.mr, i1 = Math.min(p.m(), tiles * (slice + 1) / slices * kn.mr);
            if (i1 > i0) {
                kn.packA(p.transA(), p.a(), p.aOff(), p.lda(), i0, i1 - i0, pc, kcq, ap, pc * mPad + i0 * kcq);
            }
        }
    }

    /** Compute task {@code t} of grid {@code g}: its rows and columns of the C block, every depth block. */
    private <A> void compute(GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int mPad, int ncPad, int jc, int nc,
                             Grid g, int t, A ap, A bp) {
        int i0 = t / g.colTasks() * g.taskRows(), i1 = Math.min(p.m(), i0 + g.taskRows());
        int j0 = t % g.colTasks() * g.taskCols(), j1 = Math.min(nc, j0 + g.taskCols());
        A edge = kn.edgeScratch(tiles.get());
        int mr = kn.mr, nr = kn.nr, ldc = p.ldc();
        for (int pc = 0; pc < p.k(); pc += kc) {
            int kcq = Math.min(kc, p.k() - pc);
            double beta = pc == 0 ? p.beta() : 1.0;
            int aBase = pc * mPad, bBase = pc * ncPad;
            for (int jr = j0; jr < j1; jr += nr) {
                int cols = Math.min(nr, j1 - jr), bpOff = bBase + jr * kcq;
                for (int ir = i0; ir < i1; ir += mr) {
                    int rows = Math.min(mr, i1 - ir);
                    kn.tile(kcq, ap, aBase + ir * kcq, bp, bpOff, p.c(), p.cOff() + ir * ldc + jc + jr, ldc, rows,
                            cols, p.alpha(), beta, edge);
                }
            }
        }
    }
}
