package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.backend.base.OpFamilies;

/**
 * The cpu backend's convolution: one product per image on the GEMM's micro-kernel, with the image read straight
 * from a padded copy of itself ({@link ConvLayout}) instead of the batch's im2col matrix.
 *
 * <h2>Why not the SPI's default</h2>
 * The default writes the batch's im2col matrix (for the reference CNN's second layer 288 × 25088 floats, 29 MB),
 * multiplies it in one GEMM whose packing reads it back, and changes the result's layout to NCHW. On this backend
 * that matrix is what the time goes to: the GEMM's packing streams 29 MB from memory per product for only 64
 * rows of weights, and the im2col and col2im passes move it once more in runs of 14 floats. Here the packed
 * operand is taken from the padded image, a few kilobytes that stay in cache, and each image's product is written
 * to its NCHW planes directly (measured per training step, in the module's README).
 *
 * <h2>The three products</h2>
 * With {@code P = channels·kernelH·kernelW} and the image's columns {@code Q} ({@link ConvLayout#positions}):
 * <ul>
 *   <li>forward, per image: {@code [O, P]·[P, Q]}, the weights packed once per call and shared, the image's
 *       operand packed from its source ({@link GemmKernel#packRowsAt}) and added to the bias, then the NCHW
 *       planes;</li>
 *   <li>input gradient, per image: {@code [P, O]·[O, Q]} (the weights transposed, packed once) and its adjoint
 *       summed into the image's gradient;</li>
 *   <li>weight gradient, transposed: {@code Σ_img [P, Q]·[Q, O]}, the image's operand read along its rows
 *       ({@link GemmKernel#packLinesAt}) against the upstream gradient. Images are summed in groups whose count
 *       depends on the batch only, each into its own partial, and the partials are added in group order, so the
 *       result does not depend on the number of threads.</li>
 * </ul>
 * The backward products of one image run together, so its upstream gradient is spread and its source built once.
 * Images (and groups) are claimed by whichever thread is free, so a thread slowed by another process only does
 * fewer of them. Scratch arrays come from {@link CpuWorkspaces} and are reused call after call.
 */
final class CpuConvolution implements OpFamilies.Convolution<CpuBuffer> {
    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final Plan<float[]> f32;
    private final Plan<double[]> f64;
    /** Row sums of the bias gradient and the input gradient's additions. */
    private final F32Kernels loops32;
    private final F64Kernels loops64 = new F64Kernels();

    /** A dtype's micro-kernel and the depth of its packed blocks. */
    private record Plan<A>(GemmKernel<A> kernel, int kc) {
    }

