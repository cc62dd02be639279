package dev.backprop.cpu;

import java.util.Arrays;

/**
 * Runs of array elements for the ops that only move or add values (im2col, col2im, strided copies): the same
 * index arithmetic serves {@code float[]}, {@code double[]} and {@code int[]}, and the element type is decided
 * once per run, not per element.
 */
final class ArrayRuns {
    private ArrayRuns() {
    }

    /** Zeroes {@code a[from .. to)}. */
    static void zero(Object a, int from, int to) {
        if (to <= from) {
            return;
        }
        if (a instanceof float[] f) {
            Arrays.fill(f, from, to, 0f);
        } else if (a instanceof double[] d) {
            Arrays.fill(d, from, to, 0.0);
        } else {
            Arrays.fill((int[]) a, from, to, 0);
        }
    }

    /** {@code dst[d + k] = src[s + k·stride]} for {@code k < n}; a stride of 1 is one {@code System.arraycopy}. */
    static void gather(Object src, int s, int stride, Object dst, int d, int n) {
        if (stride == 1) {
            System.arraycopy(src, s, dst, d, n);
        } else if (src instanceof float[] f) {
            float[] o = (float[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k] = f[s + k * stride];
            }
        } else if (src instanceof double[] f) {
            double[] o = (double[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k] = f[s + k * stride];
            }
        } else {
            int[] f = (int[]) src, o = (int[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k] = f[s + k * stride];
            }
        }
    }

    /** {@code dst[d + k·stride] += src[s + k]} for {@code k < n} (floating types). */
    static void scatterAdd(Object src, int s, Object dst, int d, int stride, int n) {
        if (src instanceof float[] f) {
            float[] o = (float[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k * stride] += f[s + k];
            }
        } else {
            double[] f = (double[]) src, o = (double[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k * stride] += f[s + k];
            }
        }
    }

    /**
     * {@code rows} runs of {@code width} elements from {@code src} (rows {@code srcPitch} apart) to {@code dst} (rows
     * {@code dstPitch} apart): a plane between a padded layout and a dense one.
     */
    static void copyRows(Object src, int s, int srcPitch, Object dst, int d, int dstPitch, int rows, int width) {
        if (srcPitch == width && dstPitch == width) {
            System.arraycopy(src, s, dst, d, rows * width);
            return;
        }
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, s + r * srcPitch, dst, d + r * dstPitch, width);
        }
    }

    /** {@code a[from .. to) = v}, rounded to the array's type (floating types). */
    static void fill(Object a, int from, int to, double v) {
        if (a instanceof float[] f) {
            Arrays.fill(f, from, to, (float) v);
        } else {
            Arrays.fill((double[]) a, from, to, v);
        }
    }

    /** {@code dst[d + k] += src[s + k]} for {@code k < n} (floating types). */
    static void addRun(Object src, int s, Object dst, int d, int n) {
        if (src instanceof float[] f) {
            float[] o = (float[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k] += f[s + k];
            }
        } else {
            double[] f = (double[]) src, o = (double[]) dst;
            for (int k = 0; k < n; k++) {
                o[d + k] += f[s + k];
            }
        }
    }

    /** {@code a[i]} as a double (floating types). */
    static double get(Object a, int i) {
        return a instanceof float[] f ? f[i] : ((double[]) a)[i];
    }

    /** {@code a[i] = v}, rounded to the array's type (floating types). */
    static void set(Object a, int i, double v) {
        if (a instanceof float[] f) {
            f[i] = (float) v;
        } else {
            ((double[]) a)[i] = v;
        }
    }
}
