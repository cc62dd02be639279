package dev.backprop.data;

import java.util.Arrays;

/**
 * Pillow's bilinear resize of 8-bit pixels ({@code Image.resize(size, Image.BILINEAR)}, which torchvision's
 * {@code Resize} calls on a PIL image), integer-exact: a separable convolution, rows first and then columns, each
 * output pixel a weighted sum of the input pixels under the triangle filter, whose support widens by the reduction
 * factor when shrinking (antialiasing). The weights are normalized to sum to 1 in doubles, then turned into
 * fixed-point integers of {@link #PRECISION_BITS} fraction bits; each pass rounds and clips its result to 8 bits.
 * A pass along a side whose size does not change is skipped, as Pillow skips it.
 */
final class BilinearResize {
    /** Pillow's fixed-point fraction bits: 32 bits less 8 for the value and 2 for the sum's overflow. */
    static final int PRECISION_BITS = 32 - 8 - 2;
    /** A sum's start: one half, so that the shift to 8 bits rounds. */
    private static final int ROUND = 1 << (PRECISION_BITS - 1);

    private BilinearResize() {
    }

    /**
     * {@code pixels} ({@code height × width × bands}, row-major, bands interleaved, 1 or 3 bands) resized to
     * {@code outHeight × outWidth}.
     */
    static byte[] resize(byte[] pixels, int bands, int height, int width, int outHeight, int outWidth) {
        if (bands != 1 && bands != 3) {
            throw new IllegalArgumentException("bands must be 1 (gray) or 3 (RGB), got " + bands);
        }
        Weights vertical = Weights.of(height, outHeight);
        byte[] rows = pixels;
        int first = 0;
        if (outWidth != width) {
            // Only the rows the vertical pass reads are resized along them.
            first = vertical.start(0);
            int last = vertical.start(outHeight - 1) + vertical.count(outHeight - 1);
            rows = horizontal(pixels, bands, width, first, last, Weights.of(width, outWidth));
        }
        if (outHeight == height) {
            return rows;
        }
        return vertical(rows, bands, outWidth, first, vertical);
    }

    /**
     * At most the pixels {@link #resize} holds between its passes: every input row at the output width when the width
     * changes (a vertical reduction reads them all), none when it does not.
     */
    static long firstPassPixels(int height, int width, int outWidth) {
        return outWidth == width ? 0 : (long) height * outWidth;
    }

    /**
     * Rows {@code first} to {@code last} (exclusive) of {@code in}, each resized to {@code w.outSize} pixels. The
     * bands of a pixel are summed together, so each input pixel and weight is read once.
     */
    private static byte[] horizontal(byte[] in, int bands, int width, int first, int last, Weights w) {
        int outWidth = w.outSize(), size = w.size();
        int[] k = w.k(), bounds = w.bounds();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(last - first, outWidth), bands)];
        int o = 0;
        for (int y = first; y < last; y++) {
            int rowIn = y * width * bands;
            for (int x = 0; x < outWidth; x++) {
                int p = rowIn + bounds[2 * x] * bands, count = bounds[2 * x + 1], kx = x * size;
                if (bands == 1) {
                    int s = ROUND;
                    for (int i = 0; i < count; i++) {
                        s += (in[p + i] & 0xFF) * k[kx + i];
                    }
                    out[o++] = clip8(s);
                } else {
                    int r = ROUND, g = ROUND, b = ROUND;
                    for (int i = 0; i < count; i++, p += 3) {
                        int c = k[kx + i];
                        r += (in[p] & 0xFF) * c;
                        g += (in[p + 1] & 0xFF) * c;
                        b += (in[p + 2] & 0xFF) * c;
                    }
                    out[o] = clip8(r);
                    out[o + 1] = clip8(g);
                    out[o + 2] = clip8(b);
                    o += 3;
                }
            }
        }
        return out;
    }

    /**
     * {@code in}'s columns resized to {@code w.outSize} rows; {@code in}'s row 0 is the input's row {@code first}.
     * Each output row accumulates whole input rows, one weight at a time: the reads run along memory, and the sums
     * are the same integers in another order.
     */
    private static byte[] vertical(byte[] in, int bands, int width, int first, Weights w) {
        int outHeight = w.outSize(), rowBytes = width * bands, size = w.size();
        int[] k = w.k(), bounds = w.bounds();
        byte[] out = new byte[Math.multiplyExact(outHeight, rowBytes)];
        int[] sums = new int[rowBytes];
        for (int y = 0; y < outHeight; y++) {
            int start = bounds[2 * y] - first, count = bounds[2 * y + 1], ky = y * size;
            Arrays.fill(sums, ROUND);
            for (int j = 0; j < count; j++) {
                int c = k[ky + j], row = (start + j) * rowBytes;
                for (int i = 0; i < rowBytes; i++) {
                    sums[i] += (in[row + i] & 0xFF) * c;
                }
            }
            int o = y * rowBytes;
            for (int i = 0; i < rowBytes; i++) {
                out[o + i] = clip8(sums[i]);
            }
        }
        return out;
    }

    /** A fixed-point sum as 8 bits, clipped to 0..255. */
    private static byte clip8(int sum) {
        return (byte) Math.max(0, Math.min(255, sum >> PRECISION_BITS));
    }

    /**
     * The filter weights of a resize from {@code inSize} to {@code outSize} along one side: output pixel {@code o}
     * is the sum over {@code count(o)} input pixels from {@code start(o)} of pixel times {@code k[o * size + i]}.
     *
     * @param bounds each output pixel's first input pixel and count, interleaved
     * @param size   the weights kept per output pixel (some of them zero)
     */
    record Weights(int outSize, int size, int[] bounds, int[] k) {
        int start(int o) {
            return bounds[2 * o];
        }

        int count(int o) {
            return bounds[2 * o + 1];
        }

        /** Pillow's {@code precompute_coeffs} and {@code normalize_coeffs_8bpc} for the bilinear filter. */
        static Weights of(int inSize, int outSize) {
            // Pillow takes the resize box as floats: a side's length is rounded to a float first.
            double scale = (double) (float) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale;  // the triangle's support, 1, widened when shrinking
            double inverse = 1.0 / filterScale;  // Pillow multiplies by it, which rounds unlike a division
            int size = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[2 * outSize];
            int[] k = new int[Math.multiplyExact(outSize, size)];
            double[] w = new double[size];
            for (int o = 0; o < outSize; o++) {
                double center = (o + 0.5) * scale;
                int min = Math.max(0, (int) (center - support + 0.5));
                int count = Math.min(inSize, (int) (center + support + 0.5)) - min;
                double total = 0;
                for (int i = 0; i < count; i++) {
                    w[i] = triangle((i + min - center + 0.5) * inverse);
                    total += w[i];
                }
                for (int i = 0; i < count; i++) {
                    double normalized = total != 0.0 ? w[i] / total : w[i];
                    k[o * size + i] = (int) (normalized < 0 ? -0.5 + normalized * (1 << PRECISION_BITS)
                            : 0.5 + normalized * (1 << PRECISION_BITS));
                }
                bounds[2 * o] = min;
                bounds[2 * o + 1] = count;
            }
            return new Weights(outSize, size, bounds, k);
        }

        private static double triangle(double x) {
            double a = Math.abs(x);
            return a < 1.0 ? 1.0 - a : 0.0;
        }
    }
}
