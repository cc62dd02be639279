package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.backend.base.OpFamilies;

/**
 * The image primitives of the cpu backend on NCHW batches: im2col and col2im, strided copies, max and average
 * pooling. Work is split over the pool by image plane (one channel of one image), so every output element is
 * written by exactly one thread in a fixed order and results never depend on thread timing.
 *
 * <h2>How each op walks its data</h2>
 * <ul>
 *   <li><b>im2col</b>: one task per input plane writes the {@code kernelH·kernelW} rows of the column matrix that
 *       read it, each as {@code outH} runs of {@code outW} values; a run is a copy of an input row ({@code
 *       System.arraycopy} when the stride is 1) between the zeros of the padding, so no element is tested for
 *       being inside the image.</li>
 *   <li><b>col2im</b>: the same runs, added back into one zeroed input plane per task: a scatter, but each plane
 *       belongs to one task and the taps are added in one fixed order.</li>
 *   <li><b>pooling</b>: the window of every output position is the same list of in-plane offsets for every plane
 *       ({@link PoolTaps}, built once per call); the per-plane loops ({@link PlaneKernels}) only index it. The
 *       backward passes scatter into their own zeroed planes, as col2im.</li>
 *   <li><b>copyStrided</b>: rows of the innermost dimension, one {@code System.arraycopy} each where that
 *       dimension is contiguous in the source.</li>
 * </ul>
 */
final class CpuImages implements OpFamilies.Images<CpuBuffer> {
    /** Elements per parallel piece, as for the elementwise ops. */
    private static final long PARALLEL_MIN = CpuElementwise.PARALLEL_MIN;

    private final CpuThreads threads;
    private final CpuWorkspaces workspaces;
    private final F32Kernels f32;

    CpuImages(CpuThreads threads, CpuWorkspaces workspaces, F32Kernels f32) {
        this.threads = threads;
        this.workspaces = workspaces;
        this.f32 = f32;
    }

    @Override
    public void im2col(Window2d w, CpuBuffer x, long xOffset, CpuBuffer cols, long colsOffset) {
        int planes = w.n() * w.channels(), plane = w.height() * w.width(), taps = w.kernelH() * w.kernelW();
        Object src = x.array(), dst = cols.array();
        int xo = (int) xOffset, co = (int) colsOffset;
        threads.parallelRange(planes, Math.max(1, PARALLEL_MIN / ((long) taps * w.outPlane())), 1, (p0, count) -> {
            for (int p = p0; p < p0 + count; p++) {
                int img = p / w.channels(), c = p % w.channels();
                for (int t = 0; t < taps; t++) {
                    im2colRow(w, src, xo + p * plane, t, dst, co + columnRun(w, c * taps + t, img));
                }
            }
        });
    }

    /** Where image {@code img}'s run of row {@code row} of the column matrix starts, relative to its offset. */
    static int columnRun(Window2d w, int row, int img) {
        return row * w.columns() + img * w.outPlane();
    }

    /** Tap {@code t} of one input plane into its {@code outH·outW} run of the column matrix. */
    static void im2colRow(Window2d w, Object x, int plane, int t, Object cols, int run) {
        int i = t / w.kernelW(), j = t % w.kernelW(), ow = w.outW();
        Span s = Span.of(w, j);
        for (int oy = 0; oy < w.outH(); oy++, run += ow) {
            int iy = oy * w.strideH() - w.padH() + i * w.dilationH();
            if (iy < 0 || iy >= w.height() || s.count() == 0) {
                ArrayRuns.zero(cols, run, run + ow);
                continue;
            }
            ArrayRuns.zero(cols, run, run + s.first());
            ArrayRuns.gather(x, plane + iy * w.width() + s.firstColumn(), w.strideW(), cols, run + s.first(),
                    s.count());
            ArrayRuns.zero(cols, run + s.first() + s.count(), run + ow);
        }
    }

