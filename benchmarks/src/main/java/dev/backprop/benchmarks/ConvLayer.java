package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Window2d;

import java.util.Locale;

/**
 * One convolution layer of a benchmark: its geometry, output channels and whether its backward pass computes the
 * input's gradient (the first layer of a network does not), by name: {@code conv1} and {@code conv2} are the
 * reference CNN's layers at batch 128 ({@code [128,1,28,28] -> 32} and {@code [128,32,14,14] -> 64}, 3x3, padding
 * 1); {@code N,C,H,W,O,K,S,P} any other (square kernel K, stride S, padding P, input gradient computed).
 *
 * @param name    the spec it was parsed from
 * @param window  the geometry
 * @param outs    output channels
 * @param inputGradient whether backward computes {@code dx}
 */
public record ConvLayer(String name, Window2d window, int outs, boolean inputGradient) {
    /** Parses {@code conv1}, {@code conv2} or {@code N,C,H,W,O,K,S,P}. */
    public static ConvLayer parse(String spec) {
        switch (spec) {
            case "conv1":
                return new ConvLayer(spec, Window2d.of(128, 1, 28, 28, 3, 3, 1, 1, 1, 1), 32, false);
            case "conv2":
                return new ConvLayer(spec, Window2d.of(128, 32, 14, 14, 3, 3, 1, 1, 1, 1), 64, true);
            default:
                String[] f = spec.split(",");
                if (f.length != 8) {
                    throw new IllegalArgumentException("layer '" + spec
                            + "': expected conv1, conv2 or N,C,H,W,O,K,S,P");
                }
                int[] v = new int[8];
                for (int i = 0; i < 8; i++) {
                    v[i] = Integer.parseInt(f[i].trim());
                }
                return new ConvLayer(spec, Window2d.of(v[0], v[1], v[2], v[3], v[5], v[5], v[6], v[6], v[7], v[7]),
                        v[4], true);
        }
    }

    /** Multiply-adds times 2 of the forward pass: {@code 2·O·P·n·outH·outW}. */
    public double forwardFlops() {
        return 2.0 * outs * window.patchSize() * window.columns();
    }

    /** Of the backward pass: the weight gradient, plus the input gradient when computed. */
    public double backwardFlops() {
        return forwardFlops() * (inputGradient ? 2 : 1);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %s -> %d", name, window, outs);
    }

    /** Seeded operands and outputs of this layer on one backend, for timing calls. */
    public final class Operands implements AutoCloseable {
        private final Backend be;
        private final Buffer x, weight, bias, y, dy, dx, dweight, dbias;

        public Operands(Backend be, long seed) {
            this.be = be;
            Window2d w = window;
            long outputs = (long) outs * w.columns();
            x = BenchData.uploadRandom(be, w.inputSize(), seed);
            weight = BenchData.uploadRandom(be, (long) outs * w.patchSize(), seed + 1, 0.1f);
            bias = BenchData.uploadRandom(be, outs, seed + 2);
            dy = BenchData.uploadRandom(be, outputs, seed + 3);
            y = BenchData.uploadRandom(be, outputs, seed + 4);
            dx = BenchData.uploadRandom(be, w.inputSize(), seed + 5);
            dweight = BenchData.uploadRandom(be, (long) outs * w.patchSize(), seed + 6);
            dbias = BenchData.uploadRandom(be, outs, seed + 7);
        }

        /** The forward pass, bias included, and a wait for the device. */
        public void forward() {
            be.conv2d(window, outs, x, 0, weight, 0, bias, 0, y, 0);
            be.synchronize();
        }

        /** The backward pass (weight, bias and, if the layer wants it, input gradients) and a wait. */
        public void backward() {
            be.conv2dBackward(window, outs, x, 0, weight, 0, dy, 0, inputGradient ? dx : null, 0, dweight, 0, dbias,
                    0);
            be.synchronize();
        }

        @Override
        public void close() {
            for (Buffer b : new Buffer[] {x, weight, bias, y, dy, dx, dweight, dbias}) {
                be.release(b);
            }
        }
    }

    /**
     * The GEMMs of the SPI's default convolution for this layer without its im2col and layout copies, on seeded
     * operands: forward {@code [O, P]·[P, Q]}; backward {@code [O, Q]·[Q, P]ᵀ} (weight gradient) and, when the
     * layer computes it, {@code [P, O]ᵀ·[O, Q]} (input gradient), with {@code Q = n·outH·outW}.
     */
    public final class Products implements AutoCloseable {
        private final Backend be;
        private final Buffer weight, cols, out, dweight;

        public Products(Backend be, long seed) {
            this.be = be;
            long p = window.patchSize(), q = window.columns();
            weight = BenchData.uploadRandom(be, outs * p, seed);
            cols = BenchData.uploadRandom(be, p * q, seed + 1);
            out = BenchData.uploadRandom(be, outs * q, seed + 2);
            dweight = be.allocate(dev.backprop.backend.DType.FLOAT32, outs * p);
        }

        /** The forward product and a wait. */
        public void forward() {
            int p = window.patchSize(), q = window.columns();
            be.gemm(false, false, outs, q, p, 1, weight, 0, p, cols, 0, q, 0, out, 0, q, 1, 0, 0, 0);
            be.synchronize();
        }

        /** The backward products and a wait. */
        public void backward() {
            int p = window.patchSize(), q = window.columns();
            be.gemm(false, true, outs, p, q, 1, out, 0, q, cols, 0, q, 0, dweight, 0, p, 1, 0, 0, 0);
            if (inputGradient) {
                be.gemm(true, false, p, q, outs, 1, weight, 0, p, out, 0, q, 0, cols, 0, q, 1, 0, 0, 0);
            }
            be.synchronize();
        }

        @Override
        public void close() {
            for (Buffer b : new Buffer[] {weight, cols, out, dweight}) {
                be.release(b);
            }
        }
    }
}
