package dev.backprop.backend.base;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;

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
        if (enter(m > 0 && n > 0 && batch > 0)) {
            try {
                    ops.gemm().gemm(transA, transB, m, n, k, alpha, cast(a), aOffset, lda, cast(b), bOffset, ldb, beta,
                            cast(c), cOffset, ldc, batch, strideA, strideB, strideC);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        if (enter(rows > 0 && cols > 0)) {
            try {
                    ops.elementwise().transpose(rows, cols, cast(src), srcOffset, cast(dst), dstOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                                 long indicesOffset, Buffer dst, long dstOffset) {
        if (enter(rows > 0 && cols > 0)) {
            try {
                    ops.elementwise().gatherRows(rows, cols, cast(src), srcOffset, srcRows, cast(indices), indicesOffset,
                            cast(dst), dstOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset,
                            long n) {
        if (enter(n > 0)) {
            try {
                    ops.elementwise().unary(op, p1, p2, cast(x), xOffset, cast(y), yOffset, n);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g, long gOffset,
                                    Buffer dx, long dxOffset, long n) {
        if (enter(n > 0)) {
            try {
                    ops.elementwise().unaryBackward(op, p1, p2, cast(x), xOffset, cast(g), gOffset, cast(dx), dxOffset, n);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast, Buffer b,
                             long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        if (enter(rows > 0 && cols > 0)) {
            try {
                    ops.elementwise().binary(op, rows, cols, cast(a), aOffset, aBroadcast, cast(b), bOffset, bBroadcast,
                            cast(out), outOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset) {
        if (enter(n > 0)) {
            try {
                    ops.elementwise().axpby(n, alpha, cast(x), xOffset, beta, cast(y), yOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset, Buffer out,
                             long outOffset) {
        if (enter(axis.resultLength(rows, cols) > 0)) {
            try {
                    ops.reductions().reduce(op, axis, rows, cols, cast(x), xOffset, cast(out), outOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        if (enter(rows > 0)) {
            try {
                    ops.reductions().argmaxRows(rows, cols, cast(x), xOffset, cast(out), outOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y, long yOffset) {
        if (enter(rows > 0 && cols > 0)) {
            try {
                    ops.softmax().softmaxRows(log, rows, cols, cast(x), xOffset, cast(y), yOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                                          long labelsOffset, Buffer losses, long lossesOffset, Buffer probs,
                                          long probsOffset) {
        if (enter(rows > 0)) {
            try {
                    ops.softmax().softmaxCrossEntropy(rows, cols, cast(logits), logitsOffset, cast(labels), labelsOffset,
                            cast(losses), lossesOffset, cast(probs), probsOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset, Buffer labels,
                                                  long labelsOffset, Buffer g, long gOffset, Buffer dlogits,
                                                  long dlogitsOffset) {
        if (enter(rows > 0 && cols > 0)) {
            try {
                    ops.softmax().softmaxCrossEntropyBackward(rows, cols, cast(probs), probsOffset, cast(labels),
                            labelsOffset, cast(g), gOffset, cast(dlogits), dlogitsOffset);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer velocity,
                                long velocityOffset, double lr, double momentum, double weightDecay, boolean nesterov) {
        if (enter(n > 0)) {
            try {
                    ops.updates().sgdUpdate(n, cast(param), paramOffset, cast(grad), gradOffset,
                            velocity == null ? null : cast(velocity), velocityOffset, lr, momentum, weightDecay, nesterov);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer m,
                                 long mOffset, Buffer v, long vOffset, double lr, double beta1, double beta2,
                                 double eps, double weightDecay, boolean decoupled, long step) {
        if (enter(n > 0)) {
            try {
                    ops.updates().adamUpdate(n, cast(param), paramOffset, cast(grad), gradOffset, cast(m), mOffset,
                            cast(v), vOffset, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            } finally {
                exit();
            }
        }
    }
}