    @Override
    public void col2im(Window2d w, CpuBuffer cols, long colsOffset, CpuBuffer dx, long dxOffset) {
        int planes = w.n() * w.channels(), plane = w.height() * w.width(), taps = w.kernelH() * w.kernelW();
        Object src = cols.array(), dst = dx.array();
        int co = (int) colsOffset, xo = (int) dxOffset;
        threads.parallelRange(planes, Math.max(1, PARALLEL_MIN / ((long) taps * w.outPlane())), 1, (p0, count) -> {
            for (int p = p0; p < p0 + count; p++) {
                int img = p / w.channels(), c = p % w.channels(), base = xo + p * plane;
                ArrayRuns.zero(dst, base, base + plane);
                for (int t = 0; t < taps; t++) {
                    col2imRow(w, src, co + columnRun(w, c * taps + t, img), t, dst, base);
                }
            }
        });
    }

    /** The adjoint of {@link #im2colRow}: the run's values added into the input plane. */
    static void col2imRow(Window2d w, Object cols, int run, int t, Object dx, int plane) {
        int i = t / w.kernelW(), j = t % w.kernelW(), ow = w.outW();
        Span s = Span.of(w, j);
        if (s.count() == 0) {
            return;
        }
        for (int oy = 0; oy < w.outH(); oy++, run += ow) {
            int iy = oy * w.strideH() - w.padH() + i * w.dilationH();
            if (iy >= 0 && iy < w.height()) {
                ArrayRuns.scatterAdd(cols, run + s.first(), dx, plane + iy * w.width() + s.firstColumn(),
                        w.strideW(), s.count());
            }
        }
    }

    /**
     * The output columns {@code [first, first + count)} whose tap column {@code j} lies inside the image, and the
     * input column the first of them reads ({@code firstColumn}); later ones step by the stride.
     */
    record Span(int first, int count, int firstColumn) {
        static Span of(Window2d w, int j) {
            int shift = j * w.dilationW() - w.padW(); // input column of output column 0
            int first = shift >= 0 ? 0 : (-shift + w.strideW() - 1) / w.strideW();
            int lastColumn = w.width() - 1 - shift; // ox·stride must not pass it
            int end = lastColumn < 0 ? 0 : Math.min(w.outW(), lastColumn / w.strideW() + 1);
            int count = Math.max(0, end - first);
            return new Span(Math.min(first, w.outW()), count, first * w.strideW() + shift);
        }
    }

    @Override
    public void copyStrided(int[] d, CpuBuffer src, long srcOffset, long[] s, CpuBuffer dst,
                            long dstOffset) {
        int rows = d[0] * d[1] * d[2], cols = d[3];
        Object from = CpuBuffer.source(src, dst), to = dst.array();
        int so = (int) srcOffset, dOff = (int) dstOffset;
        threads.parallelRows(rows, cols, PARALLEL_MIN, (r0, nr) -> {
            for (int r = r0; r < r0 + nr; r++) {
                int a = r / (d[1] * d[2]), b = r / d[2] % d[1], c = r % d[2];
                long start = so + a * s[0] + b * s[1] + c * s[2];
                ArrayRuns.gather(from, (int) start, (int) s[3], to, dOff + r * cols, cols);
            }
        });
    }

    @Override
    public void maxPool2d(Window2d w, CpuBuffer x, long xOffset, CpuBuffer y, long yOffset, CpuBuffer argmax,
                          long argmaxOffset) {
        if (x.dtype() == DType.FLOAT32 && w.kernelH() == 2 && w.kernelW() == 2 && w.strideH() == 2
                && w.strideW() == 2 && w.padH() == 0 && w.padW() == 0 && w.dilationH() == 1 && w.dilationW() == 1
                && w.width() % 2 == 0) {
            maxPool2x2(w, x.floats(), (int) xOffset, y.floats(), (int) yOffset, argmax.ints(), (int) argmaxOffset);
            return;
        }
        boolean inside = w.padH() == 0 && w.padW() == 0 && x.dtype() == DType.FLOAT32;
        PoolTaps taps = inside ? null : PoolTaps.of(w, true);
        int plane = w.height() * w.width(), out = w.outPlane();
        int xo = (int) xOffset, yo = (int) yOffset, ao = (int) argmaxOffset;
        int[] arg = argmax.ints();
        overPlanes(w, (long) out * w.kernelH() * w.kernelW(), p -> {
            if (inside) {
                PlaneKernels.maxPoolInside(w, x.floats(), xo + p * plane, y.floats(), yo + p * out, arg, ao + p * out);
            } else if (x.array() instanceof float[] xs) {
                PlaneKernels.maxPool(taps, xs, xo + p * plane, y.floats(), yo + p * out, arg, ao + p * out);
            } else {
                PlaneKernels.maxPool(taps, x.doubles(), xo + p * plane, y.doubles(), yo + p * out, arg, ao + p * out);
            }
        });
    }

