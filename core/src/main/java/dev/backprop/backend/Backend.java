package dev.backprop.backend;

import java.util.List;
import java.util.Set;

/**
 * A device and the primitive operations that run on it: the SPI every backend module implements.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Layout.</b> Every buffer is a flat array; matrices are row-major. An operand is a buffer plus an
 *       element offset; a GEMM operand also has a leading dimension (the row stride, in elements), so it can
 *       be a 2-D view into a larger matrix.</li>
 *   <li><b>Validated arguments.</b> Callers are the {@code dev.backprop.tensor} facade classes
 *       ({@code MatMul}, {@code Elementwise}, {@code Reductions}, {@code Softmax}, {@code Updates}), which
 *       check shapes, dtypes, ranges, backend ownership and liveness once, in core, before calling here.
 *       Implementations may assume: every buffer was allocated by this backend and is not released; all
 *       float operands of one call share one dtype supported by this backend; every index range lies inside
 *       its buffer. Shape checking is never duplicated in backends.</li>
 *   <li><b>Aliasing.</b> An output may be the very same range as an input where a method says so; partial
 *       overlap is never allowed.</li>
 *   <li><b>Asynchrony.</b> Operations may be queued; results are visible to later operations on this
 *       backend in call order, and to the host after {@link #download} (which waits).</li>
 *   <li><b>Threads.</b> A backend is thread-safe: any thread may call it, and calls from several threads are
 *       serialized by one lock per backend, taking effect in the order they take it (so the results of one call
 *       are visible to the next, whichever thread makes it). A call never waits for another backend or for
 *       application code while it holds its lock. {@link Capabilities#threadSafe()} says the same; a backend
 *       that cannot keep this promise says so there and refuses calls from other threads.</li>
 *   <li><b>Lifetime.</b> A backend that is never closed is closed when it becomes unreachable (a
 *       {@link java.lang.ref.Cleaner}, with a warning), so threads and device memory do not outlive it; closing
 *       it is still the caller's job, since nothing says when the collector gets to it.</li>
 * </ul>
 * <p>{@link dev.backprop.backend.base.BaseBackend} implements the buffers, their accounting, the lock and the
 * lifetime once; a backend module extends it with its raw memory and its op families.
 * <p>Compound operations (linear layers, losses, optimizers) are built once in core from these primitives.
 */
public interface Backend extends AutoCloseable {

    // ---- identity --------------------------------------------------------------------------------------

    /** {@return the provider name, e.g. {@code cpu}} */
    String name();

    /** {@return the device this backend runs on} */
    DeviceInfo device();

    /** {@return supported dtypes, thread-safety and facts for display} */
    Capabilities capabilities();

    // ---- memory ----------------------------------------------------------------------------------------

    /**
     * Allocates a buffer of {@code elements} elements. Its contents are unspecified until written.
     *
     * @param dtype    the element type
     * @param elements how many (≥ 0)
     * @return the buffer
     * @throws DeviceOutOfMemoryException when the device cannot hold it; the backend stays usable
     */
    Buffer allocate(DType dtype, long elements);

    /**
     * Frees a buffer. Releasing an already released buffer, or any buffer after {@link #close}, does nothing; any
     *  thread may call it (a {@link java.lang.ref.Cleaner} does).
     *
     * @param buffer a buffer of this backend
     */
    void release(Buffer buffer);

    /**
     * Copies the host range {@code src} into {@code dst} from element {@code dstOffset}. It may return before the
     * copy has happened; {@code src} may be changed as soon as it returns.
     *
     * @param src       the host range
     * @param dst       the buffer
     * @param dstOffset the first element written
     * @throws IllegalArgumentException  when the array's element type is not the buffer's dtype
     * @throws IndexOutOfBoundsException when the range does not fit in the buffer
     */
    void upload(HostArray src, Buffer dst, long dstOffset);

    /**
     * Copies {@code dst.length()} elements of {@code src} from element {@code srcOffset} into the host range
     * {@code dst}, after all queued work is done.
     *
     * @param src       the buffer
     * @param srcOffset the first element read
     * @param dst       the host range, written
     * @throws IllegalArgumentException  when the array's element type is not the buffer's dtype
     * @throws IndexOutOfBoundsException when the range does not lie inside the buffer
     */
    void download(Buffer src, long srcOffset, HostArray dst);

