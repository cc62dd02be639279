package dev.backprop.autograd;

import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Tensor;

/**
 * The public differentiable ops: each computes its value with the tensor facades (so it runs on any backend)
 * and, while a {@link Tape} records and an input requires a gradient, records its backward rule. With these a
 * model need not be a stack of layers:
 *
 * <pre>{@code
 * // ŷ_i = αᵀ·exp(W·x_i + b), L = Σ (y_i - ŷ_i)²   (X is [N, in], W [k, in], b [k], α [k, 1])
 * Variable u = Ops.exp(Ops.linear(x, w, b));
 * Variable yHat = Ops.matmul(u, alpha);
 * Variable d = Ops.sub(yHat, y);
 * Variable loss = Ops.sum(Ops.mul(d, d));
 * }</pre>
 *
 * Shapes and dtypes are checked by the tensor facades (their exceptions name the shapes); results are new
 * tensors owned by the returned variable, except {@link #reshape}, whose value is a view of its input.
 */
public final class Ops {
    private Ops() {
    }

    // ---- linear algebra ----------------------------------------------------------------------------------

    /**
     * {@code A·B} for rank-2 {@code [m, k]·[k, n]} or batched rank-3 operands.
     *
     * @param a the left operand
     * @param b the right operand
     * @return the product
     */
    public static Variable matmul(Variable a, Variable b) {
        return LinearOps.matmul(a, b, false, false);
    }

    /**
     * {@code op(A)·op(B)}, where {@code op} transposes when its flag is set (no copy is made).
     *
     * @param a      the left operand
     * @param b      the right operand
     * @param transA whether {@code op(A)} is {@code Aᵀ}
     * @param transB whether {@code op(B)} is {@code Bᵀ}
     * @return the product
     */
    public static Variable matmul(Variable a, Variable b, boolean transA, boolean transB) {
        return LinearOps.matmul(a, b, transA, transB);
    }

    /**
     * A dense layer: {@code Z = X·Wᵀ + b} for X {@code [N, in]}, W {@code [out, in]} (PyTorch's layout),
     * b {@code [out]} or null. Gradients: {@code ∂X = δ·W}, {@code ∂W = δᵀ·X}, {@code ∂b} = column sums of δ.
     *
     * @param x the input {@code [N, in]}
     * @param w the weight {@code [out, in]}
     * @param b the bias {@code [out]}, or null
     * @return {@code Z} {@code [N, out]}
     * @throws dev.backprop.tensor.ShapeMismatchException when the shapes do not fit
     */
    public static Variable linear(Variable x, Variable w, Variable b) {
        return LinearOps.linear(x, w, b);
    }

    /**
     * A dense layer and its activation as one op: {@code Y = act(X·Wᵀ + b)}, {@code act} one of
     * {@link dev.backprop.backend.Backend#FUSED_ACTIVATIONS}; the bias and activation run as one fused call
     * forward and backward (the backward pass reads Y, not the pre-activation, as PyTorch's sigmoid and tanh
     * backward do). Against {@link #linear} then the activation op: the same values, bit for bit; the same
     * gradients bit for bit for ReLU and the identity, and within a few float roundings for sigmoid and tanh,
     * whose unfused backward recomputes the activation from the pre-activation.
     *
     * @param x          the input {@code [N, in]}
     * @param w          the weight {@code [out, in]}
     * @param b          the bias {@code [out]}
     * @param activation the activation
     * @return {@code Y} {@code [N, out]}
     * @throws dev.backprop.tensor.ShapeMismatchException when the shapes do not fit
     * @throws IllegalArgumentException                   without a bias, or for another activation
     */
    public static Variable linear(Variable x, Variable w, Variable b, UnaryOp activation) {
        return LinearOps.linearActivation(x, w, b, activation);
    }

    /**
     * {@code xᵀ} of a rank-2 variable (a copy).
     *
     * @param x a rank-2 variable
     * @return the transpose
     */
    public static Variable transpose(Variable x) {
        return LinearOps.transpose(x);
    }

