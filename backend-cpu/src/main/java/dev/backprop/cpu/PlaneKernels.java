package dev.backprop.cpu;

import dev.backprop.backend.Window2d;

/**
 * The pooling loops over one image plane, FLOAT32 and FLOAT64, on the window table of {@link PoolTaps}. Backward
 * loops add into a plane the caller has zeroed and that no other thread writes, in output order, so a result does
 * not depend on the split.
 */
final class PlaneKernels {
    private PlaneKernels() {
    }

    /** Largest tap of each window and its in-plane index; the first largest wins and NaN counts as largest. */
    static void maxPool(PoolTaps p, float[] x, int xo, float[] y, int yo, int[] arg, int ao) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            int best = -1;
            float max = Float.NEGATIVE_INFINITY;
            for (int end = t + p.window(); t < end; t++) {
                int k = taps[t];
                if (k >= 0) {
                    float v = x[xo + k];
                    if (best < 0 || v > max || (v != v && max == max)) {
                        best = k;
                        max = v;
                    }
                }
            }
            y[yo + q] = max;
            arg[ao + q] = best;
        }
    }

    /**
     * {@link #maxPool} for a window that never reaches into padding (no padding), without the table: the taps'
     * offsets are computed. Same results, same tie rule; {@code &} and {@code |} keep the comparisons free of
     * branches, which pooled data (ties, random orders) would mispredict half the time.
     */
    static void maxPoolInside(Window2d w, float[] x, int xo, float[] y, int yo, int[] arg, int ao) {
        int width = w.width(), rowStep = w.dilationH() * width, dw = w.dilationW(), kh = w.kernelH();
        int kw = w.kernelW(), oh = w.outH(), ow = w.outW(), sh = w.strideH(), sw = w.strideW();
        for (int oy = 0, q = 0; oy < oh; oy++) {
            for (int ox = 0, k0 = oy * sh * width; ox < ow; ox++, q++, k0 += sw) {
                int best = k0;
                float max = x[xo + k0];
                for (int i = 0, row = k0; i < kh; i++, row += rowStep) {
                    for (int j = 0, k = row; j < kw; j++, k += dw) {
                        float v = x[xo + k];
                        boolean wins = v > max | v != v & max == max;
                        max = wins ? v : max;
                        best = wins ? k : best;
                    }
                }
                y[yo + q] = max;
                arg[ao + q] = best;
            }
        }
    }

    static void maxPool(PoolTaps p, double[] x, int xo, double[] y, int yo, int[] arg, int ao) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            int best = -1;
            double max = Double.NEGATIVE_INFINITY;
            for (int end = t + p.window(); t < end; t++) {
                int k = taps[t];
                if (k >= 0) {
                    double v = x[xo + k];
                    if (best < 0 || v > max || (v != v && max == max)) {
                        best = k;
                        max = v;
                    }
                }
            }
            y[yo + q] = max;
            arg[ao + q] = best;
        }
    }

    /** {@code dx[arg[q]] += dy[q]} over {@code out} outputs; an index outside the plane is skipped. */
    static void maxPoolBackward(float[] dy, int go, int[] arg, int ao, int out, float[] dx, int xo, int plane) {
        for (int q = 0; q < out; q++) {
            int k = arg[ao + q];
            if (k >= 0 && k < plane) {
                dx[xo + k] += dy[go + q];
            }
        }
    }

    static void maxPoolBackward(double[] dy, int go, int[] arg, int ao, int out, double[] dx, int xo, int plane) {
        for (int q = 0; q < out; q++) {
            int k = arg[ao + q];
            if (k >= 0 && k < plane) {
                dx[xo + k] += dy[go + q];
            }
        }
    }

    /** The sum of each window's taps inside the image over its divisor (the sum kept in double). */
    static void avgPool(PoolTaps p, float[] x, int xo, float[] y, int yo) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            double sum = 0;
            for (int end = t + p.window(); t < end; t++) {
                sum += taps[t] >= 0 ? x[xo + taps[t]] : 0;
            }
            y[yo + q] = (float) (sum / p.divisors()[q]);
        }
    }

    static void avgPool(PoolTaps p, double[] x, int xo, double[] y, int yo) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            double sum = 0;
            for (int end = t + p.window(); t < end; t++) {
                sum += taps[t] >= 0 ? x[xo + taps[t]] : 0;
            }
            y[yo + q] = sum / p.divisors()[q];
        }
    }

    /** Each window's {@code dy/divisor} added to every tap of it inside the image. */
    static void avgPoolBackward(PoolTaps p, float[] dy, int go, float[] dx, int xo) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            float g = (float) (dy[go + q] / p.divisors()[q]);
            for (int end = t + p.window(); t < end; t++) {
                if (taps[t] >= 0) {
                    dx[xo + taps[t]] += g;
                }
            }
        }
    }

    static void avgPoolBackward(PoolTaps p, double[] dy, int go, double[] dx, int xo) {
        int[] taps = p.taps();
        for (int q = 0, t = 0; q < p.divisors().length; q++) {
            double g = dy[go + q] / p.divisors()[q];
            for (int end = t + p.window(); t < end; t++) {
                if (taps[t] >= 0) {
                    dx[xo + taps[t]] += g;
                }
            }
        }
    }
}
