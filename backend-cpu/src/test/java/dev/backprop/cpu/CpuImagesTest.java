package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The 2×2, stride-2 max pooling kernel ({@link F32Kernels#maxPool2x2}) in both modes against the definition, on the
 * inputs that make its two-pass order matter: ties, NaN (the first NaN wins) and infinities, rows narrower and wider
 * than a vector, an odd height (the last row unread), and many planes split over threads (a plane's last vector must
 * not spill into the next plane's outputs).
 */
class CpuImagesTest {
    @Test
    void twoByTwoPoolingFollowsTheFirstLargestRule() {
        int[][] shapes = {{3, 5, 4, 4}, {2, 32, 28, 28}, {1, 3, 7, 36}, {4, 2, 6, 40}, {1, 1, 2, 2}, {5, 7, 14, 14}};
        for (boolean vector : new boolean[] {true, false}) {
            try (CpuBackend be = CpuTesting.backend(vector, 2)) {
                for (int[] d : shapes) {
                    Window2d w = Window2d.of(d[0], d[1], d[2], d[3], 2, 2, 2, 2, 0, 0);
                    double[] x = input(w.inputSize(), d.hashCode());
                    int outs = w.n() * w.channels() * w.outPlane();
                    Buffer bx = CpuTesting.upload(be, DType.FLOAT32, x);
                    Buffer by = be.allocate(DType.FLOAT32, outs), barg = be.allocate(DType.INT32, outs);
                    be.maxPool2d(w, bx, 0, by, 0, barg, 0);
                    double[][] want = expected(w, x);
                    String what = (vector ? "vector " : "scalar ") + w;
                    CpuTesting.assertExact(what + " values", want[0], CpuTesting.download(be, by));
                    CpuTesting.assertExact(what + " argmax", want[1], CpuTesting.download(be, barg));
                    be.release(bx);
                    be.release(by);
                    be.release(barg);
                }
            }
        }
    }

    /** Few distinct values (many ties), with NaN and both infinities sprinkled in. */
    private static double[] input(int n, long seed) {
        Random r = new Random(seed);
        double[] choices = {-1, 0, 2, 2, 2, 0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.5};
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(8) == 0 ? choices[6 + r.nextInt(4)] : choices[r.nextInt(6)];
        }
        return x;
    }

    /** {values, argmax} by the taps in row-major order: a later tap wins if larger, or NaN against a number. */
    private static double[][] expected(Window2d w, double[] x) {
        int plane = w.height() * w.width(), out = w.outPlane();
        double[] y = new double[w.n() * w.channels() * out], arg = new double[y.length];
        for (int p = 0; p < w.n() * w.channels(); p++) {
            for (int oy = 0; oy < w.outH(); oy++) {
                for (int ox = 0; ox < w.outW(); ox++) {
                    int best = -1;
                    double max = 0;
                    for (int t = 0; t < 4; t++) {
                        int k = (2 * oy + t / 2) * w.width() + 2 * ox + t % 2;
                        double v = x[p * plane + k];
                        if (best < 0 || v > max || Double.isNaN(v) && !Double.isNaN(max)) {
                            best = k;
                            max = v;
                        }
                    }
                    y[p * out + oy * w.outW() + ox] = max;
                    arg[p * out + oy * w.outW() + ox] = best;
                }
            }
        }
        return new double[][] {y, arg};
    }
}