    // ---- broadcasting arithmetic -------------------------------------------------------------------------

    /**
     * {@code a + b}; one operand may be a row {@code [C]}, a column {@code [R, 1]} or a scalar of the other.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the sum
     */
    public static Variable add(Variable a, Variable b) {
        return BroadcastOps.add(a, b);
    }

    /**
     * {@code a - b}, broadcasting as {@link #add}.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the difference
     */
    public static Variable sub(Variable a, Variable b) {
        return BroadcastOps.sub(a, b);
    }

    /**
     * {@code a ∘ b} (elementwise), broadcasting as {@link #add}.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the product
     */
    public static Variable mul(Variable a, Variable b) {
        return BroadcastOps.mul(a, b);
    }

    /**
     * {@code a / b} (elementwise), broadcasting as {@link #add}.
     *
     * @param a the dividend
     * @param b the divisor
     * @return the quotient
     */
    public static Variable div(Variable a, Variable b) {
        return BroadcastOps.div(a, b);
    }

    /**
     * {@code alpha·x}.
     *
     * @param x     the operand
     * @param alpha the factor
     * @return the scaled variable
     */
    public static Variable scale(Variable x, double alpha) {
        return UnaryOps.scale(x, alpha);
    }

    // ---- elementwise functions ---------------------------------------------------------------------------

    /**
     * {@code -x}.
     *
     * @param x the operand
     * @return the negation
     */
    public static Variable neg(Variable x) {
        return UnaryOps.apply(UnaryOp.NEG, 0, 0, x);
    }

    /**
     * {@code e^x}.
     *
     * @param x the operand
     * @return the exponential, elementwise
     */
    public static Variable exp(Variable x) {
        return UnaryOps.apply(UnaryOp.EXP, 0, 0, x);
    }

    /**
     * {@code ln x}.
     *
     * @param x the operand
     * @return the natural logarithm, elementwise
     */
    public static Variable log(Variable x) {
        return UnaryOps.apply(UnaryOp.LOG, 0, 0, x);
    }

    /**
     * {@code sqrt x}.
     *
     * @param x the operand
     * @return the square root, elementwise
     */
    public static Variable sqrt(Variable x) {
        return UnaryOps.apply(UnaryOp.SQRT, 0, 0, x);
    }

    /**
     * {@code |x|}; derivative {@code sign(x)}, so 0 at 0 as in PyTorch, and NaN at a NaN input, where PyTorch
     * gives 0 (its {@code sign(NaN)} is 0).
     *
     * @param x the operand
     * @return the absolute value, elementwise
     */
    public static Variable abs(Variable x) {
        return UnaryOps.apply(UnaryOp.ABS, 0, 0, x);
    }

    /**
     * {@code x^p}; derivative {@code p·x^(p-1)}, and 0 for {@code p = 0} (as PyTorch, also at {@code x = 0}).
     *
     * @param x the operand
     * @param p the exponent
     * @return the power, elementwise
     */
    public static Variable pow(Variable x, double p) {
        return UnaryOps.apply(UnaryOp.POW, p, 0, x);
    }

    /**
     * {@code min(max(x, lo), hi)}; gradient 1 inside {@code [lo, hi]}, 0 outside.
     *
     * @param x  the operand
     * @param lo the lower bound
     * @param hi the upper bound (≥ {@code lo})
     * @return the clamped variable
     */
    public static Variable clamp(Variable x, double lo, double hi) {
        if (!(lo <= hi)) {
            throw new IllegalArgumentException("clamp: lo " + lo + " must not exceed hi " + hi);
        }
        return UnaryOps.apply(UnaryOp.CLAMP, lo, hi, x);
    }

