package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.backend.base.OpFamilies;

/**
 * im2col and col2im, the strided copy, and max and average pooling with their backward passes ({@code images.cl}).
 * Every kernel gives one work-item a line (an image row, or an image's block of a column-matrix row) and loops
 * along it, so the index arithmetic is paid per line; the backward passes gather into the line they own in a fixed
 * order, so they need no atomics and are deterministic. Convolution itself is the SPI's default (im2col, this backend's
 * GEMM and a {@link #copyStrided}), which measured fast enough on PoCL that a kernel of its own did not pay (see the
 * README).
 */
final class OpenClImages implements OpFamilies.Images<OpenClBuffer> {
    private static final String SOURCE = "images.cl";
    private static final String[] FLOATING_KERNELS = {"im2col", "col2im", "max_pool2d", "max_pool2d_backward",
            "avg_pool2d", "avg_pool2d_backward"};

    private final OpenClRuntime rt;

    OpenClImages(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the program for {@code dtype} and creates its kernels (INT32: the strided copy only). */
    void prepare(DType dtype) {
        launch(dtype, "copy_strided");
        if (dtype.isFloating()) {
            for (String k : FLOATING_KERNELS) {
                launch(dtype, k);
            }
        }
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, "", dtype, kernel);
    }

    /** A launch of {@code kernel} with images.cl's WINDOW arguments set from {@code w}. */
    private OpenClLaunch window(DType dtype, String kernel, Window2d w) {
        return launch(dtype, kernel).i32(w.channels()).i32(w.height()).i32(w.width()).i32(w.kernelH())
                .i32(w.kernelW()).i32(w.strideH()).i32(w.strideW()).i32(w.padH()).i32(w.padW()).i32(w.dilationH())
                .i32(w.dilationW()).i32(w.outH()).i32(w.outW());
    }

    private void run(OpenClLaunch launch, long lines) {
        launch.run1(lines, rt.elementwiseGroupSize);
    }

    @Override
    public void im2col(Window2d w, OpenClBuffer x, long xOffset, OpenClBuffer cols, long colsOffset) {
        long blocks = (long) w.n() * w.patchSize();
        run(window(x.dtype(), "im2col", w).i64(blocks).i32(w.patchSize()).i64(w.columns()).mem(x).i64(xOffset)
                .mem(cols).i64(colsOffset), blocks);
    }

    @Override
    public void col2im(Window2d w, OpenClBuffer cols, long colsOffset, OpenClBuffer dx, long dxOffset) {
        long lines = (long) w.n() * w.channels() * w.height();
        run(window(dx.dtype(), "col2im", w).i64(lines).i64(w.columns()).mem(cols).i64(colsOffset).mem(dx)
                .i64(dxOffset), lines);
    }

    @Override
    public void copyStrided(int[] d, OpenClBuffer src, long srcOffset, long[] s, OpenClBuffer dst,
                            long dstOffset) {
        long rows = (long) d[0] * d[1] * d[2];
        run(launch(dst.dtype(), "copy_strided").i64(rows).i32(d[1]).i32(d[2]).i32(d[3]).mem(src).i64(srcOffset)
                .i64(s[0]).i64(s[1]).i64(s[2]).i64(s[3]).mem(dst).i64(dstOffset), rows);
    }

    @Override
    public void maxPool2d(Window2d w, OpenClBuffer x, long xOffset, OpenClBuffer y, long yOffset, OpenClBuffer argmax,
                          long argmaxOffset) {
        long lines = (long) w.n() * w.channels() * w.outH();
        run(window(x.dtype(), "max_pool2d", w).i64(lines).mem(x).i64(xOffset).mem(y).i64(yOffset).mem(argmax)
                .i64(argmaxOffset), lines);
    }

    @Override
    public void maxPool2dBackward(Window2d w, OpenClBuffer dy, long dyOffset, OpenClBuffer argmax, long argmaxOffset,
                                  OpenClBuffer dx, long dxOffset) {
        long lines = (long) w.n() * w.channels() * w.height();
        run(window(dx.dtype(), "max_pool2d_backward", w).i64(lines).mem(dy).i64(dyOffset).mem(argmax)
                .i64(argmaxOffset).mem(dx).i64(dxOffset), lines);
    }

    @Override
    public void avgPool2d(Window2d w, boolean countIncludePad, OpenClBuffer x, long xOffset, OpenClBuffer y,
                          long yOffset) {
        long lines = (long) w.n() * w.channels() * w.outH();
        run(window(x.dtype(), "avg_pool2d", w).i64(lines).i32(countIncludePad ? 1 : 0).mem(x).i64(xOffset).mem(y)
                .i64(yOffset), lines);
    }

    @Override
    public void avgPool2dBackward(Window2d w, boolean countIncludePad, OpenClBuffer dy, long dyOffset,
                                  OpenClBuffer dx, long dxOffset) {
        long lines = (long) w.n() * w.channels() * w.height();
        run(window(dx.dtype(), "avg_pool2d_backward", w).i64(lines).i32(countIncludePad ? 1 : 0).mem(dy)
                .i64(dyOffset).mem(dx).i64(dxOffset), lines);
    }
}
