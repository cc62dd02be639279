package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;

/**
 * FLOAT64 loops in plain Java, in both the vector and the scalar mode: FLOAT64 serves gradient checks, where
 * {@link Math}'s correctly rounded (or 1-ulp) functions matter more than speed, and the JIT auto-vectorizes the
 * simple arithmetic loops anyway. Same contracts as {@link F32Kernels}, on {@code double[]}.
 */
final class F64Kernels {
    /** Terms per block in {@link #sum}: 4 interleaved accumulators keep the adds independent. */
    private static final int SUM_BLOCK = 64;

    void unary(UnaryOp op, double p1, double p2, double[] x, int xo, double[] y, int yo, int n) {
        double lo = p1, hi = p2;
        switch (op) {
            case IDENTITY -> System.arraycopy(x, xo, y, yo, n);
            case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
            case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = Math.log(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = sigmoid(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(0.0, x[xo + i]); }
            case THRESHOLD -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] >= 0 ? 1.0 : 0.0; }
            case CLAMP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(Math.max(x[xo + i], lo), hi); }
            case POW -> { for (int i = 0; i < n; i++) y[yo + i] = Math.pow(x[xo + i], p1); }
        }
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    void unaryBackward(UnaryOp op, double p1, double p2, double[] x, int xo, double[] g, int go, double[] dx,
                              int dxo, int n) {
        double lo = p1, hi = p2;
        switch (op) {
            case IDENTITY -> System.arraycopy(g, go, dx, dxo, n);
            case NEG -> { for (int i = 0; i < n; i++) dx[dxo + i] = -g[go + i]; }
            case EXP -> { for (int i = 0; i < n; i++) dx[dxo + i] = (Math.exp(x[xo + i]) * g[go + i]); }
            case LOG -> { for (int i = 0; i < n; i++) dx[dxo + i] = g[go + i] / x[xo + i]; }
            case SQRT -> {
                for (int i = 0; i < n; i++) dx[dxo + i] = (g[go + i] / (2.0 * Math.sqrt(x[xo + i])));
            }
            case ABS -> { for (int i = 0; i < n; i++) dx[dxo + i] = Math.signum(x[xo + i]) * g[go + i]; }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    double s = sigmoid(x[xo + i]);
                    dx[dxo + i] = (s * (1.0 - s) * g[go + i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    double t = Math.tanh(x[xo + i]);
                    dx[dxo + i] = ((1.0 - t * t) * g[go + i]);
                }
            }
            case RELU -> { for (int i = 0; i < n; i++) dx[dxo + i] = x[xo + i] > 0 ? g[go + i] : 0.0; }
            case THRESHOLD -> java.util.Arrays.fill(dx, dxo, dxo + n, 0.0);
            case CLAMP -> {
                for (int i = 0; i < n; i++) {
                    double v = x[xo + i];
                    dx[dxo + i] = lo <= v && v <= hi ? g[go + i] : 0.0;
                }
            }
            case POW -> {
                for (int i = 0; i < n; i++) dx[dxo + i] = (p1 * Math.pow(x[xo + i], p1 - 1.0) * g[go + i]);
            }
        }
    }

    void binary(BinaryOp op, double[] a, int ao, double[] b, int bo, double[] out, int oo, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] + b[bo + i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] - b[bo + i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] * b[bo + i]; }
            case DIV -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] / b[bo + i]; }
            case MAX -> { for (int i = 0; i < n; i++) out[oo + i] = Math.max(a[ao + i], b[bo + i]); }
            case MIN -> { for (int i = 0; i < n; i++) out[oo + i] = Math.min(a[ao + i], b[bo + i]); }
            case EQ -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] == b[bo + i] ? 1.0 : 0.0; }
            case NE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] != b[bo + i] ? 1.0 : 0.0; }
            case LT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] < b[bo + i] ? 1.0 : 0.0; }
            case LE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] <= b[bo + i] ? 1.0 : 0.0; }
            case GT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] > b[bo + i] ? 1.0 : 0.0; }
            case GE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] >= b[bo + i] ? 1.0 : 0.0; }
        }
    }

    void axpby(int n, double alpha, double[] x, int xo, double beta, double[] y, int yo) {
        if (beta == 0) {
            for (int i = 0; i < n; i++) y[yo + i] = alpha * x[xo + i];
        } else {
            for (int i = 0; i < n; i++) y[yo + i] = alpha * x[xo + i] + beta * y[yo + i];
        }
    }

    void addScalar(double[] x, int xo, double s, double[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] + s;
    }

    double sum(double[] x, int xo, int n) {
        double total = 0;
        int i = 0;
        for (; i + SUM_BLOCK <= n; i += SUM_BLOCK) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int j = xo + i, end = j + SUM_BLOCK; j < end; j += 4) {
                s0 += x[j];
                s1 += x[j + 1];
                s2 += x[j + 2];
                s3 += x[j + 3];
            }
            total += s0 + s1 + s2 + s3;
        }
        for (; i < n; i++) total += x[xo + i];
        return total;
    }

    double max(double[] x, int xo, int n) {
        double m = x[xo];
        for (int i = 1; i < n; i++) m = Math.max(m, x[xo + i]);
        return m;
    }

    double expShiftSum(double[] x, int xo, double shift, double[] y, int yo, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(x[xo + i] - shift);
            y[yo + i] = e;
            total += e;
        }
        return total;
    }

    void sgdUpdate(int n, double[] p, int po, double[] g, int go, double[] v, int vo, double lr, double momentum,
                    double weightDecay, boolean nesterov) {
        for (int i = 0; i < n; i++) {
            double d = g[go + i] + weightDecay * p[po + i];
            if (v != null) {
                double vel = momentum * v[vo + i] + d;
                v[vo + i] = vel;
                d = nesterov ? d + momentum * vel : vel;
            }
            p[po + i] -= lr * d;
        }
    }

    void adamUpdate(int n, double[] p, int po, double[] g, int go, double[] m, int mo, double[] v, int vo, double decay,
              double l2, double beta1, double c1, double beta2, double c2, double stepSize, double vScale,
              double eps) {
        for (int i = 0; i < n; i++) {
            double theta = p[po + i] * decay;
            double grad = g[go + i] + l2 * p[po + i];
            double mi = beta1 * m[mo + i] + c1 * grad;
            double vi = beta2 * v[vo + i] + c2 * grad * grad;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = theta - stepSize * mi / (Math.sqrt(vi * vScale) + eps);
        }
    }

    double sumSquaredDeviations(double[] x, int xo, int n, double shift) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xo + i] - shift;
            total += d * d;
        }
        return total;
    }

    double sumProductDeviations(double[] g, int go, double[] x, int xo, int n, double shift) {
        double total = 0;
        for (int i = 0; i < n; i++) total += g[go + i] * (x[xo + i] - shift);
        return total;
    }

    void scaleShiftDeviations(double[] x, int xo, double shift, double a, double b, double[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a * (x[xo + i] - shift) + b;
    }

    void combineDeviations(double[] u, int uo, double a, double[] v, int vo, double shift, double b, double c,
                           double[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a * u[uo + i] + b * (v[vo + i] - shift) + c;
    }

    void dropout(int[] words, int wo, int threshold, double[] x, int xo, double scale, double[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = (words[wo + i] >>> 8) >= threshold ? x[xo + i] * scale : 0.0;
    }
}
