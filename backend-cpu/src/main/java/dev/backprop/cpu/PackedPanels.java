package dev.backprop.cpu;

/**
 * The packed B panels of a product with a transposed B (a dense layer's {@code X·Wᵀ}), kept on B's buffer while
 * nothing writes it. A {@code Predictor} multiplies the same weights on every request, and packing them (every
 * one of a 784 × 256 layer's weights, for as many multiply-adds per row of X) cost more than the product itself up
 * to tens of rows; kept panels are packed once.
 *
 * <h2>Validity</h2>
 * The panels live on the {@link CpuBuffer} and every accessor that may write its array drops them, so the
 * panels always hold the buffer's current contents: a training step's update, a model load's upload, any op that
 * writes the buffer. A GEMM reads its operands through {@link CpuBuffer#readOnly}, which keeps them. All ops run
 * under the backend's lock, so no op writes the array while another reads the panels. Panels are only made for
 * the layout they were asked for (kernel, offset, stride, shape, depth block); another layout repacks.
 *
 * <h2>When</h2>
 * The first product that reads a buffer this way only leaves a mark; the second, with nothing written in
 * between, packs all of B once and keeps it. So a training step, whose update writes the weights between two
 * forward passes, never packs twice or keeps anything, while the second request of a predictor does. Panels
 * cost {@code roundUp(n, nr)·k} elements of heap beside the buffer (one copy of the weights) and go with the
 * buffer object: dropped when it is written or released, or collected with the model.
 *
 * <h2>After a write</h2>
 * A buffer written after panels were packed for it (a weight updated by training) needs {@link #READS_AFTER_WRITE}
 * reads in a row before it packs again: a training step reads a weight up to a few times between updates (a tied
 * layer's two products, an evaluation pass), and packing a full copy on each step only to drop it at the update
 * cost more than it saved. A predictor's stream of requests reaches that count on its fourth request and keeps
 * its panels from then on.
 *
 * <h2>Best effort</h2>
 * Panels take their bytes from the backend's {@link PanelBudget} ({@code gemm.keep.limit}) and are not kept where
 * they would pass it or the heap cannot hold them ({@link OutOfMemoryError} while allocating): the product then
 * runs as without kept panels, and the buffer is not tried again until it is written.
 *
 * <p>The layout is the one {@link SharedPackGemm} packs B into for a single column block: depth block {@code pc}
 * of panel column {@code j} at {@code pc·roundUp(n, nr) + j·kcq}; so only products with {@code n} within one
 * column block ({@code nc}) keep panels.
 */
final class PackedPanels {
    /** Reads in a row with nothing written in between after which a buffer keeps panels: the first time. */
    static final int READS_TO_KEEP = 2;
    /** The same for a buffer written after it had (or was refused) panels; see the class comment. */
    static final int READS_AFTER_WRITE = 4;

    private final GemmKernel<?> kernel;
    private final int bOff;
    private final int ldb;
    private final int n;
    private final int k;
    private final int kc;
    /** Reads in a row of this layout so far, for a mark. */
    private final int reads;
    /** The panels ({@code float[]} or {@code double[]}), or null for a mark of reads or a refusal. */
    private final Object panels;
    /** Whether keeping panels was refused (over the budget or out of heap) until the buffer is written. */
    private final boolean refused;
    /** The budget the panels' bytes came from, or null where none were taken. */
    private final PanelBudget budget;
    private final long bytes;
    private boolean freed;

    private PackedPanels(GemmKernel<?> kernel, CpuGemm.Product<?> p, int kc, int reads, Object panels,
                         boolean refused, PanelBudget budget, long bytes) {
        this.kernel = kernel;
        this.bOff = p.bOff();
        this.ldb = p.ldb();
        this.n = p.n();
        this.k = p.k();
        this.kc = kc;
        this.reads = reads;
        this.panels = panels;
        this.refused = refused;
        this.budget = budget;
        this.bytes = bytes;
    }

    /**
     * The kept panels of {@code p}'s B (held by {@code buffer}) for depth blocks of {@code kc}, packing them once it
     * was read often enough in a row (taking their bytes from {@code budget}); null when {@code p} does not keep
     * panels, before that read, or when keeping them was refused.
     */
    @SuppressWarnings("unchecked")
    static <A> A of(CpuBuffer buffer, PanelBudget budget, GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int nc) {
        int nPad = CpuGemm.roundUp(p.n(), kn.nr);
        if (!p.transB() || p.k() == 0 || nPad > nc || (long) nPad * p.k() > Integer.MAX_VALUE) {
            return null;
        }
        PackedPanels kept = buffer.panels();
        if (kept == null || !kept.sameLayout(kn, p, kc)) {
            buffer.panels(new PackedPanels(kn, p, kc, 1, null, false, null, 0));
            return null;
        }
        if (kept.panels != null || kept.refused) {
            return (A) kept.panels;
        }
        int reads = kept.reads + 1;
        if (reads < (buffer.rewritten() ? READS_AFTER_WRITE : READS_TO_KEEP)) {
            buffer.panels(new PackedPanels(kn, p, kc, reads, null, false, null, 0));
            return null;
        }
        long bytes = (long) nPad * p.k() * (p.b() instanceof double[] ? Double.BYTES : Float.BYTES);
        A packed = null;
        if (budget.reserve(bytes)) {
            packed = packOrNull(kn, p, kc, nPad);
            if (packed == null) {
                budget.free(bytes);
            }
        }
        if (packed == null) {
            buffer.panels(new PackedPanels(kn, p, kc, reads, null, true, null, 0));
            return null;
        }
        buffer.panels(new PackedPanels(kn, p, kc, reads, packed, false, budget, bytes));
        return packed;
    }

    /** Whether these are panels rather than a mark of reads or a refusal. */
    boolean packed() {
        return panels != null;
    }

    /** Whether keeping panels was refused for the buffer's current contents. */
    boolean refused() {
        return refused;
    }

    /** Whether panels were packed or refused: a write after this makes the buffer wait longer to pack again. */
    boolean attempted() {
        return panels != null || refused;
    }

    /** Gives the panels' bytes back to the budget, once. */
    void free() {
        if (budget != null && !freed) {
            freed = true;
            budget.free(bytes);
        }
    }

    /**
     * All of {@code op(B)}, every depth block, in the layout of the class comment; null where the heap cannot hold
     * them, as the product needs no kept copy.
     */
    private static <A> A packOrNull(GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int nPad) {
        A dst;
        try {
            dst = kn.newArray(nPad * p.k());
        } catch (OutOfMemoryError e) {
            return null;
        }
        for (int pc = 0; pc < p.k(); pc += kc) {
            int kcq = Math.min(kc, p.k() - pc);
            kn.packB(true, p.b(), p.bOff(), p.ldb(), pc, kcq, 0, p.n(), dst, pc * nPad);
        }
        return dst;
    }

    private boolean sameLayout(GemmKernel<?> kn, CpuGemm.Product<?> p, int kc) {
        return kernel == kn && bOff == p.bOff() && ldb == p.ldb() && n == p.n() && k == p.k() && this.kc == kc;
    }
}
