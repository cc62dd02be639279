package dev.backprop.backend.base;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

import java.util.List;

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
 * @param fused       a module's fused ops of a training step, or null for the SPI's defaults on the other families
 * @param <B>         the module's buffer class
 */
public record OpFamilies<B extends BaseBuffer<?>>(Transfers<B> transfers, Gemm<B> gemm, Elementwise<B> elementwise,
                                                  Reductions<B> reductions, Softmax<B> softmax, Updates<B> updates,
                                                  Images<B> images, Normalization<B> normalization,
                                                  Convolution<B> convolution, Fused<B> fused) {

    /**
     * See {@link Backend#upload(HostArray, dev.backprop.backend.Buffer, long)} and the methods named alike.
     *
     * @param <B> the module's buffer class
     */
    public interface Transfers<B> {
        /**
         * As {@link Backend#upload(HostArray, dev.backprop.backend.Buffer, long)}. The host range's dtype is the
         * buffer's; the range fits (checked by {@link BaseBackend}).
         *
         * @param src       the host range
         * @param dst       the buffer
         * @param dstOffset the first element written
         */
        void upload(HostArray src, B dst, long dstOffset);

        /**
         * As {@link Backend#download(dev.backprop.backend.Buffer, long, HostArray)}. The host range's dtype is the
         * buffer's; the range fits (checked by {@link BaseBackend}).
         *
         * @param src       the buffer
         * @param srcOffset the first element read
         * @param dst       the host range, written
         */
        void download(B src, long srcOffset, HostArray dst);

        /**
         * As {@link Backend#copy}. Never called for an identical source and destination range.
         *
         * @param src       the source buffer
         * @param srcOffset the first element read
         * @param dst       the destination buffer
         * @param dstOffset the first element written
         * @param length    elements to copy
         */
        void copy(B src, long srcOffset, B dst, long dstOffset, long length);

        /**
         * As {@link Backend#fill}.
         *
         * @param dst    the buffer
         * @param offset the first element set
         * @param length elements to set
         * @param value  the value
         */
        void fill(B dst, long offset, long length, double value);

        /** Waits until all queued work is done. */
        void synchronize();
    }

    /**
     * See {@link Backend#gemm}. Called when {@code m}, {@code n} and {@code batch} are positive.
     *
     * @param <B> the module's buffer class
     */
    public interface Gemm<B> {
        /**
         * As {@link Backend#gemm}.
         *
         * @param transA  whether {@code op(A)} is {@code Aᵀ}
         * @param transB  whether {@code op(B)} is {@code Bᵀ}
         * @param m       rows of {@code op(A)} and C
         * @param n       columns of {@code op(B)} and C
         * @param k       columns of {@code op(A)}, rows of {@code op(B)}
         * @param alpha   the product's factor
         * @param a       A's buffer
         * @param aOffset {@code A_0}'s first element
         * @param lda     A's row stride
         * @param b       B's buffer
         * @param bOffset {@code B_0}'s first element
         * @param ldb     B's row stride
         * @param beta    the factor of C's old contents
         * @param c       C's buffer
         * @param cOffset {@code C_0}'s first element
         * @param ldc     C's row stride
         * @param batch   products in the batch (1 for one)
         * @param strideA elements from {@code A_i} to {@code A_i+1}
         * @param strideB elements from {@code B_i} to {@code B_i+1}
         * @param strideC elements from {@code C_i} to {@code C_i+1}
         */
        void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, B a, long aOffset, int lda,
                  B b, long bOffset, int ldb, double beta, B c, long cOffset, int ldc, int batch, long strideA,
                  long strideB, long strideC);
    }

    /**
     * See {@link Backend#unary} and the methods named alike.
     *
     * @param <B> the module's buffer class
     */
    public interface Elementwise<B> {
        /**
         * As {@link Backend#unary}.
         *
         * @param op      the operation
         * @param p1      its first parameter (see {@link UnaryOp}), or 0
         * @param p2      its second parameter, or 0
         * @param x       the input
         * @param xOffset its first element
         * @param y       the output
         * @param yOffset its first element
         * @param n       elements
         */
        void unary(UnaryOp op, double p1, double p2, B x, long xOffset, B y, long yOffset, long n);

        /**
         * As {@link Backend#unaryBackward}.
         *
         * @param op       the operation
         * @param p1       its first parameter, or 0
         * @param p2       its second parameter, or 0
         * @param x        the forward input
         * @param xOffset  its first element
         * @param g        the gradient of the forward output
         * @param gOffset  its first element
         * @param dx       the gradient of the input, written
         * @param dxOffset its first element
         * @param n        elements
         */
        void unaryBackward(UnaryOp op, double p1, double p2, B x, long xOffset, B g, long gOffset, B dx,
                           long dxOffset, long n);

        /**
         * As {@link Backend#binary}.
         *
         * @param op         the operation
         * @param rows       rows of the result
         * @param cols       columns of the result
         * @param a          the first operand
         * @param aOffset    its first element
         * @param aBroadcast how it covers the result
         * @param b          the second operand
         * @param bOffset    its first element
         * @param bBroadcast how it covers the result
         * @param out        the result
         * @param outOffset  its first element
         */
        void binary(BinaryOp op, int rows, int cols, B a, long aOffset, Broadcast aBroadcast, B b, long bOffset,
                    Broadcast bBroadcast, B out, long outOffset);

        /**
         * As {@link Backend#axpby}.
         *
         * @param n       elements
         * @param alpha   the factor of {@code x}
         * @param x       the added buffer
         * @param xOffset its first element
         * @param beta    the factor of {@code y}
         * @param y       the result, updated in place
         * @param yOffset its first element
         */
        void axpby(long n, double alpha, B x, long xOffset, double beta, B y, long yOffset);

        /**
         * As {@link Backend#transpose}.
         *
         * @param rows      rows of {@code src}
         * @param cols      columns of {@code src}
         * @param src       the source buffer
         * @param srcOffset its first element
         * @param dst       the destination buffer
         * @param dstOffset its first element
         */
        void transpose(int rows, int cols, B src, long srcOffset, B dst, long dstOffset);

        /**
         * As {@link Backend#gatherRows}.
         *
         * @param rows          rows to gather
         * @param cols          elements per row
         * @param src           the matrix to gather from
         * @param srcOffset     its first element
         * @param srcRows       its rows
         * @param indices       the INT32 row indices
         * @param indicesOffset the first index
         * @param dst           the gathered rows
         * @param dstOffset     their first element
         */
        void gatherRows(int rows, int cols, B src, long srcOffset, int srcRows, B indices, long indicesOffset, B dst,
                        long dstOffset);
    }

    /**
     * See {@link Backend#reduce} and {@link Backend#argmaxRows}.
     *
     * @param <B> the module's buffer class
     */
    public interface Reductions<B> {
        /**
         * As {@link Backend#reduce}.
         *
         * @param op        the reduction
         * @param axis      what it combines
         * @param rows      rows of the matrix
         * @param cols      its columns
         * @param x         the matrix
         * @param xOffset   its first element
         * @param out       the results
         * @param outOffset their first element
         */
        void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, B x, long xOffset, B out, long outOffset);

        /**
         * As {@link Backend#argmaxRows}.
         *
         * @param rows      rows of the matrix
         * @param cols      its columns
         * @param x         the matrix
         * @param xOffset   its first element
         * @param out       the INT32 indices
         * @param outOffset their first element
         */
        void argmaxRows(int rows, int cols, B x, long xOffset, B out, long outOffset);
    }

    /**
     * See {@link Backend#softmaxRows} and the methods named alike.
     *
     * @param <B> the module's buffer class
     */
    public interface Softmax<B> {
        /**
         * As {@link Backend#softmaxRows}.
         *
         * @param log     whether to write log-softmax
         * @param rows    rows of the matrix
         * @param cols    its columns
         * @param x       the logits
         * @param xOffset their first element
         * @param y       the result
         * @param yOffset its first element
         */
        void softmaxRows(boolean log, int rows, int cols, B x, long xOffset, B y, long yOffset);

        /**
         * As {@link Backend#softmaxCrossEntropy}.
         *
         * @param rows         samples
         * @param cols         classes
         * @param logits       the logits
         * @param logitsOffset their first element
         * @param labels       the INT32 labels
         * @param labelsOffset their first element
         * @param losses       the per-sample losses, written
         * @param lossesOffset their first element
         * @param probs        the probabilities, written
         * @param probsOffset  their first element
         */
        void softmaxCrossEntropy(int rows, int cols, B logits, long logitsOffset, B labels, long labelsOffset,
                                 B losses, long lossesOffset, B probs, long probsOffset);

        /**
         * As {@link Backend#softmaxCrossEntropyBackward}.
         *
         * @param rows          samples
         * @param cols          classes
         * @param probs         the forward pass's probabilities
         * @param probsOffset   their first element
         * @param labels        the INT32 labels
         * @param labelsOffset  their first element
         * @param g             the upstream gradient per sample
         * @param gOffset       its first element
         * @param dlogits       the gradient of the logits, written
         * @param dlogitsOffset its first element
         */
        void softmaxCrossEntropyBackward(int rows, int cols, B probs, long probsOffset, B labels, long labelsOffset,
                                         B g, long gOffset, B dlogits, long dlogitsOffset);
    }

    /**
     * See {@link Backend#sgdUpdate} and {@link Backend#adamUpdate}; {@code velocity} is null without momentum.
     *
     * @param <B> the module's buffer class
     */
    public interface Updates<B> {
        /**
         * As {@link Backend#sgdUpdate}.
         *
         * @param n              parameters
         * @param param          the parameters, updated in place
         * @param paramOffset    their first element
         * @param grad           the gradient
         * @param gradOffset     its first element
         * @param velocity       the momentum buffer, updated in place, or null without momentum
         * @param velocityOffset its first element
         * @param lr             the learning rate
         * @param momentum       μ
         * @param weightDecay    λ
         * @param nesterov       whether to use Nesterov momentum
         */
        void sgdUpdate(long n, B param, long paramOffset, B grad, long gradOffset, B velocity, long velocityOffset,
                       double lr, double momentum, double weightDecay, boolean nesterov);

        /**
         * As {@link Backend#adamUpdate}.
         *
         * @param n           parameters
         * @param param       the parameters, updated in place
         * @param paramOffset their first element
         * @param grad        the gradient
         * @param gradOffset  its first element
         * @param m           the first moment, updated in place
         * @param mOffset     its first element
         * @param v           the second moment, updated in place
         * @param vOffset     its first element
         * @param lr          the learning rate
         * @param beta1       the first moment's decay
         * @param beta2       the second moment's decay
         * @param eps         the term added to the denominator
         * @param weightDecay λ
         * @param decoupled   AdamW's decoupled decay when true
         * @param step        the step number, from 1
         */
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

    /**
     * A module's fused ops of a training step, replacing the SPI's defaults (see {@link Backend#biasActivation},
     * {@link Backend#biasActivationBackward}, {@link Backend#sgdUpdateAll}, {@link Backend#adamUpdateAll}) with
     * fewer launches and the same bits. The multi-tensor updates get the SPI's records, whose buffers
     * {@link BaseBackend} has checked to be this module's (so a cast to {@code B} is safe); their lists are never
     * empty.
     */
    public interface Fused<B> {
        void biasActivation(UnaryOp act, int rows, int cols, B z, long zOffset, B bias, long biasOffset, B y,
                            long yOffset);

        void biasActivationBackward(UnaryOp act, int rows, int cols, B y, long yOffset, B g, long gOffset, B dz,
                                    long dzOffset, B dbias, long dbiasOffset);

        void sgdUpdateAll(List<Backend.SgdTensor> tensors, double lr, double momentum, double weightDecay,
                          boolean nesterov);

        void adamUpdateAll(List<Backend.AdamTensor> tensors, double lr, double beta1, double beta2, double eps,
                           double weightDecay, boolean decoupled, long step);
    }

    /**
     * A module's recorder of whole training steps ({@link Backend#runStep}), given the pool blocks behind the buffers
     * a step uses so that it can {@link MemoryPool#pin pin} them; called with the backend's lock held.
     *
     * @param <M> the device's handle of a block
     */
    public interface StepRecorder<M> {
        /**
         * As {@link Backend#runStep}.
         *
         * @param key  what the step's device work depends on
         * @param uses the blocks of the live buffers the step uses
         * @param work queues the step's device work
         * @return true when {@code work} ran, false when a recording was replayed
         */
        boolean run(Object key, List<MemoryPool.Block<M>> uses, Runnable work);

        /** {@return whether a step is being recorded now: transfers and waits are refused meanwhile} */
        boolean recording();
    }
}
