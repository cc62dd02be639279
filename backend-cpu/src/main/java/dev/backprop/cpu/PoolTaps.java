package dev.backprop.cpu;

import dev.backprop.backend.Window2d;

/**
 * The pooling window of every output position of a plane, the same for every plane of a batch: {@code taps[q·window
 * + t]} is the in-plane input index that tap {@code t} of output {@code q} reads, in row-major tap order, or -1 where
 * the tap lies in the padding; {@code divisors[q]} is what an average divides by (the window's size, or only its
 * taps inside the image).
 *
 * @param window   taps per output position ({@code kernelH·kernelW})
 * @param taps     {@code outH·outW·window} input indices
 * @param divisors one per output position
 */
record PoolTaps(int window, int[] taps, double[] divisors) {
    static PoolTaps of(Window2d w, boolean countIncludePad) {
        int window = w.kernelH() * w.kernelW(), out = w.outPlane();
        int[] taps = new int[out * window];
        double[] divisors = new double[out];
        for (int oy = 0, q = 0; oy < w.outH(); oy++) {
            for (int ox = 0; ox < w.outW(); ox++, q++) {
                int inside = 0;
                for (int i = 0, t = q * window; i < w.kernelH(); i++) {
                    int iy = oy * w.strideH() - w.padH() + i * w.dilationH();
                    for (int j = 0; j < w.kernelW(); j++, t++) {
                        int ix = ox * w.strideW() - w.padW() + j * w.dilationW();
                        boolean in = iy >= 0 && iy < w.height() && ix >= 0 && ix < w.width();
                        taps[t] = in ? iy * w.width() + ix : -1;
                        inside += in ? 1 : 0;
                    }
                }
                divisors[q] = countIncludePad ? window : inside;
            }
        }
        return new PoolTaps(window, taps, divisors);
    }
}
