package dev.backprop.backend.base;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The skeleton every backend module extends: {@link BackendCore}'s buffers, lock and lifetime, plus the
 * {@link dev.backprop.backend.Backend} ops, each of which takes the lock, checks that the backend is open, skips a
 * call that writes nothing and hands the rest to the module's {@link OpFamilies} with its buffer class. A module
 * supplies its {@link RawMemory}, its buffer class, its op families and identity ({@link #install}) and its native
 * resources ({@link #own}).
 *
 * @param <M> the device's handle of a block
 * @param <B> the module's buffer class
 */
public abstract class BaseBackend<M, B extends BaseBuffer<M>> extends BackendCore<M, B> {

    /**
     * A backend with no op families yet; the module's constructor calls {@link #install} next.
     *
     * @param name         the provider name, e.g. {@code cpu}
     * @param bufferType   the module's buffer class
     * @param buffers      makes a buffer of that class around a pool block (its constructor)
     * @param memory       the device's memory
     * @param poolCapBytes most bytes kept in released blocks for reuse
     */
    protected BaseBackend(String name, Class<B> bufferType, BaseBuffer.Factory<M, B> buffers, RawMemory<M> memory,
                          long poolCapBytes) {
        super(name, bufferType, buffers, memory, poolCapBytes);
    }

    // ---- ops: each runs only when it writes something ------------------------------------------------

    @Override
    public final void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Buffer a, long aOffset,
                           int lda, Buffer b, long bOffset, int ldb, double beta, Buffer c, long cOffset, int ldc,
                           int batch, long strideA, long strideB, long strideC) {
        run(m > 0 && n > 0 && batch > 0, () -> ops.gemm().gemm(transA, transB, m, n, k, alpha, cast(a), aOffset,
                lda, cast(b), bOffset, ldb, beta, cast(c), cOffset, ldc, batch, strideA, strideB, strideC));
    }

    @Override
    public final void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        run(rows > 0 && cols > 0, () -> ops.elementwise().transpose(rows, cols, cast(src), srcOffset, cast(dst),
                dstOffset));
    }

    @Override
    public final void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                                 long indicesOffset, Buffer dst, long dstOffset) {
        run(rows > 0 && cols > 0, () -> ops.elementwise().gatherRows(rows, cols, cast(src), srcOffset, srcRows,
                cast(indices), indicesOffset, cast(dst), dstOffset));
    }

    @Override
    public final void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset,
                            long n) {
        run(n > 0, () -> ops.elementwise().unary(op, p1, p2, cast(x), xOffset, cast(y), yOffset, n));
    }

    @Override
    public final void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g, long gOffset,
                                    Buffer dx, long dxOffset, long n) {
        run(n > 0, () -> ops.elementwise().unaryBackward(op, p1, p2, cast(x), xOffset, cast(g), gOffset, cast(dx),
                dxOffset, n));
    }

    @Override
    public final void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast, Buffer b,
                             long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        run(rows > 0 && cols > 0, () -> ops.elementwise().binary(op, rows, cols, cast(a), aOffset, aBroadcast,
                cast(b), bOffset, bBroadcast, cast(out), outOffset));
    }

    @Override
    public final void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset) {
        run(n > 0, () -> ops.elementwise().axpby(n, alpha, cast(x), xOffset, beta, cast(y), yOffset));
    }

    @Override
    public final void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset, Buffer out,
                             long outOffset) {
        run(axis.resultLength(rows, cols) > 0, () -> ops.reductions().reduce(op, axis, rows, cols, cast(x), xOffset,
                cast(out), outOffset));
    }

    @Override
    public final void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        run(rows > 0, () -> ops.reductions().argmaxRows(rows, cols, cast(x), xOffset, cast(out), outOffset));
    }

    @Override
    public final void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y, long yOffset) {
        run(rows > 0 && cols > 0, () -> ops.softmax().softmaxRows(log, rows, cols, cast(x), xOffset, cast(y),
                yOffset));
    }

    @Override
    public final void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                                          long labelsOffset, Buffer losses, long lossesOffset, Buffer probs,
                                          long probsOffset) {
        run(rows > 0, () -> ops.softmax().softmaxCrossEntropy(rows, cols, cast(logits), logitsOffset, cast(labels),
                labelsOffset, cast(losses), lossesOffset, cast(probs), probsOffset));
    }

    @Override
    public final void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset, Buffer labels,
                                                  long labelsOffset, Buffer g, long gOffset, Buffer dlogits,
                                                  long dlogitsOffset) {
        run(rows > 0 && cols > 0, () -> ops.softmax().softmaxCrossEntropyBackward(rows, cols, cast(probs),
                probsOffset, cast(labels), labelsOffset, cast(g), gOffset, cast(dlogits), dlogitsOffset));
    }

    @Override
    public final void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer velocity,
                                long velocityOffset, double lr, double momentum, double weightDecay,
                boolean nesterov) {
        run(n > 0, () -> ops.updates().sgdUpdate(n, cast(param), paramOffset, cast(grad), gradOffset,
                velocity == null ? null : cast(velocity), velocityOffset, lr, momentum, weightDecay, nesterov));
    }

    @Override
    public final void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer m,
                                 long mOffset, Buffer v, long vOffset, double lr, double beta1, double beta2,
                                 double eps, double weightDecay, boolean decoupled, long step) {
        run(n > 0, () -> ops.updates().adamUpdate(n, cast(param), paramOffset, cast(grad), gradOffset, cast(m),
                mOffset, cast(v), vOffset, lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }

    // ---- images, normalization, dropout ----------------------------------------------------------------

    @Override
    public final void im2col(Window2d w, Buffer x, long xOffset, Buffer cols, long colsOffset) {
        run(w.columns() > 0, () -> ops.images().im2col(w, cast(x), xOffset, cast(cols), colsOffset));
    }

    @Override
    public final void col2im(Window2d w, Buffer cols, long colsOffset, Buffer dx, long dxOffset) {
        run(w.inputSize() > 0, () -> ops.images().col2im(w, cast(cols), colsOffset, cast(dx), dxOffset));
    }

    @Override
    public final void copyStrided(int[] sizes, Buffer src, long srcOffset, long[] srcStrides, Buffer dst,
                                  long dstOffset) {
        // Families see four dimensions always: leading ones of size 1 and stride 0, so each kernel has one shape.
        int[] d = {1, 1, 1, 1};
        long[] s = {0, 0, 0, 0};
        int shift = d.length - sizes.length;
        for (int k = 0; k < sizes.length; k++) {
            d[shift + k] = sizes[k];
            s[shift + k] = srcStrides[k];
        }
        long n = (long) d[0] * d[1] * d[2] * d[3];
        run(n > 0, () -> ops.images().copyStrided(d, cast(src), srcOffset, s, cast(dst), dstOffset));
    }

    @Override
    public final void maxPool2d(Window2d w, Buffer x, long xOffset, Buffer y, long yOffset, Buffer argmax,
                                long argmaxOffset) {
        run(w.n() > 0, () -> ops.images().maxPool2d(w, cast(x), xOffset, cast(y), yOffset, cast(argmax),
                argmaxOffset));
    }

    @Override
    public final void maxPool2dBackward(Window2d w, Buffer dy, long dyOffset, Buffer argmax, long argmaxOffset,
                                        Buffer dx, long dxOffset) {
        run(w.n() > 0, () -> ops.images().maxPool2dBackward(w, cast(dy), dyOffset, cast(argmax), argmaxOffset,
                cast(dx), dxOffset));
    }

    @Override
    public final void avgPool2d(Window2d w, boolean countIncludePad, Buffer x, long xOffset, Buffer y, long yOffset) {
        run(w.n() > 0, () -> ops.images().avgPool2d(w, countIncludePad, cast(x), xOffset, cast(y), yOffset));
    }

    @Override
    public final void avgPool2dBackward(Window2d w, boolean countIncludePad, Buffer dy, long dyOffset, Buffer dx,
                                        long dxOffset) {
        run(w.n() > 0, () -> ops.images().avgPool2dBackward(w, countIncludePad, cast(dy), dyOffset, cast(dx),
                dxOffset));
    }

    @Override
    public final void batchNormStats(int n, int c, int s, Buffer x, long xOffset, Buffer mean, long meanOffset,
                                     Buffer var, long varOffset) {
        run(c > 0, () -> ops.normalization().batchNormStats(n, c, s, cast(x), xOffset, cast(mean), meanOffset,
                cast(var), varOffset));
    }

    @Override
    public final void batchNormForward(int n, int c, int s, double eps, Buffer x, long xOffset, Buffer mean,
                                       long meanOffset, Buffer var, long varOffset, Buffer gamma, long gammaOffset,
                                       Buffer beta, long betaOffset, Buffer y, long yOffset) {
        run((long) n * c * s > 0, () -> ops.normalization().batchNormForward(n, c, s, eps, cast(x), xOffset,
                cast(mean), meanOffset, cast(var), varOffset, cast(gamma), gammaOffset, cast(beta), betaOffset,
                cast(y), yOffset));
    }

    @Override
    public final void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, Buffer x, long xOffset,
                                        Buffer dy, long dyOffset, Buffer mean, long meanOffset, Buffer var,
                                        long varOffset, Buffer gamma, long gammaOffset, Buffer dx, long dxOffset,
                                        Buffer dgamma, long dgammaOffset, Buffer dbeta, long dbetaOffset) {
        run(c > 0, () -> ops.normalization().batchNormBackward(n, c, s, eps, batchStats, cast(x), xOffset, cast(dy),
                dyOffset, cast(mean), meanOffset, cast(var), varOffset, cast(gamma), gammaOffset, cast(dx), dxOffset,
                cast(dgamma), dgammaOffset, cast(dbeta), dbetaOffset));
    }

    @Override
    public final void dropout(long n, int threshold, double scale, long seed, long offset, Buffer x, long xOffset,
                              Buffer y, long yOffset) {
        run(n > 0, () -> ops.normalization().dropout(n, threshold, scale, seed, offset, cast(x), xOffset, cast(y),
                yOffset));
    }

    private void run(boolean writes, Runnable op) {
        locked(writes, op);
    }

    // ---- the training step as one unit ----------------------------------------------------------------

    /** Whether the module records steps ({@link #stepRecorder}). */
    @Override
    public final boolean replaysSteps() {
        return stepRecorder() != null;
    }

    /**
     * The module's recorder when it has one, with the lock held for the whole step (so no other thread's work
     * lands in a recording) and the pool blocks of {@code uses}; else runs {@code work}.
     */
    @Override
    public final boolean runStep(Object key, List<Buffer> uses, Runnable work) {
        OpFamilies.StepRecorder<M> recorder = stepRecorder();
        if (recorder == null) {
            work.run();
            return true;
        }
        enter();
        try {
            List<MemoryPool.Block<M>> blocks = new ArrayList<>(uses.size());
            for (Buffer b : uses) {
                blocks.add(liveBlock(b));
            }
            return recorder.run(Objects.requireNonNull(key, "key"), blocks, work);
        } finally {
            exit();
        }
    }

    private MemoryPool.Block<M> liveBlock(Buffer b) {
        if (b.backend() != this) {
            throw new IllegalArgumentException(name() + ": a step uses a buffer of another backend: " + b);
        }
        MemoryPool.Block<M> block = cast(b).block();
        if (block == null) {
            throw new IllegalArgumentException(name() + ": a step uses a released buffer: " + b);
        }
        return block;
    }
}
