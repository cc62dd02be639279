package dev.backprop.backend;

import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The SPI's default convolution (im2col, one GEMM, a layout copy) against the reference backend's direct six-fold
 * sums, in float64 on the reference's own primitives: the composition every backend inherits is right before any
 * backend's kernels are involved.
 */
class Im2colConvolutionTest {
    private static final int[][] CASES = {
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},
            {3, 3, 7, 6, 3, 2, 2, 1, 0, 1, 1, 1, 4},
            {1, 2, 9, 9, 3, 3, 2, 2, 2, 2, 2, 2, 2},
            {2, 2, 3, 3, 5, 5, 1, 1, 2, 2, 1, 1, 2},
            {2, 3, 17, 5, 2, 3, 3, 2, 1, 0, 2, 1, 1},
            {0, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 2},
    };

    @Test
    void matchesTheDirectSums() {
        Random r = new Random(3);
        try (ReferenceBackend be = new ReferenceBackend()) {
            for (int[] g : CASES) {
                Window2d w = new Window2d(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
                int o = g[12], yn = w.n() * o * w.outPlane();
                Tensor x = random(be, r, w.inputSize()), wt = random(be, r, o * w.patchSize());
                Tensor b = random(be, r, o), dy = random(be, r, yn);
                Tensor y1 = Tensor.zeros(be, DType.FLOAT64, Math.max(yn, 1));
                Tensor y2 = Tensor.zeros(be, DType.FLOAT64, Math.max(yn, 1));
                Im2colConvolution.forward(be, w, o, x.buffer(), 0, wt.buffer(), 0, b.buffer(), 0, y1.buffer(), 0);
                be.conv2d(w, o, x.buffer(), 0, wt.buffer(), 0, b.buffer(), 0, y2.buffer(), 0);
                close(w + " forward", y2.toDoubles(), y1.toDoubles());

                Tensor[] mine = grads(be, w, o), direct = grads(be, w, o);
                Im2colConvolution.backward(be, w, o, x.buffer(), 0, wt.buffer(), 0, dy.buffer(), 0,
                        mine[0].buffer(), 0, mine[1].buffer(), 0, mine[2].buffer(), 0);
                be.conv2dBackward(w, o, x.buffer(), 0, wt.buffer(), 0, dy.buffer(), 0, direct[0].buffer(), 0,
                        direct[1].buffer(), 0, direct[2].buffer(), 0);
                for (int k = 0; k < 3; k++) {
                    close(w + " backward " + k, direct[k].toDoubles(), mine[k].toDoubles());
                }
                for (Tensor t : new Tensor[] {x, wt, b, dy, y1, y2, mine[0], mine[1], mine[2], direct[0], direct[1],
                        direct[2]}) {
                    t.close();
                }
            }
        }
    }

    private static Tensor[] grads(Backend be, Window2d w, int o) {
        return new Tensor[] {Tensor.full(be, DType.FLOAT64, 7, Math.max(w.inputSize(), 1)),
                Tensor.full(be, DType.FLOAT64, 7, o * w.patchSize()), Tensor.full(be, DType.FLOAT64, 7, o)};
    }

    private static Tensor random(Backend be, Random r, int n) {
        double[] v = new double[Math.max(n, 1)];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return Tensor.of(be, v, v.length);
    }

    private static void close(String what, double[] want, double[] got) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-12 * (1 + Math.abs(want[i])), what + " [" + i + "]");
        }
    }
}