    /**
     * Copies {@code length} floats from {@code src[srcOffset..]} into a FLOAT32 buffer; see {@link #upload(HostArray,
     * Buffer, long)}.
     *
     * @param src       the host array
     * @param srcOffset its first element copied
     * @param dst       the buffer
     * @param dstOffset the first element written
     * @param length    elements to copy
     */
    default void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        upload(HostArray.of(src, srcOffset, length), dst, dstOffset);
    }

    /**
     * Copies {@code length} doubles into a FLOAT64 buffer.
     *
     * @param src       the host array
     * @param srcOffset its first element copied
     * @param dst       the buffer
     * @param dstOffset the first element written
     * @param length    elements to copy
     */
    default void upload(double[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        upload(HostArray.of(src, srcOffset, length), dst, dstOffset);
    }

    /**
     * Copies {@code length} ints into an INT32 buffer.
     *
     * @param src       the host array
     * @param srcOffset its first element copied
     * @param dst       the buffer
     * @param dstOffset the first element written
     * @param length    elements to copy
     */
    default void upload(int[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        upload(HostArray.of(src, srcOffset, length), dst, dstOffset);
    }

    /**
     * Copies {@code length} elements of a FLOAT32 buffer to the host; see {@link #download(Buffer, long, HostArray)}.
     *
     * @param src       the buffer
     * @param srcOffset the first element read
     * @param dst       the host array
     * @param dstOffset its first element written
     * @param length    elements to copy
     */
    default void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int length) {
        download(src, srcOffset, HostArray.of(dst, dstOffset, length));
    }

    /**
     * Copies from a FLOAT64 buffer to the host.
     *
     * @param src       the buffer
     * @param srcOffset the first element read
     * @param dst       the host array
     * @param dstOffset its first element written
     * @param length    elements to copy
     */
    default void download(Buffer src, long srcOffset, double[] dst, int dstOffset, int length) {
        download(src, srcOffset, HostArray.of(dst, dstOffset, length));
    }

    /**
     * Copies from an INT32 buffer to the host.
     *
     * @param src       the buffer
     * @param srcOffset the first element read
     * @param dst       the host array
     * @param dstOffset its first element written
     * @param length    elements to copy
     */
    default void download(Buffer src, long srcOffset, int[] dst, int dstOffset, int length) {
        download(src, srcOffset, HostArray.of(dst, dstOffset, length));
    }

    /**
     * Device-side copy of {@code length} elements between buffers of one dtype; the ranges must not
     *  overlap unless they are identical.
     *
     * @param src       the source buffer
     * @param srcOffset the first element read
     * @param dst       the destination buffer
     * @param dstOffset the first element written
     * @param length    elements to copy
     */
    void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length);

    /**
     * Sets {@code length} elements to {@code value} (converted to the buffer's dtype; for INT32 it must be
     *  a whole number).
     *
     * @param dst    the buffer
     * @param offset the first element set
     * @param length elements to set
     * @param value  the value
     */
    void fill(Buffer dst, long offset, long length, double value);

    /** Waits until all queued work is done. */
    void synchronize();

    /** {@return buffers and bytes live on this backend, and what the platform reports for them} */
    MemoryStats memoryStats();

    /** Releases every buffer and native resource. Later calls throw {@link IllegalStateException}, except
     *  {@link #release} and {@code close} itself, which do nothing. */
    @Override
    void close();

    // ---- linear algebra --------------------------------------------------------------------------------

    /**
     * Batched, strided GEMM: for each {@code i < batch},
     * {@code C_i = alpha · op(A_i) · op(B_i) + beta · C_i}, where {@code op(X)} is {@code X} or its
     * transpose, {@code op(A_i)} is {@code m × k}, {@code op(B_i)} is {@code k × n} and {@code C_i} is
     * {@code m × n}. {@code A_i} starts at {@code aOffset + i·strideA} and is stored row-major as
     * {@code m × k} ({@code k × m} when {@code transA}) with row stride {@code lda}; likewise B and C.
     * When {@code beta == 0}, C is not read (NaN in C does not propagate). C must not overlap A or B.
     * {@code k == 0} gives {@code beta·C}. FLOAT32 and FLOAT64.
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
    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
              Buffer a, long aOffset, int lda, Buffer b, long bOffset, int ldb,
              double beta, Buffer c, long cOffset, int ldc,
              int batch, long strideA, long strideB, long strideC);

    /**
     * {@code dst = srcᵀ}: {@code src} is {@code rows × cols} contiguous, {@code dst} is
     *  {@code cols × rows} contiguous; no overlap. Any dtype.
     *
     * @param rows      rows of {@code src}
     * @param cols      columns of {@code src}
     * @param src       the source buffer
     * @param srcOffset its first element
     * @param dst       the destination buffer
     * @param dstOffset its first element
     */
    void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset);

    /**
     * Row gather (PyTorch's {@code index_select} on dimension 0, ggml's {@code get_rows}):
     * {@code dst[r][c] = src[indices[r]][c]} for {@code r < rows}, {@code c < cols}, where {@code src} is a
     * contiguous {@code srcRows × cols} matrix, {@code indices} holds {@code rows} INT32 values and {@code dst}
     * is {@code rows × cols} contiguous. An index outside {@code [0, srcRows)} gives a row of zeros (nothing is
     * read out of range, and no error is raised on the device). Any dtype, the same for src and dst; dst
     * overlaps neither src nor indices. It lets a data set live on the device and a batch be gathered there.
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
    void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                    long indicesOffset, Buffer dst, long dstOffset);

    // ---- elementwise -----------------------------------------------------------------------------------

    /**
     * {@code y[i] = op(x[i]; p1, p2)} for {@code i < n}. {@code y} may be the same range as {@code x}.
     * Floating dtypes only.
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
    void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset, long n);

    /**
     * The backward form: {@code dx[i] = op'(x[i]; p1, p2) · g[i]}, where {@code x} is the forward input.
     * {@code dx} may be the same range as {@code g} or {@code x}. Floating dtypes only.
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
    void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g, long gOffset,
                       Buffer dx, long dxOffset, long n);

    /**
     * {@code out = a op b} over a {@code rows × cols} contiguous result, each operand broadcast as its
     * {@link Broadcast} says. {@code out} may be the same range as a FULL operand. Floating dtypes; INT32
     * for every op except DIV.
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
    void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast,
                Buffer b, long bOffset, Broadcast bBroadcast, Buffer out, long outOffset);

    /**
     * {@code y[i] = alpha·x[i] + beta·y[i]} for {@code i < n}; when {@code beta == 0}, y is not read.
     *  {@code y} may be the same range as {@code x}. Floating dtypes.
     *
     * @param n       elements
     * @param alpha   the factor of {@code x}
     * @param x       the added buffer
     * @param xOffset its first element
     * @param beta    the factor of {@code y}
     * @param y       the result, updated in place
     * @param yOffset its first element
     */
    void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset);

    // ---- reductions ------------------------------------------------------------------------------------

    /**
     * Reduces a {@code rows × cols} contiguous matrix along {@code axis} into
     * {@code axis.resultLength(rows, cols)} elements at {@code out}. No overlap. Floating dtypes.
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
    void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset,
                Buffer out, long outOffset);

    /**
     * For each row of a {@code rows × cols} floating matrix, the column index of its largest element (the
     *  first one on ties; NaN counts as largest) into an INT32 buffer of {@code rows}.
     *
     * @param rows      rows of the matrix
     * @param cols      its columns
     * @param x         the matrix
     * @param xOffset   its first element
     * @param out       the INT32 indices
     * @param outOffset their first element
     */
    void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset);

    // ---- softmax and loss ------------------------------------------------------------------------------

    /**
     * Row-wise softmax (or log-softmax when {@code log}) of a {@code rows × cols} matrix, computed with the
     * row maximum subtracted first. {@code y} may be the same range as {@code x}. Floating dtypes.
     *
     * @param log     whether to write log-softmax
     * @param rows    rows of the matrix
     * @param cols    its columns
     * @param x       the logits
     * @param xOffset their first element
     * @param y       the result
     * @param yOffset its first element
     */
    void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y, long yOffset);

    /**
     * Fused softmax cross-entropy forward on logits {@code rows × cols} and INT32 labels {@code rows}:
     * {@code losses[r] = logsumexp(z_r) - z_r[label_r]} and {@code probs = softmax(z)} (kept for the
     * backward pass). A label outside {@code [0, cols)} gives a NaN loss for that row.
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
    void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                             long labelsOffset, Buffer losses, long lossesOffset, Buffer probs, long probsOffset);

    /**
     * Backward of {@link #softmaxCrossEntropy}: {@code dlogits[r][c] = g[r] · (probs[r][c] - 1[c == label_r])}
     * where {@code g} has one upstream gradient per row (so a mean reduction passes {@code 1/rows}).
     * {@code dlogits} may be the same range as {@code probs}.
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
    void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset, Buffer labels,
                                     long labelsOffset, Buffer g, long gOffset, Buffer dlogits, long dlogitsOffset);

    // ---- optimizer updates -----------------------------------------------------------------------------

    /**
     * PyTorch's SGD step on {@code n} parameters, in place:
     * {@code g' = g + weightDecay·θ}; with momentum {@code v = momentum·v + g'} and
     * {@code d = nesterov ? g' + momentum·v : v}, without momentum ({@code velocity == null}) {@code d = g'};
     * then {@code θ = θ - lr·d}. The gradient buffer is not modified.
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
    void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                   Buffer velocity, long velocityOffset, double lr, double momentum, double weightDecay,
                   boolean nesterov);

    /**
     * PyTorch's Adam/AdamW step on {@code n} parameters, in place, for step number {@code step ≥ 1}:
     * with {@code decoupled} (AdamW) {@code θ = θ·(1 - lr·weightDecay)} first, otherwise
     * {@code g' = g + weightDecay·θ}; then {@code m = β1·m + (1-β1)·g'}, {@code v = β2·v + (1-β2)·g'²},
     * {@code θ = θ - lr·(m/(1-β1^step)) / (sqrt(v/(1-β2^step)) + eps)}.
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
    void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                    Buffer m, long mOffset, Buffer v, long vOffset, double lr, double beta1, double beta2,
                    double eps, double weightDecay, boolean decoupled, long step);

    // ---- fused ops of a training step --------------------------------------------------------------------
    // Each default composes the primitives above; a backend may run it in fewer launches (OpFamilies.Fused), with
    // the same float operations in the same order, so a step gives the same bits either way.

    /** The activations {@link #biasActivation} takes: those whose derivative is a function of their output. */
    Set<UnaryOp> FUSED_ACTIVATIONS = Set.of(UnaryOp.IDENTITY, UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.TANH);

    /**
     * A dense layer's epilogue: {@code y = act(z + bias)} over a {@code rows × cols} matrix, {@code bias} (length
     * {@code cols}) broadcast along rows; {@code act} is one of {@link #FUSED_ACTIVATIONS}. {@code y} may be the
     * same range as {@code z}. Floating dtypes. The result is that of {@code binary(ADD, ..., Broadcast.ROW, ...)}
     * then {@code unary(act, ...)}, bit for bit.
     *
     * @param act        the activation
     * @param rows       rows (samples)
     * @param cols       columns (features)
     * @param z          the GEMM's output
     * @param zOffset    its first element
     * @param bias       the bias row
     * @param biasOffset its first element
     * @param y          the activation's output
     * @param yOffset    its first element
     */
    default void biasActivation(UnaryOp act, int rows, int cols, Buffer z, long zOffset, Buffer bias,
                                long biasOffset, Buffer y, long yOffset) {
        binary(BinaryOp.ADD, rows, cols, z, zOffset, Broadcast.FULL, bias, biasOffset, Broadcast.ROW, y, yOffset);
        unary(act, 0, 0, y, yOffset, y, yOffset, (long) rows * cols);
    }

    /**
     * The backward form of {@link #biasActivation}, from its output: {@code dz = act'(z)·g}, computed from
     * {@code y = act(z)} ({@code y > 0} for ReLU, {@code y·(1 - y)·g} for sigmoid, {@code (1 - y·y)·g} for tanh,
     * the expressions of {@link #unaryBackward} with {@code act(z)} read from {@code y}), and {@code dbias} = the
     * column sums of {@code dz} as {@code reduce(SUM, PER_COLUMN, ...)} computes them. {@code dz} may be the same
     * range as {@code g}. Floating dtypes.
     *
     * @param act         the activation, one of {@link #FUSED_ACTIVATIONS}
     * @param rows        rows (samples)
     * @param cols        columns (features)
     * @param y           the forward output
     * @param yOffset     its first element
     * @param g           the gradient of the forward output
     * @param gOffset     its first element
     * @param dz          the gradient of {@code z}, written
     * @param dzOffset    its first element
     * @param dbias       the bias gradient ({@code cols} elements), written (not accumulated)
     * @param dbiasOffset its first element
     */
    default void biasActivationBackward(UnaryOp act, int rows, int cols, Buffer y, long yOffset, Buffer g,
                                        long gOffset, Buffer dz, long dzOffset, Buffer dbias, long dbiasOffset) {
        long n = (long) rows * cols;
        switch (act) {
            case IDENTITY -> {
                if (dz != g || dzOffset != gOffset) {
                    copy(g, gOffset, dz, dzOffset, n);
                }
            }
            // relu'(z) = [z > 0] = [relu(z) > 0]
            case RELU -> unaryBackward(UnaryOp.RELU, 0, 0, y, yOffset, g, gOffset, dz, dzOffset, n);
            case SIGMOID, TANH -> {
                Buffer one = allocate(y.dtype(), 1);
                Buffer t = allocate(y.dtype(), n);
                try {
                    fill(one, 0, 1, 1.0);
                    if (act == UnaryOp.SIGMOID) { // y·(1 - y)·g
                        binary(BinaryOp.SUB, rows, cols, one, 0, Broadcast.SCALAR, y, yOffset, Broadcast.FULL, t, 0);
                        binary(BinaryOp.MUL, rows, cols, y, yOffset, Broadcast.FULL, t, 0, Broadcast.FULL, t, 0);
                    } else { // (1 - y·y)·g
                        binary(BinaryOp.MUL, rows, cols, y, yOffset, Broadcast.FULL, y, yOffset, Broadcast.FULL, t, 0);
                        binary(BinaryOp.SUB, rows, cols, one, 0, Broadcast.SCALAR, t, 0, Broadcast.FULL, t, 0);
                    }
                    binary(BinaryOp.MUL, rows, cols, t, 0, Broadcast.FULL, g, gOffset, Broadcast.FULL, dz, dzOffset);
                } finally {
                    release(t);
                    release(one);
                }
            }
            default -> throw new IllegalArgumentException("biasActivationBackward: " + act + " is not one of "
                    + FUSED_ACTIVATIONS);
        }
        reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, rows, cols, dz, dzOffset, dbias, dbiasOffset);
    }

    /**
     * One parameter tensor of {@link #sgdUpdateAll}: the arguments of {@link #sgdUpdate}.
     *
     * @param n              parameters
     * @param param          the parameters, updated in place
     * @param paramOffset    their first element
     * @param grad           the gradient
     * @param gradOffset     its first element
     * @param velocity       the momentum buffer, updated in place, or null without momentum
     * @param velocityOffset its first element
     */
    record SgdTensor(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer velocity,
                     long velocityOffset) {
    }

    /**
     * One parameter tensor of {@link #adamUpdateAll}: the arguments of {@link #adamUpdate}.
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
     */
    record AdamTensor(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer m, long mOffset,
                      Buffer v, long vOffset) {
    }

    /**
     * {@link #sgdUpdate} on every tensor of {@code tensors} (one floating dtype, disjoint ranges), with the same
     * hyperparameters: the optimizer step of a whole model, which a backend may run in one launch.
     *
     * @param tensors     the parameter tensors
     * @param lr          the learning rate
     * @param momentum    μ
     * @param weightDecay λ
     * @param nesterov    whether to use Nesterov momentum
     */
    default void sgdUpdateAll(List<SgdTensor> tensors, double lr, double momentum, double weightDecay,
                              boolean nesterov) {
        for (SgdTensor t : tensors) {
            sgdUpdate(t.n(), t.param(), t.paramOffset(), t.grad(), t.gradOffset(), t.velocity(), t.velocityOffset(),
                    lr, momentum, weightDecay, nesterov);
        }
    }

    /**
     * {@link #adamUpdate} on every tensor of {@code tensors} (one floating dtype, disjoint ranges), with the same
     * hyperparameters and step number.
     *
     * @param tensors     the parameter tensors
     * @param lr          the learning rate
     * @param beta1       the first moment's decay
     * @param beta2       the second moment's decay
     * @param eps         the term added to the denominator
     * @param weightDecay λ
     * @param decoupled   AdamW's decoupled decay when true
     * @param step        the step number, from 1
     */
    default void adamUpdateAll(List<AdamTensor> tensors, double lr, double beta1, double beta2, double eps,
                               double weightDecay, boolean decoupled, long step) {
        for (AdamTensor t : tensors) {
            adamUpdate(t.n(), t.param(), t.paramOffset(), t.grad(), t.gradOffset(), t.m(), t.mOffset(), t.v(),
                    t.vOffset(), lr, beta1, beta2, eps, weightDecay, decoupled, step);
        }
    }

    // ---- the training step as one unit ------------------------------------------------------------------

    /**
     * Whether {@link #runStep} may replay a recording instead of running its work (a CUDA graph). False (the
     * default) for a backend that runs every step as it comes; a caller then needs nothing {@code runStep} asks for.
     *
     * @return whether steps may be replayed
     */
    default boolean replaysSteps() {
        return false;
    }

    /**
     * Runs one training step's device work as one unit, which a backend that {@link #replaysSteps} may record on one
     * call and replay on later calls with an equal key without running {@code work} (a CUDA graph: one launch for
     * the whole step). The default runs {@code work}.
     *
     * <p>For calls with equal keys the caller promises that {@code work} queues the same operations with the same
     * arguments (buffers, offsets, scalars), allocating and releasing its temporaries in the same order; that it
     * queues device work only: no upload, download or synchronize (a recording backend refuses them while it
     * records, then runs the step as it comes and never records that key again); and that {@code uses} names every
     * buffer allocated before the call that {@code work} reads or writes. A replay runs none of {@code work}'s host
     * code, so what the caller needs after the step must be written into buffers of {@code uses}.
     *
     * <p>A backend keeps the memory of the buffers of {@code uses}, and of the temporaries {@code work} allocated,
     * from being handed out again while it keeps a recording that refers to them, even after they are released,
     * so a replay never writes memory that belongs to another buffer. It holds its lock for the whole call, so that
     * no other thread's work lands in a recording: {@code work} must not wait for another thread that uses this
     * backend.
     *
     * @param key  what the step's device work depends on, compared with {@code equals}
     * @param uses the live buffers, allocated before the call, that {@code work} reads or writes
     * @param work queues the step's device work
     * @return true when {@code work} ran (its host-side results exist); false when a recording was replayed
     */
    default boolean runStep(Object key, List<Buffer> uses, Runnable work) {
        work.run();
        return true;
    }

    // ---- images (NCHW) ---------------------------------------------------------------------------------

    /**
     * im2col over a whole batch: writes the {@code w.patchSize() × w.columns()} matrix whose column
     * {@code (img·outH + oy)·outW + ox} holds the window of image {@code img} at output position {@code (oy, ox)}:
     * row {@code (c·kernelH + i)·kernelW + j} is channel {@code c}'s tap {@code (i, j)}, read from input row
     * {@code oy·strideH - padH + i·dilationH} and column {@code ox·strideW - padW + j·dilationW}, or 0 where that
     * lies in the padding. {@code x} is the contiguous NCHW batch {@code [n, channels, height, width]}; {@code cols}
     * is contiguous and overlaps nothing. Floating dtypes.
     */
    void im2col(Window2d w, Buffer x, long xOffset, Buffer cols, long colsOffset);

    /**
     * The adjoint of {@link #im2col}: {@code dx[p]} is the sum of every {@code cols} entry that im2col would fill from
     * input position {@code p} (0 where no window reads it). {@code dx} ({@code [n, channels, height, width]}) is
     * overwritten and overlaps nothing. Floating dtypes.
     */
    void col2im(Window2d w, Buffer cols, long colsOffset, Buffer dx, long dxOffset);

    /**
     * A strided copy of up to four dimensions (transposes and permutations of NCHW data): for every index
     * {@code (i0, ..)} below {@code sizes}, the contiguous {@code dst[i0, ..]} gets
     * {@code src[srcOffset + Σ ik·srcStrides[k]]}. {@code sizes} and {@code srcStrides} have one length from 1 to 4;
     * strides are ≥ 0 elements. {@code dst} overlaps nothing. Any dtype.
     */
    void copyStrided(int[] sizes, Buffer src, long srcOffset, long[] srcStrides, Buffer dst, long dstOffset);

    /**
     * Convolution (cross-correlation, as PyTorch's {@code conv2d} with groups = 1):
     * {@code y[img][o][oy][ox] = bias[o] + Σ_{c,i,j} weight[o][c][i][j]·x[img][c][oy·strideH - padH + i·dilationH]
     * [ox·strideW - padW + j·dilationW]} (zero outside the image). {@code x} is {@code [n, channels, height, width]},
     * {@code weight} {@code [outChannels, channels, kernelH, kernelW]}, {@code bias} {@code [outChannels]} or null,
     * {@code y} {@code [n, outChannels, outH, outW]}, all contiguous; {@code y} overlaps nothing. Floating dtypes.
     *
     * <p>The default runs on this backend's GEMM: {@link #im2col}, one {@code outChannels × patchSize × columns}
     * product, the bias, and a {@link #copyStrided} into NCHW order. A backend may override it with a faster kernel.
     */
    default void conv2d(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight, long weightOffset,
                        Buffer bias, long biasOffset, Buffer y, long yOffset) {
        Im2colConvolution.forward(this, w, outChannels, x, xOffset, weight, weightOffset, bias, biasOffset, y,
                yOffset);
    }

    /**
     * The two backward products of {@link #conv2d} for the upstream gradient {@code dy}
     * ({@code [n, outChannels, outH, outW]}): {@code dx} (the input's gradient, shaped like {@code x}),
     * {@code dweight} (shaped like {@code weight}) and {@code dbias} ({@code [outChannels]}, the sums of {@code dy}
     * per output channel). Each output may be null (not computed) and is overwritten; {@code x} is only read for
     * {@code dweight}, {@code weight} only for {@code dx}. Outputs overlap nothing. Floating dtypes.
     *
     * <p>The default: {@code dy} to {@code [outChannels, columns]} by {@link #copyStrided}, then
     * {@code dweight = dy·im2col(x)ᵀ}, {@code dx = col2im(weightᵀ·dy)} and row sums for {@code dbias}.
     */
    default void conv2dBackward(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                                long weightOffset, Buffer dy, long dyOffset, Buffer dx, long dxOffset,
                                Buffer dweight, long dweightOffset, Buffer dbias, long dbiasOffset) {
        Im2colConvolution.backward(this, w, outChannels, x, xOffset, weight, weightOffset, dy, dyOffset, dx, dxOffset,
                dweight, dweightOffset, dbias, dbiasOffset);
    }

    /**
     * Max pooling of every plane of {@code x} ({@code [n, channels, height, width]}): {@code y[img][c][oy][ox]} is the
     * largest tap of the window that lies inside the image (padding never wins), and {@code argmax} (INT32) the
     * input-plane index {@code iy·width + ix} of the first largest in row-major tap order, PyTorch's rule (NaN counts
     * as largest). {@code y} and {@code argmax} are {@code [n, channels, outH, outW]}. Every window holds an input
     * element (the facade requires padding ≤ half the kernel, as PyTorch does). Floating dtypes; no overlap.
     */
    void maxPool2d(Window2d w, Buffer x, long xOffset, Buffer y, long yOffset, Buffer argmax, long argmaxOffset);

    /**
     * Backward of {@link #maxPool2d}: {@code dx[img][c][p] = Σ dy[img][c][q]} over the outputs {@code q} whose argmax
     * is {@code p} (0 for none). {@code dx} is overwritten and overlaps nothing. Floating dtypes.
     */
    void maxPool2dBackward(Window2d w, Buffer dy, long dyOffset, Buffer argmax, long argmaxOffset, Buffer dx,
                           long dxOffset);

    /**
     * Average pooling: {@code y} is the sum of the window's taps inside the image divided by
     * {@code kernelH·kernelW} when {@code countIncludePad} (padding counts as zeros, PyTorch's default), else by the
     * number of taps inside the image. Dilation is 1. Shapes as {@link #maxPool2d}; floating dtypes; no overlap.
     */
    void avgPool2d(Window2d w, boolean countIncludePad, Buffer x, long xOffset, Buffer y, long yOffset);

    /** Backward of {@link #avgPool2d}: each input element gets {@code dy/divisor} of every window holding it;
     *  {@code dx} is overwritten and overlaps nothing. */
    void avgPool2dBackward(Window2d w, boolean countIncludePad, Buffer dy, long dyOffset, Buffer dx, long dxOffset);

    // ---- normalization and dropout ---------------------------------------------------------------------

    /**
     * Per-channel statistics of {@code x} viewed as {@code [n, c, s]} (NCHW with {@code s = H·W}, or {@code [N, C]}
     * with {@code s = 1}): {@code mean[ch]} and the biased variance {@code var[ch]} over the {@code n·s} elements of
     * channel {@code ch} ({@code n·s ≥ 1}), computed as the mean of squared deviations from the mean (two passes, so
     * a large mean does not cancel). Floating dtypes; outputs overlap nothing.
     */
    void batchNormStats(int n, int c, int s, Buffer x, long xOffset, Buffer mean, long meanOffset, Buffer var,
                        long varOffset);

    /**
     * {@code y = (x - mean[ch]) / sqrt(var[ch] + eps) · gamma[ch] + beta[ch]} over {@code [n, c, s]}; {@code y} may be
     * {@code x}. Floating dtypes.
     */
    void batchNormForward(int n, int c, int s, double eps, Buffer x, long xOffset, Buffer mean, long meanOffset,
                          Buffer var, long varOffset, Buffer gamma, long gammaOffset, Buffer beta, long betaOffset,
                          Buffer y, long yOffset);

    /**
     * Backward of {@link #batchNormForward} for the upstream gradient {@code dy}, with {@code x̂ = (x - mean)·invstd},
     * {@code invstd = 1/sqrt(var + eps)} and {@code M = n·s}: {@code dgamma[ch] = Σ dy·x̂}, {@code dbeta[ch] = Σ dy};
     * with {@code batchStats} (mean and var were this batch's own, training mode)
     * {@code dx = gamma·invstd·(dy - Σdy/M - x̂·Σ(dy·x̂)/M)}, else (running statistics) {@code dx = gamma·invstd·dy}.
     * {@code dx} may be {@code dy}; the other outputs overlap nothing. Floating dtypes.
     */
    void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, Buffer x, long xOffset, Buffer dy,
                           long dyOffset, Buffer mean, long meanOffset, Buffer var, long varOffset, Buffer gamma,
                           long gammaOffset, Buffer dx, long dxOffset, Buffer dgamma, long dgammaOffset,
                           Buffer dbeta, long dbetaOffset);

    /**
     * Dropout with a counter-based mask: {@code y[i] = keep(i) ? x[i]·scale : 0} for {@code i < n}, where
     * {@code keep(i) = (Philox.word(seed, offset, i) >>> 8) >= threshold} ({@link dev.backprop.random.Philox}), so
     * every backend keeps the same elements. The same call with the upstream gradient in {@code x} is the backward
     * pass. {@code scale} is applied as one multiplication in the buffer's dtype. {@code y} may be {@code x}.
     * Floating dtypes.
     */
    void dropout(long n, int threshold, double scale, long seed, long offset, Buffer x, long xOffset, Buffer y,
                 long yOffset);
}