    /** The 2×2, stride-2 pooling of the reference CNN: one {@link F32Kernels#maxPool2x2} call per plane. */
    private void maxPool2x2(Window2d w, float[] x, int xo, float[] y, int yo, int[] arg, int ao) {
        int plane = w.height() * w.width(), out = w.outPlane(), planes = w.n() * w.channels();
        int scratch = f32.maxPoolScratch(w.width(), w.outH());
        threads.parallelRange(planes, Math.max(1, PARALLEL_MIN / plane), 1, (p0, count) -> {
            CpuWorkspaces.Workspace ws = workspaces.acquire();
            try {
                float[] h = ws.floats(CpuWorkspaces.ROW_A, scratch);
                int[] hb = ws.ints(CpuWorkspaces.ROW_B, scratch);
                for (int p = p0; p < p0 + count; p++) {
                    f32.maxPool2x2(x, xo + p * plane, w.width(), w.outH(), y, yo + p * out, arg, ao + p * out, h, hb);
                }
            } finally {
                workspaces.release(ws);
            }
        });
    }

    @Override
    public void maxPool2dBackward(Window2d w, CpuBuffer dy, long dyOffset, CpuBuffer argmax, long argmaxOffset,
                                  CpuBuffer dx, long dxOffset) {
        int plane = w.height() * w.width(), out = w.outPlane();
        int go = (int) dyOffset, ao = (int) argmaxOffset, xo = (int) dxOffset;
        int[] arg = argmax.ints();
        overPlanes(w, out + plane, p -> {
            int base = xo + p * plane;
            ArrayRuns.zero(dx.array(), base, base + plane);
            if (dx.array() instanceof float[] ds) {
                PlaneKernels.maxPoolBackward(dy.floats(), go + p * out, arg, ao + p * out, out, ds, base, plane);
            } else {
                PlaneKernels.maxPoolBackward(dy.doubles(), go + p * out, arg, ao + p * out, out, dx.doubles(), base,
                        plane);
            }
        });
    }

    @Override
    public void avgPool2d(Window2d w, boolean countIncludePad, CpuBuffer x, long xOffset, CpuBuffer y, long yOffset) {
        PoolTaps taps = PoolTaps.of(w, countIncludePad);
        int plane = w.height() * w.width(), out = w.outPlane();
        int xo = (int) xOffset, yo = (int) yOffset;
        overPlanes(w, taps.taps().length, p -> {
            if (x.array() instanceof float[] xs) {
                PlaneKernels.avgPool(taps, xs, xo + p * plane, y.floats(), yo + p * out);
            } else {
                PlaneKernels.avgPool(taps, x.doubles(), xo + p * plane, y.doubles(), yo + p * out);
            }
        });
    }

    @Override
    public void avgPool2dBackward(Window2d w, boolean countIncludePad, CpuBuffer dy, long dyOffset, CpuBuffer dx,
                                  long dxOffset) {
        PoolTaps taps = PoolTaps.of(w, countIncludePad);
        int plane = w.height() * w.width(), out = w.outPlane();
        int go = (int) dyOffset, xo = (int) dxOffset;
        overPlanes(w, taps.taps().length + plane, p -> {
            int base = xo + p * plane;
            ArrayRuns.zero(dx.array(), base, base + plane);
            if (dx.array() instanceof float[] ds) {
                PlaneKernels.avgPoolBackward(taps, dy.floats(), go + p * out, ds, base);
            } else {
                PlaneKernels.avgPoolBackward(taps, dy.doubles(), go + p * out, dx.doubles(), base);
            }
        });
    }

    /** One plane's work, given its index {@code n·channel} order. */
    private interface PlaneTask {
        void run(int plane);
    }

    /** Runs {@code task} for every plane of the batch, {@code perPlane} elements of work each. */
    private void overPlanes(Window2d w, long perPlane, PlaneTask task) {
        int planes = w.n() * w.channels();
        threads.parallelRange(planes, Math.max(1, PARALLEL_MIN / Math.max(1, perPlane)), 1, (p0, count) -> {
            for (int p = p0; p < p0 + count; p++) {
                task.run(p);
            }
        });
    }
}
