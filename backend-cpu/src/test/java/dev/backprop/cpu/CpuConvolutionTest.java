package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.tensor.Convolution;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * {@link CpuConvolution} beyond the contract's shapes: batches larger than its weight gradient's image groups (so
 * groups hold several images), the reference CNN's layers (depth blocks in every product), strides that take the
 * im2col layout; against the SPI's default on the same backend ({@code conv.own=false}); results that do not depend
 * on the thread count; and memory that stays flat over a long training-like loop.
 */
class CpuConvolutionTest {
    /** {n, c, h, w, outs, kernel, stride, padding, dilation}. */
    private static final int[][] GEOMETRIES = {
            {20, 32, 14, 14, 64, 3, 1, 1, 1},   // the CNN's second layer, 20 images: groups of 1 and 2
            {3, 1, 28, 28, 32, 3, 1, 1, 1},     // its first layer: 840 columns per image, several depth blocks
            {19, 3, 9, 7, 5, 3, 2, 1, 1},       // stride 2: the im2col layout
            {17, 2, 8, 9, 4, 2, 1, 0, 2},       // dilation 2, no padding
    };

    private static Window2d window(int[] g) {
        return new Window2d(g[0], g[1], g[2], g[3], g[5], g[5], g[6], g[6], g[7], g[7], g[8], g[8]);
    }

    /** {y, dx, dweight, dbias} of one forward and backward pass, as doubles. */
    private static double[][] run(Backend be, DType dt, int[] g, boolean abs) {
        Window2d w = window(g);
        int outs = g[4];
        long seed = 7L * w.hashCode();
        double[] x = CpuTesting.random(seed, w.inputSize(), -1, 1, dt);
        double[] wt = CpuTesting.random(seed + 1, outs * w.patchSize(), -1, 1, dt);
        double[] b = CpuTesting.random(seed + 2, outs, -1, 1, dt);
        double[] dy = CpuTesting.random(seed + 3, w.n() * outs * w.outPlane(), -1, 1, dt);
        if (abs) {
            for (double[] v : List.of(x, wt, b, dy)) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.abs(v[i]);
                }
            }
        }
        try (Scope scope = Scope.open()) {
            Tensor tx = tensor(be, dt, x, w.n(), w.channels(), w.height(), w.width());
            Tensor tw = tensor(be, dt, wt, outs, w.channels(), w.kernelH(), w.kernelW());
            Tensor tb = tensor(be, dt, b, outs);
            Tensor tdy = tensor(be, dt, dy, w.n(), outs, w.outH(), w.outW());
            Tensor y = Tensor.empty(be, dt, w.n(), outs, w.outH(), w.outW());
            Tensor dx = Tensor.empty(be, dt, w.n(), w.channels(), w.height(), w.width());
            Tensor dw = Tensor.empty(be, dt, outs, w.channels(), w.kernelH(), w.kernelW());
            Tensor db = Tensor.empty(be, dt, outs);
            Convolution.conv2d(w, tx, tw, tb, y);
            Convolution.conv2dBackward(w, tx, tw, tdy, dx, dw, db);
            return new double[][] {y.toDoubles(), dx.toDoubles(), dw.toDoubles(), db.toDoubles()};
        }
    }

    private static Tensor tensor(Backend be, DType dt, double[] v, int... dims) {
        if (dt == DType.FLOAT64) {
            return Tensor.of(be, v, dims);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return Tensor.of(be, f, dims);
    }

    @Test
    void matchesTheDefaultConvolution() {
        for (boolean vector : new boolean[] {true, false}) {
            try (CpuBackend own = CpuTesting.backend(vector, 2);
                 CpuBackend spi = CpuTesting.backend(vector, 2, "conv.own", "false")) {
                for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                    for (int[] g : GEOMETRIES) {
                        double[][] got = run(own, dt, g, false), want = run(spi, dt, g, false);
                        double[][] terms = run(spi, DType.FLOAT64, g, true);
                        String[] names = {"y", "dx", "dweight", "dbias"};
                        for (int k = 0; k < 4; k++) {
                            double[] bound = new double[terms[k].length];
                            for (int i = 0; i < bound.length; i++) {
                                bound[i] = 2 * CpuTesting.rel(dt) * terms[k][i];
                            }
                            CpuTesting.assertWithin((vector ? "vector " : "scalar ") + dt + " " + window(g) + " "
                                    + names[k], want[k], got[k], bound);
                        }
                    }
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        try (CpuBackend one = CpuTesting.backend(true, 1); CpuBackend three = CpuTesting.backend(true, 3)) {
            for (int[] g : GEOMETRIES) {
                double[][] a = run(one, DType.FLOAT32, g, false), b = run(three, DType.FLOAT32, g, false);
                for (int k = 0; k < 4; k++) {
                    CpuTesting.assertExact(window(g) + " output " + k + ", 1 thread against 3", a[k], b[k]);
                }
            }
        }
    }

    /**
     * A training-like loop of the CNN's second layer: forward and backward, 300 times, with fresh tensors in each
     * step's scope. Buffers and the heap after a collection (the backend's platform figure) must not grow: the
     * per-image scratch comes from workspaces that are reused, and the pool hands the same blocks back.
     */
    @Test
    void memoryStaysFlatOverManySteps() {
        int[] g = {16, 32, 14, 14, 64, 3, 1, 1, 1};
        try (CpuBackend be = CpuTesting.backend(true, 2)) {
            CpuTesting.assertMemoryFlat(be, steps -> loop(be, g, steps));
        }
    }

    private static void loop(Backend be, int[] g, int steps) {
        Window2d w = window(g);
        int outs = g[4];
        try (Scope outer = Scope.open()) {
            Tensor weight = Tensor.full(be, DType.FLOAT32, 0.01, outs, w.channels(), w.kernelH(), w.kernelW());
            Tensor bias = Tensor.zeros(be, DType.FLOAT32, outs);
            for (int s = 0; s < steps; s++) {
                try (Scope scope = Scope.open()) {
                    Tensor x = Tensor.full(be, DType.FLOAT32, s % 7, w.n(), w.channels(), w.height(), w.width());
                    Tensor y = Tensor.empty(be, DType.FLOAT32, w.n(), outs, w.outH(), w.outW());
                    Convolution.conv2d(w, x, weight, bias, y);
                    Tensor dx = Tensor.empty(be, DType.FLOAT32, w.n(), w.channels(), w.height(), w.width());
                    Tensor dw = Tensor.empty(be, DType.FLOAT32, outs, w.channels(), w.kernelH(), w.kernelW());
                    Tensor db = Tensor.empty(be, DType.FLOAT32, outs);
                    Convolution.conv2dBackward(w, x, weight, y, dx, dw, db);
                }
            }
        }
    }
}