    /**
     * The logistic sigmoid {@code 1/(1+e^-x)}; derivative {@code σ(1-σ)}.
     *
     * @param x the operand
     * @return the sigmoid, elementwise
     */
    public static Variable sigmoid(Variable x) {
        return UnaryOps.apply(UnaryOp.SIGMOID, 0, 0, x);
    }

    /**
     * {@code tanh x}; derivative {@code 1 - tanh²}.
     *
     * @param x the operand
     * @return the hyperbolic tangent, elementwise
     */
    public static Variable tanh(Variable x) {
        return UnaryOps.apply(UnaryOp.TANH, 0, 0, x);
    }

    /**
     * {@code max(0, x)}; derivative {@code 1[x > 0]}, so 0 at {@code x = 0} as in PyTorch, and also 0 at a NaN
     * input, where PyTorch passes the upstream gradient through (the NaN output already carries the failure).
     *
     * @param x the operand
     * @return the rectified variable
     */
    public static Variable relu(Variable x) {
        return UnaryOps.apply(UnaryOp.RELU, 0, 0, x);
    }

    /**
     * The hard threshold {@code 1[x ≥ 0]}. Its derivative is 0 everywhere (no straight-through estimator), so
     * no gradient flows through it; a backward pass that meets it logs a warning once per tape.
     *
     * @param x the operand
     * @return 1 where {@code x ≥ 0}, else 0
     */
    public static Variable threshold(Variable x) {
        return UnaryOps.apply(UnaryOp.THRESHOLD, 0, 0, x);
    }

    // ---- reductions and shapes ---------------------------------------------------------------------------

    /**
     * Sum of all elements, shape {@code []}.
     *
     * @param x the operand
     * @return the sum, a scalar
     */
    public static Variable sum(Variable x) {
        return ReduceOps.reduce(ReduceOp.SUM, ReduceAxis.ALL, x);
    }

    /**
     * Mean of all elements, shape {@code []}. A FLOAT32 mean whose sum passes the float range depends on the
     * backend: cpu accumulates in double and returns the mean, opencl (like PyTorch) accumulates in float and
     * returns infinity.
     *
     * @param x the operand
     * @return the mean, a scalar
     */
    public static Variable mean(Variable x) {
        return ReduceOps.reduce(ReduceOp.MEAN, ReduceAxis.ALL, x);
    }

    /**
     * Sums of a tensor viewed as {@code [rows, cols]}: {@code [rows]} for PER_ROW, {@code [cols]} for
     *  PER_COLUMN, {@code []} for ALL.
     *
     * @param x    the operand
     * @param axis what to sum over
     * @return the sums
     */
    public static Variable sum(Variable x, ReduceAxis axis) {
        return ReduceOps.reduce(ReduceOp.SUM, axis, x);
    }

    /**
     * Means along {@code axis} (see {@link #sum(Variable, ReduceAxis)}).
     *
     * @param x    the operand
     * @param axis what to average over
     * @return the means
     */
    public static Variable mean(Variable x, ReduceAxis axis) {
        return ReduceOps.reduce(ReduceOp.MEAN, axis, x);
    }

    /**
     * The same elements with new dimensions (one may be -1); the value is a view of {@code x}'s.
     *
     * @param x    the operand
     * @param dims the new dimensions
     * @return the reshaped view
     */
    public static Variable reshape(Variable x, int... dims) {
        return ReduceOps.reshape(x, dims);
    }

    /**
     * {@code [N, d1, d2, ...]} to {@code [N, d1·d2·...]} (a view).
     *
     * @param x the operand, rank ≥ 2
     * @return the rank-2 view
     */
    public static Variable flatten(Variable x) {
        if (x.shape().rank() < 1) {
            throw new IllegalArgumentException("flatten: needs a batch dimension, got a scalar");
        }
        int[] d = x.shape().dims();
        long rest = 1;
        for (int i = 1; i < d.length; i++) {
            rest *= d[i];
        }
        return ReduceOps.reshape(x, d[0], Math.toIntExact(rest));
    }

    // ---- softmax -----------------------------------------------------------------------------------------

