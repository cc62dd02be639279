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
 * buffer object: dropped when it is written, read after its release, or collected with the model.
 *
 * <p>The layout is the one {@link SharedPackGemm} packs B into for a single column block: depth block {@code pc}
 * of panel column {@code j} at {@code pc·roundUp(n, nr) + j·kcq}; so only products with {@code n} within one
 * column block ({@code nc}) keep panels.
 */
final class PackedPanels {
    private final GemmKernel<?> kernel;
    private final int bOff;
    private final int ldb;
    private final int n;
    private final int k;
    private final int kc;
    /** The panels ({@code float[]} or {@code double[]}), or null for the mark of a first read. */
    private final Object panels;

    private PackedPanels(GemmKernel<?> kernel, int bOff, int ldb, int n, int k, int kc, Object panels) {
        this.kernel = kernel;
        this.bOff = bOff;
        this.ldb = ldb;
        this.n = n;
        this.k = k;
        this.kc = kc;
        this.panels = panels;
    }

    /**
     * The kept panels of {@code p}'s B (held by {@code buffer}) for depth blocks of {@code kc}, packing them on the
     * second read with nothing written in between; null when {@code p} does not keep panels or on a first read.
     */
    @SuppressWarnings("unchecked")
    static <A> A of(CpuBuffer buffer, GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int nc) {
        int nPad = CpuGemm.roundUp(p.n(), kn.nr);
        if (!p.transB() || p.k() == 0 || nPad > nc || (long) nPad * p.k() > Integer.MAX_VALUE) {
            return null;
        }
        PackedPanels kept = buffer.panels();
        if (kept != null && kept.kernel == kn && kept.bOff == p.bOff() && kept.ldb == p.ldb() && kept.n == p.n()
                && kept.k == p.k() && kept.kc == kc) {
            if (kept.panels == null) {
                A packed = pack(kn, p, kc, nPad);
                buffer.panels(new PackedPanels(kn, p.bOff(), p.ldb(), p.n(), p.k(), kc, packed));
                return packed;
            }
            return (A) kept.panels;
        }
        buffer.panels(new PackedPanels(kn, p.bOff(), p.ldb(), p.n(), p.k(), kc, null));
        return null;
    }

    /** Whether these are panels rather than the mark of a first read. */
    boolean packed() {
        return panels != null;
    }

    /** All of {@code op(B)}, every depth block, in the layout of the class comment. */
    private static <A> A pack(GemmKernel<A> kn, CpuGemm.Product<A> p, int kc, int nPad) {
        A dst = kn.newArray(nPad * p.k());
        for (int pc = 0; pc < p.k(); pc += kc) {
            int kcq = Math.min(kc, p.k() - pc);
            kn.packB(true, p.b(), p.bOff(), p.ldb(), pc, kcq, 0, p.n(), dst, pc * nPad);
        }
        return dst;
    }
}
