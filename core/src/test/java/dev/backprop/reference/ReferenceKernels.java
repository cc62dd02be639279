package dev.backprop.reference;

import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;

import java.util.function.DoubleUnaryOperator;

/**
 * The row-wise and whole-array computations behind {@link ReferenceBackend}, on plain {@code double[]}
 * copies of the operands: {@link ReferenceBackend} reads the inputs, calls here, and rounds the results on
 * store. Straight loops in float64, formulas as the {@link dev.backprop.backend.Backend} Javadoc states them.
 */
final class ReferenceKernels {
    private ReferenceKernels() {
    }

    /**
     * One GEMM of the batch: {@code C = alpha·op(A)·op(B) + beta·C}, operands addressed as
     * {@link dev.backprop.backend.Backend#gemm} says. C is not read when {@code beta == 0}; each element is
     * rounded to C's dtype once, on store.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a, long a0,
                     int lda, double[] b, long b0, int ldb, double beta, ReferenceBuffer c, long c0, int ldc) {
        for (int r = 0; r < m; r++) {
            for (int col = 0; col < n; col++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    long ai = transA ? a0 + (long) p * lda + r : a0 + (long) r * lda + p;
                    long bi = transB ? b0 + (long) col * ldb + p : b0 + (long) p * ldb + col;
                    sum += a[Math.toIntExact(ai)] * b[Math.toIntExact(bi)];
                }
                int ci = Math.toIntExact(c0 + (long) r * ldc + col);
                double old = beta == 0 ? 0 : beta * c.data[ci];
                c.data[ci] = c.round(alpha * sum + old);
            }
        }
    }

    /** Reduces a row-major {@code rows × cols} matrix along {@code axis}; MAX propagates NaN. */
    static double[] reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, double[] in) {
        double[] result = new double[axis.resultLength(rows, cols)];
        int count = switch (axis) {
            case ALL -> rows * cols;
            case PER_ROW -> cols;
            case PER_COLUMN -> rows;
        };
        for (int i = 0; i < result.length; i++) {
            double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (int j = 0; j < count; j++) {
                int idx = switch (axis) {
                    case ALL -> j;
                    case PER_ROW -> i * cols + j;
                    case PER_COLUMN -> j * cols + i;
                };
                acc = op == ReduceOp.MAX ? Math.max(acc, in[idx]) : acc + in[idx];
            }
            result[i] = op == ReduceOp.MEAN ? acc / count : acc;
        }
        return result;
    }

    /** Per row, the column of the largest element: first on ties, NaN counts as largest (first NaN wins). */
    static double[] argmaxRows(int rows, int cols, double[] in) {
        double[] result = new double[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) {
                double v = in[r * cols + c];
                double bestValue = in[r * cols + best];
                if (!Double.isNaN(bestValue) && (Double.isNaN(v) || v > bestValue)) {
                    best = c;
                }
            }
            result[r] = best;
        }
        return result;
    }

    /** Row-wise softmax or log-softmax, the row maximum subtracted first. */
    static double[] softmaxRows(boolean log, int rows, int cols, double[] in) {
        double[] out = new double[in.length];
        for (int r = 0; r < rows; r++) {
            double max = rowMax(in, r, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(in[r * cols + c] - max);
            }
            for (int c = 0; c < cols; c++) {
                double shifted = in[r * cols + c] - max;
                out[r * cols + c] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
            }
        }
        return out;
    }

    /** {@code logsumexp(z_r) - z_r[label_r]} per row; NaN for a label outside {@code [0, cols)}. */
    static double[] crossEntropy(int rows, int cols, double[] z, double[] label) {
        double[] loss = new double[rows];
        for (int r = 0; r < rows; r++) {
            double max = rowMax(z, r, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(z[r * cols + c] - max);
            }
            int l = (int) label[r];
            loss[r] = l < 0 || l >= cols ? Double.NaN : Math.log(sum) - (z[r * cols + l] - max);
        }
        return loss;
    }

    /** {@code g[r]·(probs[r][c] - 1[c == label_r])}. */
    static double[] crossEntropyBackward(int rows, int cols, double[] p, double[] label, double[] g) {
        double[] out = new double[p.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double target = c == (int) label[r] ? 1.0 : 0.0;
                out[r * cols + c] = g[r] * (p[r * cols + c] - target);
            }
        }
        return out;
    }

    /**
     * PyTorch SGD on {@code theta} (and {@code v} when not null), in place. The velocity is {@code stored} (rounded
     * to its buffer's dtype) before the parameter uses it, as PyTorch keeps it: a FLOAT32 velocity beyond the float
     * range is infinite, and so is the step it makes.
     */
    static void sgd(double[] theta, double[] g, double[] v, double lr, double momentum, double weightDecay,
                    boolean nesterov, DoubleUnaryOperator stored) {
        for (int i = 0; i < theta.length; i++) {
            double gi = g[i] + weightDecay * theta[i];
            double d = gi;
            if (v != null) {
                v[i] = stored.applyAsDouble(momentum * v[i] + gi);
                d = nesterov ? gi + momentum * v[i] : v[i];
            }
            theta[i] = theta[i] - lr * d;
        }
    }

    /**
     * PyTorch Adam (or AdamW when {@code decoupled}) on {@code theta}, {@code m}, {@code v}, in place. The moments are
     * {@code stored} (rounded to their buffers' dtype) before the parameter uses them, as PyTorch keeps them: a
     * FLOAT32 {@code g²} beyond the float range makes {@code v} infinite and the step 0.
     */
    static void adam(double[] theta, double[] g, double[] m, double[] v, double lr, double beta1, double beta2,
                     double eps, double weightDecay, boolean decoupled, long step, DoubleUnaryOperator stored) {
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < theta.length; i++) {
            double gi = g[i];
            if (decoupled) {
                theta[i] = theta[i] * (1 - lr * weightDecay);
            } else {
                gi = gi + weightDecay * theta[i];
            }
            m[i] = stored.applyAsDouble(beta1 * m[i] + (1 - beta1) * gi);
            v[i] = stored.applyAsDouble(beta2 * v[i] + (1 - beta2) * gi * gi);
            theta[i] = theta[i] - lr * (m[i] / bias1) / (Math.sqrt(v[i] / bias2) + eps);
        }
    }

    private static double rowMax(double[] x, int r, int cols) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[r * cols + c]);
        }
        return max;
    }
}
