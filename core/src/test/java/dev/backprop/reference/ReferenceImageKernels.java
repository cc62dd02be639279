package dev.backprop.reference;

import dev.backprop.backend.Window2d;
import dev.backprop.random.Philox;

/**
 * The reference's image, normalization and dropout kernels: direct loops over the definitions in
 * {@link dev.backprop.backend.Backend}, in float64, on whole input arrays. Deliberately naive: the convolution here is
 * the six-fold sum, not im2col and GEMM, so it checks the real backends' composition instead of repeating it.
 */
final class ReferenceImageKernels {
    private ReferenceImageKernels() {
    }

    /** The input element a window tap reads, or -1 for padding: index within the image's plane. */
    private static int tap(Window2d w, int oy, int ox, int i, int j) {
        int iy = oy * w.strideH() - w.padH() + i * w.dilationH();
        int ix = ox * w.strideW() - w.padW() + j * w.dilationW();
        return iy < 0 || iy >= w.height() || ix < 0 || ix >= w.width() ? -1 : iy * w.width() + ix;
    }

    static double[] im2col(Window2d w, double[] x) {
        int oh = w.outH(), ow = w.outW(), q = w.columns(), plane = w.height() * w.width();
        double[] cols = new double[w.patchSize() * q];
        for (int img = 0; img < w.n(); img++) {
            for (int c = 0; c < w.channels(); c++) {
                for (int i = 0; i < w.kernelH(); i++) {
                    for (int j = 0; j < w.kernelW(); j++) {
                        int row = (c * w.kernelH() + i) * w.kernelW() + j;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int t = tap(w, oy, ox, i, j);
                                int col = (img * oh + oy) * ow + ox;
                                cols[row * q + col] = t < 0 ? 0 : x[(img * w.channels() + c) * plane + t];
                            }
                        }
                    }
                }
            }
        }
        return cols;
    }

    static double[] col2im(Window2d w, double[] cols) {
        int oh = w.outH(), ow = w.outW(), q = w.columns(), plane = w.height() * w.width();
        double[] dx = new double[w.inputSize()];
        for (int img = 0; img < w.n(); img++) {
            for (int c = 0; c < w.channels(); c++) {
                for (int i = 0; i < w.kernelH(); i++) {
                    for (int j = 0; j < w.kernelW(); j++) {
                        int row = (c * w.kernelH() + i) * w.kernelW() + j;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int t = tap(w, oy, ox, i, j);
                                if (t >= 0) {
                                    dx[(img * w.channels() + c) * plane + t]
                                            += cols[row * q + (img * oh + oy) * ow + ox];
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }

    static double[] copyStrided(int[] sizes, double[] src, long[] strides) {
        int[] d = {1, 1, 1, 1};
        long[] s = {0, 0, 0, 0};
        int shift = 4 - sizes.length;
        for (int k = 0; k < sizes.length; k++) {
            d[shift + k] = sizes[k];
            s[shift + k] = strides[k];
        }
        double[] out = new double[d[0] * d[1] * d[2] * d[3]];
        int o = 0;
        for (int a = 0; a < d[0]; a++) {
            for (int b = 0; b < d[1]; b++) {
                for (int c = 0; c < d[2]; c++) {
                    for (int e = 0; e < d[3]; e++) {
                        out[o++] = src[(int) (a * s[0] + b * s[1] + c * s[2] + e * s[3])];
                    }
                }
            }
        }
        return out;
    }

    /** The direct convolution: every output is its own sum over channels and taps. */
    static double[] conv2d(Window2d w, int outChannels, double[] x, double[] weight, double[] bias) {
        int oh = w.outH(), ow = w.outW(), plane = w.height() * w.width(), k = w.kernelH() * w.kernelW();
        double[] y = new double[w.n() * outChannels * oh * ow];
        for (int img = 0; img < w.n(); img++) {
            for (int o = 0; o < outChannels; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = bias == null ? 0 : bias[o];
                        for (int c = 0; c < w.channels(); c++) {
                            for (int i = 0; i < w.kernelH(); i++) {
                                for (int j = 0; j < w.kernelW(); j++) {
                                    int t = tap(w, oy, ox, i, j);
                                    if (t >= 0) {
                                        sum += weight[(o * w.channels() + c) * k + i * w.kernelW() + j]
                                                * x[(img * w.channels() + c) * plane + t];
                                    }
                                }
                            }
                        }
                        y[((img * outChannels + o) * oh + oy) * ow + ox] = sum;
                    }
                }
            }
        }
        return y;
    }

    /** {dx, dweight, dbias} by the same direct loops, each output position scattering its gradient. */
    static double[][] conv2dBackward(Window2d w, int outChannels, double[] x, double[] weight, double[] dy) {
        int oh = w.outH(), ow = w.outW(), plane = w.height() * w.width(), k = w.kernelH() * w.kernelW();
        double[] dx = new double[w.inputSize()];
        double[] dw = new double[outChannels * w.channels() * k];
        double[] db = new double[outChannels];
        for (int img = 0; img < w.n(); img++) {
            for (int o = 0; o < outChannels; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double g = dy[((img * outChannels + o) * oh + oy) * ow + ox];
                        db[o] += g;
                        for (int c = 0; c < w.channels(); c++) {
                            for (int i = 0; i < w.kernelH(); i++) {
                                for (int j = 0; j < w.kernelW(); j++) {
                                    int t = tap(w, oy, ox, i, j);
                                    if (t >= 0) {
                                        int wi = (o * w.channels() + c) * k + i * w.kernelW() + j;
                                        int xi = (img * w.channels() + c) * plane + t;
                                        dw[wi] += g * (x == null ? 0 : x[xi]);
                                        dx[xi] += g * weight[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /** {y, argmax}: the first largest tap inside the image (NaN counts as largest, as in PyTorch). */
    static double[][] maxPool2d(Window2d w, double[] x) {
        int oh = w.outH(), ow = w.outW(), plane = w.height() * w.width(), planes = w.n() * w.channels();
        double[] y = new double[planes * oh * ow];
        double[] arg = new double[y.length];
        for (int pl = 0; pl < planes; pl++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int best = -1;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < w.kernelH(); i++) {
                        for (int j = 0; j < w.kernelW(); j++) {
                            int t = tap(w, oy, ox, i, j);
                            if (t < 0) {
                                continue;
                            }
                            double v = x[pl * plane + t];
                            if (best < 0 || v > max || (Double.isNaN(v) && !Double.isNaN(max))) {
                                best = t;
                                max = v;
                            }
                        }
                    }
                    int o = (pl * oh + oy) * ow + ox;
                    y[o] = max;
                    arg[o] = best;
                }
            }
        }
        return new double[][] {y, arg};
    }

    static double[] maxPool2dBackward(Window2d w, double[] dy, double[] argmax) {
        int out = w.outPlane(), plane = w.height() * w.width();
        double[] dx = new double[w.inputSize()];
        for (int pl = 0; pl < w.n() * w.channels(); pl++) {
            for (int q = 0; q < out; q++) {
                int a = (int) argmax[pl * out + q];
                if (a >= 0 && a < plane) {
                    dx[pl * plane + a] += dy[pl * out + q];
                }
            }
        }
        return dx;
    }

    private static int divisor(Window2d w, boolean countIncludePad, int oy, int ox) {
        if (countIncludePad) {
            return w.kernelH() * w.kernelW();
        }
        int inside = 0;
        for (int i = 0; i < w.kernelH(); i++) {
            for (int j = 0; j < w.kernelW(); j++) {
                inside += tap(w, oy, ox, i, j) < 0 ? 0 : 1;
            }
        }
        return inside;
    }

    static double[] avgPool2d(Window2d w, boolean countIncludePad, double[] x) {
        int oh = w.outH(), ow = w.outW(), plane = w.height() * w.width();
        double[] y = new double[w.n() * w.channels() * oh * ow];
        for (int pl = 0; pl < w.n() * w.channels(); pl++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double sum = 0;
                    for (int i = 0; i < w.kernelH(); i++) {
                        for (int j = 0; j < w.kernelW(); j++) {
                            int t = tap(w, oy, ox, i, j);
                            sum += t < 0 ? 0 : x[pl * plane + t];
                        }
                    }
                    y[(pl * oh + oy) * ow + ox] = sum / divisor(w, countIncludePad, oy, ox);
                }
            }
        }
        return y;
    }

    static double[] avgPool2dBackward(Window2d w, boolean countIncludePad, double[] dy) {
        int oh = w.outH(), ow = w.outW(), plane = w.height() * w.width();
        double[] dx = new double[w.inputSize()];
        for (int pl = 0; pl < w.n() * w.channels(); pl++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double g = dy[(pl * oh + oy) * ow + ox] / divisor(w, countIncludePad, oy, ox);
                    for (int i = 0; i < w.kernelH(); i++) {
                        for (int j = 0; j < w.kernelW(); j++) {
                            int t = tap(w, oy, ox, i, j);
                            if (t >= 0) {
                                dx[pl * plane + t] += g;
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** {mean, biased variance} per channel of {@code [n, c, s]}. */
    static double[][] batchNormStats(int n, int c, int s, double[] x) {
        double[] mean = new double[c], var = new double[c];
        double m = (double) n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int img = 0; img < n; img++) {
                for (int k = 0; k < s; k++) {
                    sum += x[(img * c + ch) * s + k];
                }
            }
            mean[ch] = sum / m;
            double sq = 0;
            for (int img = 0; img < n; img++) {
                for (int k = 0; k < s; k++) {
                    double d = x[(img * c + ch) * s + k] - mean[ch];
                    sq += d * d;
                }
            }
            var[ch] = sq / m;
        }
        return new double[][] {mean, var};
    }

    static double[] batchNormForward(int n, int c, int s, double eps, double[] x, double[] mean, double[] var,
                                     double[] gamma, double[] beta) {
        double[] y = new double[x.length];
        for (int img = 0; img < n; img++) {
            for (int ch = 0; ch < c; ch++) {
                double inv = 1 / Math.sqrt(var[ch] + eps);
                for (int k = 0; k < s; k++) {
                    int i = (img * c + ch) * s + k;
                    y[i] = (x[i] - mean[ch]) * inv * gamma[ch] + beta[ch];
                }
            }
        }
        return y;
    }

    /** {dx, dgamma, dbeta}. */
    static double[][] batchNormBackward(int n, int c, int s, double eps, boolean batchStats, double[] x, double[] dy,
                                        double[] mean, double[] var, double[] gamma) {
        double[] dx = new double[x.length], dgamma = new double[c], dbeta = new double[c];
        double m = (double) n * s;
        for (int ch = 0; ch < c; ch++) {
            double inv = 1 / Math.sqrt(var[ch] + eps);
            double sumDy = 0, sumDyXhat = 0;
            for (int img = 0; img < n; img++) {
                for (int k = 0; k < s; k++) {
                    int i = (img * c + ch) * s + k;
                    sumDy += dy[i];
                    sumDyXhat += dy[i] * (x[i] - mean[ch]) * inv;
                }
            }
            dgamma[ch] = sumDyXhat;
            dbeta[ch] = sumDy;
            for (int img = 0; img < n; img++) {
                for (int k = 0; k < s; k++) {
                    int i = (img * c + ch) * s + k;
                    double xhat = (x[i] - mean[ch]) * inv;
                    dx[i] = batchStats ? gamma[ch] * inv * (dy[i] - sumDy / m - xhat * sumDyXhat / m)
                            : gamma[ch] * inv * dy[i];
                }
            }
        }
        return new double[][] {dx, dgamma, dbeta};
    }

    /**
     * Dropout on the definition's mask, with {@code scale} applied as one multiplication in the buffer's dtype (for
     * FLOAT32: {@code (float) x · (float) scale}, rounded once), so real backends must match it exactly.
     */
    static double[] dropout(long n, int threshold, double scale, long seed, long offset, double[] x, boolean f32) {
        double[] y = new double[(int) n];
        int[] words = new int[(int) n];
        Philox.words(seed, offset, words, (int) n);
        for (int i = 0; i < n; i++) {
            boolean keep = (words[i] >>> 8) >= threshold;
            y[i] = !keep ? 0 : f32 ? (double) ((float) x[i] * (float) scale) : x[i] * scale;
        }
        return y;
    }
}
