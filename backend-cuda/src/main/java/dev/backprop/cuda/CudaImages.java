package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.backend.base.OpFamilies;
import dev.backprop.cuda.CudaLaunch.Shape;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * im2col and col2im, the strided copy, max and average pooling and their backward passes (kernels in
 * {@code images.cu}): one grid-stride launch each, with one thread per element written (im2col: per channel and
 * output column, writing that channel's taps). The backward passes gather: each input element sums the windows
 * that hold it in ascending order, so no two threads write one element, no atomics are needed and every sum has a
 * fixed order. Arguments are validated by core; the call writes at least one element.
 *
 * <p>Convolution stays the SPI's default on these kernels and cuBLAS ({@code Im2colConvolution}): see the
 * README's "Convolution" section for why no batched variant writing NCHW directly is used.
 */
final class CudaImages implements OpFamilies.Images<CudaBuffer> {
    private final CudaLaunch launch;

    CudaImages(CudaLaunch launch) {
        this.launch = launch;
    }

    /** The im2col launch: one thread per channel and column of the {@code patchSize × columns} matrix. */
    static Shape im2colShape(Window2d w, int maxBlocks) {
        return Shape.elementwise((long) w.channels() * w.columns(), maxBlocks);
    }

    /** The launch of a kernel writing the input batch (col2im, the pooling backward passes): one thread each. */
    static Shape inputShape(Window2d w, int maxBlocks) {
        return Shape.elementwise(w.inputSize(), maxBlocks);
    }

    /** The launch of a kernel writing the pooled batch {@code [n, channels, outH, outW]}: one thread each. */
    static Shape outputShape(Window2d w, int maxBlocks) {
        return Shape.elementwise((long) w.n() * w.channels() * w.outPlane(), maxBlocks);
    }

    /** The window's twelve {@code int}s ({@code WINDOW_PARAMS} in images.cu), then {@code rest}. */
    private static Object[] args(Window2d w, Object... rest) {
        Object[] a = {w.n(), w.channels(), w.height(), w.width(), w.kernelH(), w.kernelW(), w.strideH(),
                w.strideW(), w.padH(), w.padW(), w.dilationH(), w.dilationW()};
        Object[] all = new Object[a.length + rest.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(rest, 0, all, a.length, rest.length);
        return all;
    }

    private static CudaKernel bits(DType dtype, CudaKernel b32, CudaKernel b64) {
        return dtype == DType.FLOAT64 ? b64 : b32;
    }

    @Override
    public void im2col(Window2d w, CudaBuffer x, long xOffset, CudaBuffer cols, long colsOffset) {
        launch.launch(bits(x.dtype(), CudaKernel.IM2COL_B32, CudaKernel.IM2COL_B64), im2colShape(w, launch.maxBlocks()),
                args(w, x.at(xOffset), cols.at(colsOffset)));
    }

    @Override
    public void col2im(Window2d w, CudaBuffer cols, long colsOffset, CudaBuffer dx, long dxOffset) {
        launch.launch(floating(dx.dtype(), CudaKernel.COL2IM_F32, CudaKernel.COL2IM_F64),
                inputShape(w, launch.maxBlocks()), args(w, cols.at(colsOffset), dx.at(dxOffset)));
    }

    /** Sizes and strides padded to rank 4 with leading sizes of 1; one thread per destination element. */
    @Override
    public void copyStrided(int[] sizes, CudaBuffer src, long srcOffset, long[] srcStrides, CudaBuffer dst,
                            long dstOffset) {
        int[] d = {1, 1, 1, 1};
        long[] s = {0, 0, 0, 0};
        int shift = d.length - sizes.length;
        for (int k = 0; k < sizes.length; k++) {
            d[shift + k] = sizes[k];
            s[shift + k] = srcStrides[k];
        }
        long n = (long) d[0] * d[1] * d[2] * d[3];
        launch.elementwise(bits(src.dtype(), CudaKernel.COPY_STRIDED_B32, CudaKernel.COPY_STRIDED_B64), n, n, d[1],
                d[2], d[3], src.at(srcOffset), s[0], s[1], s[2], s[3], dst.at(dstOffset));
    }

    @Override
    public void maxPool2d(Window2d w, CudaBuffer x, long xOffset, CudaBuffer y, long yOffset, CudaBuffer argmax,
                          long argmaxOffset) {
        launch.launch(floating(x.dtype(), CudaKernel.MAX_POOL2D_F32, CudaKernel.MAX_POOL2D_F64),
                outputShape(w, launch.maxBlocks()), args(w, x.at(xOffset), y.at(yOffset), argmax.at(argmaxOffset)));
    }

    @Override
    public void maxPool2dBackward(Window2d w, CudaBuffer dy, long dyOffset, CudaBuffer argmax, long argmaxOffset,
                                  CudaBuffer dx, long dxOffset) {
        launch.launch(floating(dx.dtype(), CudaKernel.MAX_POOL2D_BACKWARD_F32, CudaKernel.MAX_POOL2D_BACKWARD_F64),
                inputShape(w, launch.maxBlocks()), args(w, dy.at(dyOffset), argmax.at(argmaxOffset), dx.at(dxOffset)));
    }

    @Override
    public void avgPool2d(Window2d w, boolean countIncludePad, CudaBuffer x, long xOffset, CudaBuffer y,
                          long yOffset) {
        launch.launch(floating(x.dtype(), CudaKernel.AVG_POOL2D_F32, CudaKernel.AVG_POOL2D_F64),
                outputShape(w, launch.maxBlocks()), args(w, countIncludePad ? 1 : 0, x.at(xOffset), y.at(yOffset)));
    }

    @Override
    public void avgPool2dBackward(Window2d w, boolean countIncludePad, CudaBuffer dy, long dyOffset, CudaBuffer dx,
                                  long dxOffset) {
        launch.launch(floating(dx.dtype(), CudaKernel.AVG_POOL2D_BACKWARD_F32, CudaKernel.AVG_POOL2D_BACKWARD_F64),
                inputShape(w, launch.maxBlocks()), args(w, countIncludePad ? 1 : 0, dy.at(dyOffset), dx.at(dxOffset)));
    }
}