    CpuConvolution(CpuThreads threads, CpuWorkspaces workspaces, CpuKernels kernels, CpuGemm.Blocking f32Blocking,
                   CpuGemm.Blocking f64Blocking) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.loops32 = kernels.f32();
        GemmKernel<float[]> f32 = kernels.gemmF32();
        GemmKernel<double[]> f64 = kernels.gemmF64();
        this.f32 = new Plan<>(f32, f32Blocking.kc());
        this.f64 = new Plan<>(f64, f64Blocking.kc());
    }

    @Override
    public void conv2d(Window2d w, int outChannels, CpuBuffer x, long xOffset, CpuBuffer weight, long weightOffset,
                       CpuBuffer bias, long biasOffset, CpuBuffer y, long yOffset) {
        Object b = bias == null ? null : bias.array();
        if (x.dtype() == DType.FLOAT64) {
            forward(f64, w, outChannels, x.doubles(), (int) xOffset, weight.doubles(), (int) weightOffset, b,
                    (int) biasOffset, y.doubles(), (int) yOffset);
        } else {
            forward(f32, w, outChannels, x.floats(), (int) xOffset, weight.floats(), (int) weightOffset, b,
                    (int) biasOffset, y.floats(), (int) yOffset);
        }
    }

    @Override
    public void conv2dBackward(Window2d w, int outChannels, CpuBuffer x, long xOffset, CpuBuffer weight,
                               long weightOffset, CpuBuffer dy, long dyOffset, CpuBuffer dx, long dxOffset,
                               CpuBuffer dweight, long dweightOffset, CpuBuffer dbias, long dbiasOffset) {
        Grads g = new Grads(x == null ? null : x.array(), (int) xOffset, weight.array(), (int) weightOffset,
                dy.array(), (int) dyOffset, dx == null ? null : dx.array(), (int) dxOffset,
                dweight == null ? null : dweight.array(), (int) dweightOffset, dbias == null ? null : dbias.array(),
                (int) dbiasOffset);
        if (dy.dtype() == DType.FLOAT64) {
            backward(f64, w, outChannels, g);
        } else {
            backward(f32, w, outChannels, g);
        }
    }

    /** The arrays and offsets of one backward call; the outputs may be null. */
    private record Grads(Object x, int xo, Object weight, int wo, Object dy, int dyo, Object dx, int dxo,
                         Object dweight, int dwo, Object dbias, int dbo) {
    }

    private <A> void forward(Plan<A> plan, Window2d w, int outs, A x, int xo, A weight, int wo, Object bias, int bo,
                             A y, int yo) {
        GemmKernel<A> kn = plan.kernel();
        ConvLayout l = new ConvLayout(w);
        int p = w.patchSize(), kc = depth(plan.kc(), p), rowsPad = CpuGemm.roundUp(outs, kn.mr);
        CpuWorkspaces.Workspace shared = workspaces.acquire();
        try {
            A ap = kn.scratch(shared, CpuWorkspaces.PACK_A, rowsPad * p);
            packDepthBlocks(kn, false, weight, wo, p, outs, p, kc, ap);
            threads.parallelFor(l.images, img -> {
                CpuWorkspaces.Workspace ws = workspaces.acquire();
                try {
                    A src = kn.scratch(ws, CpuWorkspaces.IMAGE, l.sourceSize);
                    A bp = kn.scratch(ws, CpuWorkspaces.PACK_B, CpuGemm.roundUp(l.positions, kn.nr) * kc);
                    A out = kn.scratch(ws, CpuWorkspaces.PRODUCT, outs * l.positions);
                    A edge = kn.edgeScratch(ws);
                    l.fill(x, xo + img * l.imageSize(), src);
                    if (bias != null) {
                        for (int o = 0; o < outs; o++) {
                            ArrayRuns.fill(out, o * l.positions, (o + 1) * l.positions, ArrayRuns.get(bias, bo + o));
                        }
                    }
                    for (int pc = 0; pc < p; pc += kc) {
                        int kcq = Math.min(kc, p - pc);
                        kn.packRowsAt(src, l.starts, pc, kcq, 0, l.positions, bp, 0);
                        tiles(kn, kcq, ap, pc * rowsPad, outs, bp, l.positions, out, 0, l.positions,
                                pc == 0 && bias == null ? 0 : 1, edge);
                    }
                    l.emit(out, outs, y, yo + img * outs * w.outPlane());
                } finally {
                    workspaces.release(ws);
                }
            });
        } finally {
            workspaces.release(shared);
        }
    }

    /**
     * Packs all of {@code op(A)} ({@code rows × depth}, A at {@code a[ao ..]} with leading dimension {@code lda})
     * into {@code dst} as the depth blocks of {@code kc} that {@link #tiles} reads: block {@code pc} at
     * {@code pc·roundUp(rows, mr)}.
     */
    private static <A> void packDepthBlocks(GemmKernel<A> kn, boolean transA, A a, int ao, int lda, int rows,
                                            int depth, int kc, A dst) {
        int rowsPad = CpuGemm.roundUp(rows, kn.mr);
        for (int pc = 0; pc < depth; pc += kc) {
            kn.packA(transA, a, ao, lda, 0, rows, pc, Math.min(kc, depth - pc), dst, pc * rowsPad);
        }
    }

    /**
     * {@code C = A·B + beta·C} for {@code rows} rows of packed A (from {@code aOff}) against {@code cols} columns
     * of packed B (from element 0), both {@code kc} deep; C at {@code c[cOff ..]} with leading dimension
     * {@code ldc}. Each packed B panel meets every row tile while it is in L1.
     */
    private static <A> void tiles(GemmKernel<A> kn, int kc, A ap, int aOff, int rows, A bp, int cols, A c, int cOff,
                                  int ldc, double beta, A edge) {
        int mr = kn.mr, nr = kn.nr;
        for (int jr = 0; jr < cols; jr += nr) {
            int width = Math.min(nr, cols - jr), bOff = jr * kc;
            for (int ir = 0; ir < rows; ir += mr) {
                kn.tile(kc, ap, aOff + ir * kc, bp, bOff, c, cOff + ir * ldc + jr, ldc, Math.min(mr, rows - ir), width,
                        1, beta, edge);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private <A> void backward(Plan<A> plan, Window2d w, int outs, Grads g) {
        GemmKernel<A> kn = plan.kernel();
        int p = w.patchSize();
        if (g.dbias() != null) {
            biasGradient(w, outs, g);
        }
        if (w.n() == 0 && g.dweight() != null) {
            ArrayRuns.zero(g.dweight(), g.dwo(), g.dwo() + outs * p);
        }
        if (w.n() == 0 || g.dx() == null && g.dweight() == null) {
            return;
        }
        ConvLayout l = new ConvLayout(w);
        Backward<A> b = new Backward<>(kn, loops32, l, outs, depth(plan.kc(), outs), depth(plan.kc(), l.positions),
                g.dweight() == null ? l.images : groups(l.images, outs * p), (A) g.dy(), g.dyo());
        CpuWorkspaces.Workspace shared = workspaces.acquire();
        try {
            A weightsT = g.dx() == null ? null : kn.scratch(shared, CpuWorkspaces.PACK_A, b.patchPad * outs);
            if (weightsT != null) {
                packDepthBlocks(kn, true, (A) g.weight(), g.wo(), p, p, outs, b.kcOut, weightsT);
            }
            A partials = g.dweight() == null ? null : kn.scratch(shared, CpuWorkspaces.PRODUCT, b.groups * p * outs);
            threads.parallelFor(b.groups, grp -> {
                CpuWorkspaces.Workspace ws = workspaces.acquire();
                try {
                    for (int img = l.images * grp / b.groups, end = l.images * (grp + 1) / b.groups; img < end; img++) {
                        int at = b.upstream(ws, img);
                        if (partials != null) {
                            b.weightGradient(ws, (A) g.x(), g.xo() + img * l.imageSize(), at, partials,
                                    grp * p * outs, img == l.images * grp / b.groups);
                        }
                        if (weightsT != null) {
                            b.inputGradient(ws, weightsT, at, (A) g.dx(), g.dxo() + img * l.imageSize());
                        }
                    }
                } finally {
                    workspaces.release(ws);
                }
            });
            if (partials != null) {
                sumTransposed(partials, b.groups, p, outs, g.dweight(), g.dwo());
            }
        } finally {
            workspaces.release(shared);
        }
    }

    /** Depth blocks of at most {@code kc} that cut {@code depth} evenly (no thin last block). */
    static int depth(int kc, int depth) {
        int blocks = CpuGemm.ceilDiv(Math.max(1, depth), kc);
        return CpuGemm.ceilDiv(Math.max(1, depth), blocks);
    }

    /**
     * Image groups of a weight gradient: each sums its images into its own {@code size}-element partial, and the
     * partials are added in group order. The count depends on the batch and the size only, so the result does not
     * depend on how many threads run; at most {@link #MAX_GROUPS}, and {@link #PARTIALS_BUDGET} elements in all.
     */
    static int groups(int images, int size) {
        return Math.max(1, Math.min(Math.min(images, MAX_GROUPS), PARTIALS_BUDGET / Math.max(1, size)));
    }

    /** Most image groups of a weight gradient: enough to keep 16 cores busy and to even out a late thread. */
    static final int MAX_GROUPS = 16;
    /** Most elements of all weight-gradient partials together (16 MiB of FLOAT32). */
    static final int PARTIALS_BUDGET = 1 << 22;

    /** {@code dweight[o][p] = Σ_g partials[g][p][o]}, in group order. */
    private static void sumTransposed(Object partials, int groups, int p, int outs, Object dw, int dwo) {
        if (partials instanceof float[] f) {
            float[] d = (float[]) dw;
            for (int o = 0; o < outs; o++) {
                for (int k = 0; k < p; k++) {
                    float sum = f[k * outs + o];
                    for (int g = 1; g < groups; g++) {
                        sum += f[(g * p + k) * outs + o];
                    }
                    d[dwo + o * p + k] = sum;
                }
            }
            return;
        }
        double[] f = (double[]) partials, d = (double[]) dw;
        for (int o = 0; o < outs; o++) {
            for (int k = 0; k < p; k++) {
                double sum = f[k * outs + o];
                for (int g = 1; g < groups; g++) {
                    sum += f[(g * p + k) * outs + o];
                }
                d[dwo + o * p + k] = sum;
            }
        }
    }

    /** {@code dbias[o]}: the sum of {@code dy}'s plane {@code o} over the images, in image order. */
    private void biasGradient(Window2d w, int outs, Grads g) {
        int s = w.outPlane();
        threads.parallelRange(outs, Math.max(1, CpuElementwise.PARALLEL_MIN / Math.max(1L, (long) w.n() * s)), 1,
                (o0, count) -> {
                    for (int o = o0; o < o0 + count; o++) {
                        double sum = 0;
                        for (int img = 0; img < w.n(); img++) {
                            int at = g.dyo() + (img * outs + o) * s;
                            sum += g.dy() instanceof float[] f ? loops32.sum(f, at, s)
                                    : loops64.sum((double[]) g.dy(), at, s);
                        }
                        ArrayRuns.set(g.dbias(), g.dbo() + o, sum);
                    }
                });
    }

    /**
     * One backward call's per-image work. The upstream gradient of an image ({@code O × Q}) is the B of the input
     * gradient's product and the B (transposed) of the weight gradient's, which is computed transposed,
     * {@code [P, O]}, so that the image's operand is its A: on the micro-kernel's 6-row tiles {@code P} (288 and 9
     * for the reference CNN) leaves fewer partial tiles than {@code O} (64 and 32) as rows, and {@code O} fits
     * whole column panels.
     */
    private static final class Backward<A> {
        final GemmKernel<A> kn;
        final F32Kernels loops32;
        final ConvLayout l;
        final int outs, kcOut, kcPos, groups, patchPad;
        final A dy;
        final int dyo;

        Backward(GemmKernel<A> kn, F32Kernels loops32, ConvLayout l, int outs, int kcOut, int kcPos, int groups, A dy,
                 int dyo) {
            this.kn = kn;
            this.loops32 = loops32;
            this.l = l;
            this.outs = outs;
            this.kcOut = kcOut;
            this.kcPos = kcPos;
            this.groups = groups;
            this.patchPad = CpuGemm.roundUp(l.w.patchSize(), kn.mr);
            this.dy = dy;
            this.dyo = dyo;
        }

        /** The upstream array of the products: {@code dy} (im2col layout) or its spread copy in {@code ws}. */
        A up(CpuWorkspaces.Workspace ws) {
            return l.padded ? kn.scratch(ws, CpuWorkspaces.UPSTREAM, outs * l.positions) : dy;
        }

        /** Where image {@code img}'s upstream gradient starts in {@link #up}, spreading it first if needed. */
        int upstream(CpuWorkspaces.Workspace ws, int img) {
            int at = dyo + img * outs * l.w.outPlane();
            if (!l.padded) {
                return at;
            }
            l.spread(dy, at, outs, up(ws));
            return 0;
        }

        /** {@code partial[P, O] (+)= operand·upᵀ} for one image; {@code first} overwrites the partial. */
        void weightGradient(CpuWorkspaces.Workspace ws, A x, int xo, int at, A partial, int po, boolean first) {
            int p = l.w.patchSize();
            A src = kn.scratch(ws, CpuWorkspaces.IMAGE, l.sourceSize);
            A ap = kn.scratch(ws, CpuWorkspaces.PACK_A, patchPad * kcPos);
            A bp = kn.scratch(ws, CpuWorkspaces.PACK_B, CpuGemm.roundUp(outs, kn.nr) * kcPos);
            A edge = kn.edgeScratch(ws);
            A up = up(ws);
            l.fill(x, xo, src);
            for (int pc = 0; pc < l.positions; pc += kcPos) {
                int kcq = Math.min(kcPos, l.positions - pc);
                kn.packLinesAt(src, l.starts, 0, p, pc, kcq, kn.mr, ap, 0);
                kn.packB(true, up, at, l.positions, pc, kcq, 0, outs, bp, 0);
                tiles(kn, kcq, ap, 0, p, bp, outs, partial, po, outs, first && pc == 0 ? 0 : 1, edge);
            }
        }

        /** {@code cols[P, Q] = weightᵀ·up} for one image, then its adjoint into the image's gradient. */
        void inputGradient(CpuWorkspaces.Workspace ws, A weightsT, int at, A dx, int dxo) {
            int p = l.w.patchSize();
            A bp = kn.scratch(ws, CpuWorkspaces.PACK_B, CpuGemm.roundUp(l.positions, kn.nr) * kcOut);
            A cols = kn.scratch(ws, CpuWorkspaces.PRODUCT, p * l.positions);
            A edge = kn.edgeScratch(ws);
            A up = up(ws);
            for (int pc = 0; pc < outs; pc += kcOut) {
                int kcq = Math.min(kcOut, outs - pc);
                kn.packB(false, up, at, l.positions, pc, kcq, 0, l.positions, bp, 0);
                tiles(kn, kcq, weightsT, pc * patchPad, p, bp, l.positions, cols, 0, l.positions, pc == 0 ? 0 : 1,
                        edge);
            }
            l.adjoint(cols, kn.scratch(ws, CpuWorkspaces.IMAGE, l.sourceSize), dx, dxo, loops32);
        }
    }
}
