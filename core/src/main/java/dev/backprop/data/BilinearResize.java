package dev.backprop.data;

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

    private BilinearResize() {
    }

    /**
     * {@code pixels} ({@code height × width × bands}, row-major, bands interleaved) resized to
     * {@code outHeight × outWidth}.
     */
    static byte[] resize(byte[] pixels, int bands, int height, int width, int outHeight, int outWidth) {
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

    /** Rows {@code first} to {@code last} (exclusive) of {@code in}, each resized to {@code w.outSize} pixels. */
    private static byte[] horizontal(byte[] in, int bands, int width, int first, int last, Weights w) {
        int outWidth = w.outSize();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(last - first, outWidth), bands)];
        for (int y = first; y < last; y++) {
            int rowIn = y * width * bands;
            int rowOut = (y - first) * outWidth * bands;
            for (int x = 0; x < outWidth; x++) {
                int start = w.start(x), count = w.count(x), k = x * w.size();
                for (int b = 0; b < bands; b++) {
                    int sum = 1 << (PRECISION_BITS - 1);
                    for (int i = 0; i < count; i++) {
                        sum += (in[rowIn + (start + i) * bands + b] & 0xFF) * w.k()[k + i];
                    }
                    out[rowOut + x * bands + b] = clip8(sum);
                }
            }
        }
        return out;
    }

    /** {@code in}'s columns resized to {@code w.outSize} rows; {@code in}'s row 0 is the input's row {@code first}. */
    private static byte[] vertical(byte[] in, int bands, int width, int first, Weights w) {
        int outHeight = w.outSize(), rowBytes = width * bands;
        byte[] out = new byte[Math.multiplyExact(outHeight, rowBytes)];
        for (int y = 0; y < outHeight; y++) {
            int start = w.start(y) - first, count = w.count(y), k = y * w.size();
            for (int i = 0; i < rowBytes; i++) {
                int sum = 1 << (PRECISION_BITS - 1);
                for (int j = 0; j < count; j++) {
                    sum += (in[(start + j) * rowBytes + i] & 0xFF) * w.k()[k + j];
                }
                out[y * rowBytes + i] = clip8(sum);
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
    private record Weights(int outSize, int size, int[] bounds, int[] k) {
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