    /**
     * Softmax over the last dimension, per row, with the row maximum subtracted first.
     *
     * @param x the logits
     * @return the probabilities, each row summing to 1
     */
    public static Variable softmax(Variable x) {
        return SoftmaxOps.softmax(x);
    }

    /**
     * Log-softmax over the last dimension, per row.
     *
     * @param x the logits
     * @return the log-probabilities
     */
    public static Variable logSoftmax(Variable x) {
        return SoftmaxOps.logSoftmax(x);
    }

    /**
     * A constant scalar {@code []} on {@code like}'s backend and dtype (for {@code x + 1} ...); the variable
     *  owns its tensor.
     *
     * @param like  a variable of the backend and dtype wanted
     * @param value the constant
     * @return the constant scalar
     */
    public static Variable scalar(Variable like, double value) {
        return new Variable(Tensor.full(like.backend(), like.dtype(), value), null, false, true, null);
    }

    // ---- images (NCHW) -----------------------------------------------------------------------------------

    /**
     * 2-D convolution like PyTorch's {@code conv2d} (groups = 1): x {@code [N, C, H, W]}, w {@code [O, C, kH, kW]},
     * b {@code [O]} or null; the result is {@code [N, O, outH, outW]}.
     *
     * @throws dev.backprop.tensor.ShapeMismatchException when the channel counts or ranks do not fit
     * @throws IllegalArgumentException                   for a bad stride, padding or dilation, or a kernel larger
     *                                                    than the padded input
     */
    public static Variable conv2d(Variable x, Variable w, Variable b, int strideH, int strideW, int padH, int padW,
                                  int dilationH, int dilationW) {
        return ImageOps.conv2d(x, w, b, strideH, strideW, padH, padW, dilationH, dilationW);
    }

    /** Max pooling of each plane of an NCHW variable (floor mode; padding at most half the kernel). */
    public static Variable maxPool2d(Variable x, int kernelH, int kernelW, int strideH, int strideW, int padH,
                                     int padW) {
        return ImageOps.maxPool2d(x, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    /** Average pooling of each plane; {@code countIncludePad} as PyTorch's {@code count_include_pad}. */
    public static Variable avgPool2d(Variable x, int kernelH, int kernelW, int strideH, int strideW, int padH,
                                     int padW, boolean countIncludePad) {
        return ImageOps.avgPool2d(x, kernelH, kernelW, strideH, strideW, padH, padW, countIncludePad);
    }

    /**
     * Batch normalization of x ({@code [N, C]}, {@code [N, C, L]} or {@code [N, C, H, W]}, channels in dimension 1)
     * with per-channel {@code mean} and {@code var} (tensors, not differentiated), scale {@code gamma} and shift
     * {@code beta}. With {@code batchStats} the statistics are x's own (training) and the gradient flows through
     * them; otherwise they are running statistics. The caller keeps {@code mean} and {@code var} alive until the
     * backward pass (made inside the same tape, they are).
     */
    public static Variable batchNorm(Variable x, Tensor mean, Tensor var, Variable gamma, Variable beta, double eps,
                                     boolean batchStats) {
        return ImageOps.batchNorm(x, mean, var, gamma, beta, eps, batchStats);
    }

    /**
     * Inverted dropout: each element is kept with probability {@code 1 - p} and scaled by {@code 1/(1 - p)}, the
     * mask drawn from Philox4x32-10 at {@code (seed, offset)} ({@link dev.backprop.random.Philox}), identical on
     * every backend. {@code p} is in {@code [0, 1]}: at {@code p = 1} the result is {@code x·0} (NaN where x is
     * infinite or NaN) and the gradient 0, as PyTorch's.
     *
     * @throws IllegalArgumentException for {@code p} outside {@code [0, 1]} or a negative offset
     */
    public static Variable dropout(Variable x, double p, long seed, long offset) {
        return ImageOps.dropout(x, p, seed, offset);
    }
}
