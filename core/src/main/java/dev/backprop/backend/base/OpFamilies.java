package dev.backprop.backend.base;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

/**
 * The op families a backend module implements, one class each ({@code CpuGemm}, {@code OpenClGemm},
 * {@code CudaGemm}, ...), with the buffers already cast to the module's buffer class. Each method is the
 * {@link Backend} method of the same name, whose Javadoc is the contract; {@link BaseBackend} calls it with the
 * lock held, the backend open, and only when the call writes at least one element (so a family never sees an
 * empty output). Arguments are validated by core's facades.
 *
 * @param transfers   host transfers, device copies, fills and the wait for queued work
 * @param gemm        the (batched) matrix product
 * @param elementwise unary ops and their backward forms, broadcasting binary ops, axpby, transpose, row gather
 * @param reductions  sums, means and maxima along an axis, argmax per row
 * @param softmax     row softmax and the fused softmax cross-entropy
 * @param updates     fused optimizer steps
 * @param images      im2col and col2im, strided copies, max and average pooling (the convolution itself is the SPI's
 *                    default on {@code gemm} unless {@code convolution} is given)
 * @param normalization batch-norm statistics, forward and backward, and dropout
 * @param convolution a module's own convolution, or null for the SPI's im2col-and-GEMM default
 * @param <B>         the module's buffer class
 */
public record OpFamilies<B extends BaseBuffer<?>>(Transfers<B> transfers, Gemm<B> gemm, Elementwise<B> elementwise,
                                                  Reductions<B> reductions, Softmax<B> softmax, Updates<B> updates,
                                                  Images<B> images, Normalization<B> normalization,
                                                  Convolution<B> convolution) {

    /** See {@link Backend#upload(HostArray, dev.backprop.backend.Buffer, long)} and the methods named alike. */
    public interface Transfers<B> {
        /** The host range's dtype is the buffer's; the range fits (checked by {@link BaseBackend}). */
        void upload(HostArray src, B dst, long dstOffset);

        /** The host range's dtype is the buffer's; the range fits (checked by {@link BaseBackend}). */
        void download(B src, long srcOffset, HostArray dst);

        /** Never called for an identical source and destination range. */
        void copy(B src, long srcOffset, B dst, long dstOffset, long length);

        void fill(B dst, long offset, long length, double value);

        void synchronize();
    }

    /** See {@link Backend#gemm}. Called when {@code m}, {@code n} and {@code batch} are positive. */
    public interface Gemm<B> {
        void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, B a, long aOffset, int lda,
                  B b, long bOffset, int ldb, double beta, B c, long cOffset, int ldc, int batch, long strideA,
                  long strideB, long strideC);
    }

    /** See {@link Backend#unary} and the methods named alike. */
    public interface Elementwise<B> {
        void unary(UnaryOp op, double p1, double p2, B x, long xOffset, B y, long yOffset, long n);

        void unaryBackward(UnaryOp op, double p1, double p2, B x, long xOffset, B g, long gOffset, B dx,
                           long dxOffset, long n);

        void binary(BinaryOp op, int rows, int cols, B a, long aOffset, Broadcast aBroadcast, B b, long bOffset,
                    Broadcast bBroadcast, B out, long outOffset);

        void axpby(long n, double alpha, B x, long xOffset, double beta, B y, long yOffset);

        void transpose(int rows, int cols, B src, long srcOffset, B dst, long dstOffset);

        void gatherRows(int rows, int cols, B src, long srcOffset, int srcRows, B indices, long indicesOffset, B dst,
                        long dstOffset);
    }

    /** See {@link Backend#reduce} and {@link Backend#argmaxRows}. */
    public interface Reductions<B> {
        void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, B x, long xOffset, B out, long outOffset);

        void argmaxRows(int rows, int cols, B x, long xOffset, B out, long outOffset);
    }

    /** See {@link Backend#softmaxRows} and the methods named alike. */
    public interface Softmax<B> {
        void softmaxRows(boolean log, int rows, int cols, B x, long xOffset, B y, long yOffset);

        void softmaxCrossEntropy(int rows, int cols, B logits, long logitsOffset, B labels, long labelsOffset,
                                 B losses, long lossesOffset, B probs, long probsOffset);

        void softmaxCrossEntropyBackward(int rows, int cols, B probs, long probsOffset, B labels, long labelsOffset,
                                         B g, long gOffset, B dlogits, long dlogitsOffset);
    }

    /** See {@link Backend#sgdUpdate} and {@link Backend#adamUpdate}; {@code velocity} is null without momentum. */
    public interface Updates<B> {
        void sgdUpdate(long n, B param, long paramOffset, B grad, long gradOffset, B velocity, long velocityOffset,
                       double lr, double momentum, double weightDecay, boolean nesterov);

        void adamUpdate(long n, B param, long paramOffset, B grad, long gradOffset, B m, long mOffset, B v,
                        long vOffset, double lr, double beta1, double beta2, double eps, double weightDecay,
                        boolean decoupled, long step);
    }

    /** See {@link Backend#im2col} and the methods named alike. Called only when the call writes something. */
    public interface Images<B> {
        void im2col(Window2d w, B x, long xOffset, B cols, long colsOffset);

        void col2im(Window2d w, B cols, long colsOffset, B dx, long dxOffset);

        /** {@code sizes} and {@code srcStrides} always have four entries, outermost first. */
        void copyStrided(int[] sizes, B src, long srcOffset, long[] srcStrides, B dst, long dstOffset);

        void maxPool2d(Window2d w, B x, long xOffset, B y, long yOffset, B argmax, long argmaxOffset);

        void maxPool2dBackward(Window2d w, B dy, long dyOffset, B argmax, long argmaxOffset, B dx, long dxOffset);

        void avgPool2d(Window2d w, boolean countIncludePad, B x, long xOffset, B y, long yOffset);

        void avgPool2dBackward(Window2d w, boolean countIncludePad, B dy, long dyOffset, B dx, long dxOffset);
    }

    /** See {@link Backend#batchNormStats} and the methods named alike, and {@link Backend#dropout}. */
    public interface Normalization<B> {
        void batchNormStats(int n, int c, int s, B x, long xOffset, B mean, long meanOffset, B var, long varOffset);

        void batchNormForward(int n, int c, int s, double eps, B x, long xOffset, B mean, long meanOffset, B var,
                              long varOffset, B gamma, long gammaOffset, B beta, long betaOffset, B y, long yOffset);

        void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, B x, long xOffset, B dy,
                               long dyOffset, B mean, long meanOffset, B var, long varOffset, B gamma,
                               long gammaOffset, B dx, long dxOffset, B dgamma, long dgammaOffset, B dbeta,
                               long dbetaOffset);

        void dropout(long n, int threshold, double scale, long seed, long offset, B x, long xOffset, B y,
                     long yOffset);
    }

    /**
     * A module's own convolution, replacing the SPI's default (see {@link Backend#conv2d},
     * {@link Backend#conv2dBackward}); {@code bias}, {@code dx}, {@code dweight} and {@code dbias} may be null.
     */
    public interface Convolution<B> {
        void conv2d(Window2d w, int outChannels, B x, long xOffset, B weight, long weightOffset, B bias,
                    long biasOffset, B y, long yOffset);

        void conv2dBackward(Window2d w, int outChannels, B x, long xOffset, B weight, long weightOffset, B dy,
                            long dyOffset, B dx, long dxOffset, B dweight, long dweightOffset, B dbias,
                            long dbiasOffset);
    }
}
