package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;

/**
 * FLOAT32 loops in plain Java, used when the Vector API path is off. Transcendental functions are computed with
 * {@link Math} in double and rounded once to float, so results are within one float rounding of the exact
 * value. The op switch sits outside each loop so every loop body is branch-free and the JIT can unroll (and often
 * auto-vectorize) it.
 */
final class ScalarF32Kernels implements F32Kernels {
    /** Terms per float partial sum in {@link #sum}: 4 interleaved accumulators, 16 terms each, then double. */
    private static final int SUM_BLOCK = 64;

    @Override
    public String describe() {
        return "scalar";
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, float[] x, int xo, float[] y, int yo, int n) {
        float lo = (float) p1, hi = (float) p2;
        switch (op) {
            case IDENTITY -> System.arraycopy(x, xo, y, yo, n);
            case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
            case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]); }
            case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]); }
            case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.sqrt(x[xo + i]); }
            case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
            case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = (float) sigmoid(x[xo + i]); }
            case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.tanh(x[xo + i]); }
            case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(0f, x[xo + i]); }
            case THRESHOLD -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] >= 0 ? 1f : 0f; }
            case CLAMP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(Math.max(x[xo + i], lo), hi); }
            case POW -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.pow(x[xo + i], p1); }
        }
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, float[] x, int xo, float[] g, int go, float[] dx,
                              int dxo, int n) {
        float lo = (float) p1, hi = (float) p2;
        switch (op) {
            case IDENTITY -> System.arraycopy(g, go, dx, dxo, n);
            case NEG -> { for (int i = 0; i < n; i++) dx[dxo + i] = -g[go + i]; }
            case EXP -> { for (int i = 0; i < n; i++) dx[dxo + i] = (float) (Math.exp(x[xo + i]) * g[go + i]); }
            case LOG -> { for (int i = 0; i < n; i++) dx[dxo + i] = g[go + i] / x[xo + i]; }
            case SQRT -> {
                for (int i = 0; i < n; i++) dx[dxo + i] = (float) (g[go + i] / (2.0 * Math.sqrt(x[xo + i])));
            }
            case ABS -> { for (int i = 0; i < n; i++) dx[dxo + i] = Math.signum(x[xo + i]) * g[go + i]; }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    double s = sigmoid(x[xo + i]);
                    dx[dxo + i] = (float) (s * (1.0 - s) * g[go + i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    double t = Math.tanh(x[xo + i]);
                    dx[dxo + i] = (float) ((1.0 - t * t) * g[go + i]);
                }
            }
            case RELU -> { for (int i = 0; i < n; i++) dx[dxo + i] = x[xo + i] > 0 ? g[go + i] : 0f; }
            case THRESHOLD -> java.util.Arrays.fill(dx, dxo, dxo + n, 0f);
            case CLAMP -> {
                for (int i = 0; i < n; i++) {
                    float v = x[xo + i];
                    dx[dxo + i] = lo <= v && v <= hi ? g[go + i] : 0f;
                }
            }
            case POW -> {
                for (int i = 0; i < n; i++) dx[dxo + i] = (float) (p1 * Math.pow(x[xo + i], p1 - 1.0) * g[go + i]);
            }
        }
    }

    @Override
    public void binary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] + b[bo + i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] - b[bo + i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] * b[bo + i]; }
            case DIV -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] / b[bo + i]; }
            case MAX -> { for (int i = 0; i < n; i++) out[oo + i] = Math.max(a[ao + i], b[bo + i]); }
            case MIN -> { for (int i = 0; i < n; i++) out[oo + i] = Math.min(a[ao + i], b[bo + i]); }
            case EQ -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] == b[bo + i] ? 1f : 0f; }
            case NE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] != b[bo + i] ? 1f : 0f; }
            case LT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] < b[bo + i] ? 1f : 0f; }
            case LE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] <= b[bo + i] ? 1f : 0f; }
            case GT -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] > b[bo + i] ? 1f : 0f; }
            case GE -> { for (int i = 0; i < n; i++) out[oo + i] = a[ao + i] >= b[bo + i] ? 1f : 0f; }
        }
    }

    @Override
    public void axpby(int n, float alpha, float[] x, int xo, float beta, float[] y, int yo) {
        if (beta == 0) {
            for (int i = 0; i < n; i++) y[yo + i] = alpha * x[xo + i];
        } else {
            for (int i = 0; i < n; i++) y[yo + i] = alpha * x[xo + i] + beta * y[yo + i];
        }
    }

    @Override
    public void addScalar(float[] x, int xo, float s, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] + s;
    }

    @Override
    public double sum(float[] x, int xo, int n) {
        double total = 0;
        int i = 0;
        for (; i + SUM_BLOCK <= n; i += SUM_BLOCK) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int j = xo + i, end = j + SUM_BLOCK; j < end; j += 4) {
                s0 += x[j];
                s1 += x[j + 1];
                s2 += x[j + 2];
                s3 += x[j + 3];
            }
            total += (double) s0 + s1 + s2 + s3;
        }
        for (; i < n; i++) total += x[xo + i];
        return total;
    }

    @Override
    public float max(float[] x, int xo, int n) {
        float m = x[xo];
        for (int i = 1; i < n; i++) m = Math.max(m, x[xo + i]);
        return m;
    }

    @Override
    public double expShiftSum(float[] x, int xo, float shift, float[] y, int yo, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - shift);
            y[yo + i] = e;
            total += e;
        }
        return total;
    }

    @Override
    public void sgdUpdate(int n, float[] p, int po, float[] g, int go, float[] v, int vo, float lr, float momentum,
                    float weightDecay, boolean nesterov) {
        for (int i = 0; i < n; i++) {
            float d = g[go + i] + weightDecay * p[po + i];
            if (v != null) {
                float vel = momentum * v[vo + i] + d;
                v[vo + i] = vel;
                d = nesterov ? d + momentum * vel : vel;
            }
            p[po + i] -= lr * d;
        }
    }

    @Override
    public void adamUpdate(int n, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo,
                     float decay, float l2, float beta1, float c1, float beta2, float c2, float stepSize, float vScale,
                     float eps) {
        for (int i = 0; i < n; i++) {
            float theta = p[po + i] * decay;
            float grad = g[go + i] + l2 * p[po + i];
            float mi = beta1 * m[mo + i] + c1 * grad;
            float vi = beta2 * v[vo + i] + c2 * grad * grad;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = theta - stepSize * mi / ((float) Math.sqrt(vi * vScale) + eps);
        }
    }

    @Override
    public double sumSquaredDeviations(float[] x, int xo, int n, float shift) {
        double total = 0;
        int i = 0;
        for (; i + SUM_BLOCK <= n; i += SUM_BLOCK) {
            float s0 = 0, s1 = 0;
            for (int j = xo + i, end = j + SUM_BLOCK; j < end; j += 2) {
                float d0 = x[j] - shift, d1 = x[j + 1] - shift;
                s0 += d0 * d0;
                s1 += d1 * d1;
            }
            total += (double) s0 + s1;
        }
        for (; i < n; i++) {
            float d = x[xo + i] - shift;
            total += d * d;
        }
        return total;
    }

    @Override
    public double sumProductDeviations(float[] g, int go, float[] x, int xo, int n, float shift) {
        double total = 0;
        int i = 0;
        for (; i + SUM_BLOCK <= n; i += SUM_BLOCK) {
            float s0 = 0, s1 = 0;
            for (int j = 0; j < SUM_BLOCK; j += 2) {
                s0 += g[go + i + j] * (x[xo + i + j] - shift);
                s1 += g[go + i + j + 1] * (x[xo + i + j + 1] - shift);
            }
            total += (double) s0 + s1;
        }
        for (; i < n; i++) {
            total += g[go + i] * (x[xo + i] - shift);
        }
        return total;
    }

    @Override
    public void scaleShiftDeviations(float[] x, int xo, float shift, float a, float b, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a * (x[xo + i] - shift) + b;
    }

    @Override
    public void combineDeviations(float[] u, int uo, float a, float[] v, int vo, float shift, float b, float c,
                                  float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = a * u[uo + i] + b * (v[vo + i] - shift) + c;
    }

    @Override
    public void dropout(int[] words, int wo, int threshold, float[] x, int xo, float scale, float[] y, int yo,
                        int n) {
        for (int i = 0; i < n; i++) y[yo + i] = (words[wo + i] >>> 8) >= threshold ? x[xo + i] * scale : 0f;
    }

    /**
     * The taps compared in row-major order; {@code &} and {@code |} instead of {@code &&} and {@code ||} keep the
     * comparisons free of branches.
     */
    @Override
    public void maxPool2x2(float[] x, int xo, int width, int outH, float[] y, int yo, int[] arg, int ao, float[] h,
                           int[] hb) {
        int ow = width / 2;
        for (int oy = 0, q = 0; oy < outH; oy++) {
            for (int ox = 0, k = 2 * oy * width; ox < ow; ox++, q++, k += 2) {
                int best = k;
                float max = x[xo + k];
                float v = x[xo + k + 1];
                boolean wins = v > max | v != v & max == max;
                max = wins ? v : max;
                best = wins ? k + 1 : best;
                v = x[xo + k + width];
                wins = v > max | v != v & max == max;
                max = wins ? v : max;
                best = wins ? k + width : best;
                v = x[xo + k + width + 1];
                wins = v > max | v != v & max == max;
                max = wins ? v : max;
                best = wins ? k + width + 1 : best;
                y[yo + q] = max;
                arg[ao + q] = best;
            }
        }
    }
}
