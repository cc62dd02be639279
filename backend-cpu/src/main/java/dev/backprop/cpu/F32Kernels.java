package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;

/**
 * The FLOAT32 inner loops of the elementwise, reduction, softmax and update families, over one contiguous range
 * each: the part that differs between the Vector API implementation ({@code VectorF32Kernels}) and the plain-Java
 * one ({@link ScalarF32Kernels}). The op families cut work into ranges and run them on threads; a kernel never
 * starts threads. Every output range may be the same range as an input range (in-place use), never a partial
 * overlap.
 */
interface F32Kernels {
    /** {@code y[i] = op(x[i]; p1, p2)} for {@code i < n}. */
    void unary(UnaryOp op, double p1, double p2, float[] x, int xo, float[] y, int yo, int n);

    /**
     * {@code y = relu(x)} over four ranges of {@code m} elements at once, the {@code k}-th starting {@code k·q}
     * after {@code xo} (and {@code yo}): a long range split in quarters and read as four streams, which a single
     * core needs to approach the memory's bandwidth. {@code m} is a multiple of 64. The default runs the four
     * ranges one after the other.
     */
    default void reluStreams(float[] x, int xo, float[] y, int yo, int q, int m) {
        for (int k = 0; k < 4; k++) {
            unary(UnaryOp.RELU, 0, 0, x, xo + k * q, y, yo + k * q, m);
        }
    }

    /** {@code dx[i] = op'(x[i]; p1, p2)·g[i]} for {@code i < n}. */
    void unaryBackward(UnaryOp op, double p1, double p2, float[] x, int xo, float[] g, int go, float[] dx, int dxo,
                       int n);

    /** {@code out[i] = a[i] op b[i]} for {@code i < n}; comparisons give 0 or 1. */
    void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n);

    /** {@code y[i] = alpha·x[i] + beta·y[i]}; y is not read when {@code beta == 0}. */
    void axpby(int n, float alpha, float[] x, int xo, float beta, float[] y, int yo);

    /** {@code y[i] = x[i] + s}. */
    void addScalar(float[] x, int xo, float s, float[] y, int yo, int n);

    /**
     * Sum of {@code x[xo .. xo+n)}. Partial sums are kept in float for at most a few dozen terms each and then
     * added in double, so the error stays within {@code 1e-5·Σ|x|} for any {@code n}.
     */
    double sum(float[] x, int xo, int n);

    /** Largest of {@code x[xo .. xo+n)}, {@code n ≥ 1}; NaN when any element is NaN. */
    float max(float[] x, int xo, int n);

    /** {@code y[i] = exp(x[i] - shift)}; returns {@code Σ y[i]} (summed as {@link #sum} does). */
    double expShiftSum(float[] x, int xo, float shift, float[] y, int yo, int n);

    /**
     * {@link #expShiftSum} on each of {@code rows} contiguous rows of {@code cols}: row {@code r} of y gets
     * {@code exp(x - shifts[r])} and {@code sums[r]} its sum, exactly as one {@code expShiftSum} per row would
     * (an implementation may batch the exponentials of all rows in one pass). y may be the same range as x.
     */
    default void expShiftSumRows(float[] x, int xo, float[] shifts, int rows, int cols, float[] y, int yo,
                                 double[] sums) {
        for (int r = 0; r < rows; r++) {
            sums[r] = expShiftSum(x, xo + r * cols, shifts[r], y, yo + r * cols, cols);
        }
    }

    /** SGD step on one range; see {@link dev.backprop.backend.Backend#sgdUpdate}. {@code v} may be null. */
    void sgdUpdate(int n, float[] p, int po, float[] g, int go, float[] v, int vo, float lr, float momentum,
             float weightDecay, boolean nesterov);

    /**
     * Adam/AdamW step on one range: {@code θ = decay·θ - stepSize·m/(sqrt(vScale·v) + eps)} after
     * {@code g' = g + l2·θ}, {@code m = β1·m + c1·g'}, {@code v = β2·v + c2·g'²}. The caller folds everything
     * that does not depend on the element into these constants, computed in double: {@code decay = 1 - lr·wd}
     * (AdamW) or 1, {@code l2 = wd} (Adam) or 0, {@code c1 = 1-β1}, {@code c2 = 1-β2},
     * {@code stepSize = lr/(1-β1^t)}, {@code vScale = 1/(1-β2^t)}. (Rounding β2 to float first and then taking
     * {@code 1-β2} in float would be off by 1e-5 relative.)
     */
    void adamUpdate(int n, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, float decay,
              float l2, float beta1, float c1, float beta2, float c2, float stepSize, float vScale, float eps);

    /** {@code Σ (x[i] - shift)²}, differences and squares in float, partial sums moved to double as {@link #sum}. */
    double sumSquaredDeviations(float[] x, int xo, int n, float shift);

    /** {@code Σ g[i]·(x[i] - shift)}, summed as {@link #sumSquaredDeviations}. */
    double sumProductDeviations(float[] g, int go, float[] x, int xo, int n, float shift);

    /** {@code y[i] = a·(x[i] - shift) + b}, the difference first as in {@link #combineDeviations}; y may be x. */
    void scaleShiftDeviations(float[] x, int xo, float shift, float a, float b, float[] y, int yo, int n);

    /**
     * {@code y[i] = a·u[i] + b·(v[i] - shift) + c}; y may be the same range as u or v. The difference comes first so
     * that a shift near v (a mean) cancels exactly instead of leaving {@code b·shift}'s rounding in y.
     */
    void combineDeviations(float[] u, int uo, float a, float[] v, int vo, float shift, float b, float c, float[] y,
                           int yo, int n);

    /**
     * Dropout on a drawn mask: {@code y[i] = (words[wo + i] >>> 8) >= threshold ? x[i]·scale : 0}, the product
     * rounded once (see {@link dev.backprop.backend.Backend#dropout}); y may be the same range as x.
     */
    void dropout(int[] words, int wo, int threshold, float[] x, int xo, float scale, float[] y, int yo, int n);

    /**
     * Max pooling of one plane with a 2×2 window, stride 2 and no padding, {@code width} even: output row
     * {@code oy} of {@code width / 2} values reads input rows {@code 2oy} and {@code 2oy + 1}; {@code arg} gets the
     * in-plane index of the first largest tap in row-major tap order, NaN counting as largest. {@code h} and
     * {@code hb} are scratch of at least {@link #maxPoolScratch} elements.
     */
    void maxPool2x2(float[] x, int xo, int width, int outH, float[] y, int yo, int[] arg, int ao, float[] h, int[] hb);

    /** Scratch elements {@link #maxPool2x2} needs for a plane of {@code outH} output rows. */
    default int maxPoolScratch(int width, int outH) {
        return 0;
    }

    /** What runs these loops, for capability details. */
    String describe();
}
