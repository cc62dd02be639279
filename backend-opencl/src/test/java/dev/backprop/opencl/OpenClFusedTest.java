package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.contract.Inputs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;

import static dev.backprop.opencl.FusedRuns.assertSameBits;
import static dev.backprop.opencl.FusedRuns.padded;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused bias + activation kernels of {@code fused.cl} through the SPI: bit for bit the SPI's default (binary ADD
 * then the activation; the derivative's launches then {@code reduce(SUM, PER_COLUMN)}) on the same backend, for every
 * activation, in place and not, at offsets, on one row, odd widths, more rows than a group's slices and rows either
 * side of the ends of the column fold's rounds; a bad activation or dtype is refused before anything is written; and
 * the epilogues and update of a 784-64-10 MLP step take fewer launches.
 */
class OpenClFusedTest extends OpenClBackendTest {
    /** {rows, cols}: one element, one row, one column, odd widths past one group of columns, rows past its slices. */
    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {5, 1}, {3, 33}, {128, 64}, {129, 10}, {600, 17}};
    private static final double PAD = 7.25;

    @Test
    void biasActivationEqualsAddThenActivation() {
        for (DType dt : FusedRuns.floatingDtypes(be)) {
            for (UnaryOp act : Backend.FUSED_ACTIVATIONS) {
                for (int[] s : SHAPES) {
                    int rows = s[0], cols = s[1], n = rows * cols;
                    // NaN and exact zeros (z = -bias) among values either side of the activations' bends
                    double[] z = Inputs.sprinkle(Inputs.uniform(n, n, -6, 6, dt), 2, 11, Double.NaN);
                    double[] bias = Inputs.uniform(cols, cols, -1, 1, dt);
                    for (int i = 5; i < n; i += 13) {
                        z[i] = -bias[i % cols];
                    }
                    double[][] in = {padded(z, 3, n + 5, PAD), padded(bias, 2, cols + 3, PAD), new double[n + 9]};
                    String what = "biasActivation " + act + " " + rows + "x" + cols;
                    assertSameBits(what, be, dt, in, (b, x) -> b.biasActivation(act, rows, cols, x[0], 3, x[1], 2,
                            x[2], 5));
                    assertSameBits(what + " in place", be, dt, in, (b, x) -> b.biasActivation(act, rows, cols, x[0],
                            3, x[1], 2, x[0], 3));
                }
            }
        }
    }

    @Test
    void biasActivationBackwardEqualsDerivativeThenColumnSums() {
        for (DType dt : FusedRuns.floatingDtypes(be)) {
            for (UnaryOp act : Backend.FUSED_ACTIVATIONS) {
                for (int[] s : new int[][] {{0, 5}, {1, 1}, {1, 7}, {5, 1}, {3, 33}, {15, 20}, {17, 20}, {63, 17},
                        {65, 17}, {128, 64}, {129, 10}, {600, 17}, {1000, 3}}) {
                    int rows = s[0], cols = s[1], n = rows * cols;
                    double[] y = forward(act, Inputs.uniform(n + 1L, n, -5, 5, dt));
                    double[] g = Inputs.uniform(n + 2L, n, -1, 1, dt);
                    double[][] in = {padded(y, 1, n + 2, PAD), padded(g, 4, n + 4, PAD), new double[n + 3],
                            padded(new double[0], 0, cols + 6, PAD)};
                    String what = "biasActivationBackward " + act + " " + rows + "x" + cols;
                    assertSameBits(what, be, dt, in, (b, x) -> b.biasActivationBackward(act, rows, cols, x[0], 1,
                            x[1], 4, x[2], 2, x[3], 3));
                    assertSameBits(what + " in place", be, dt, in, (b, x) -> b.biasActivationBackward(act, rows,
                            cols, x[0], 1, x[1], 4, x[1], 4, x[3], 3));
                }
            }
        }
    }

    /** Outputs of {@code act} as a forward pass makes them (ReLU's zeros and a NaN included). */
    private static double[] forward(UnaryOp act, double[] x) {
        DoubleUnaryOperator f = switch (act) {
            case RELU -> v -> Double.isNaN(v) || v > 0 ? v : 0;
            case SIGMOID -> v -> 1 / (1 + Math.exp(-v));
            case TANH -> Math::tanh;
            default -> v -> v;
        };
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = f.applyAsDouble(i % 23 == 4 ? Double.NaN : x[i]);
        }
        return y;
    }

    @Test
    void badActivationOrDtypeIsRefusedBeforeAnythingIsWritten() {
        Buffer z = be.allocate(DType.FLOAT32, 6), bias = be.allocate(DType.FLOAT32, 3);
        Buffer zi = be.allocate(DType.INT32, 6), bi = be.allocate(DType.INT32, 3);
        try {
            be.fill(z, 0, 6, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.biasActivation(UnaryOp.EXP, 2, 3, z, 0, bias, 0, z, 0));
            assertTrue(e.getMessage().contains("EXP") && e.getMessage().contains("RELU"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> be.biasActivationBackward(UnaryOp.ABS, 2, 3, z, 0, z, 0, z, 0, bias, 0));
            assertTrue(e.getMessage().contains("ABS"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> be.biasActivation(UnaryOp.RELU, 2, 3, zi, 0, bi, 0, zi, 0));
            assertTrue(e.getMessage().contains("INT32"), e.getMessage());
            assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2}, FusedRuns.get(be, z));
        } finally {
            for (Buffer b : new Buffer[] {z, bias, zi, bi}) {
                be.release(b);
            }
        }
    }

    /**
     * A 784-64-10 MLP step at batch 128 (GEMMs, loss and transfers aside): both epilogues forward (ReLU, identity),
     * both backward with their bias gradients, and the SGD step with momentum of its four tensors.
     */
    @Test
    void mlpStepEpiloguesAndUpdateTakeFiveLaunches() {
        int batch = 128, in = 784, hidden = 64, out = 10;
        int[] lengths = {in * hidden, hidden, hidden * out, out};
        long unfused = mlpStepLaunches(FusedRuns.unfused(be), batch, hidden, out, lengths);
        long fused = mlpStepLaunches(be, batch, hidden, out, lengths);
        assertEquals(5, fused, "fused launches of the step's epilogues and update");
        assertTrue(unfused > fused, "unfused " + unfused + " launches, fused " + fused);
    }

    private long mlpStepLaunches(Backend b, int batch, int hidden, int out, int[] lengths) {
        List<Buffer> live = new ArrayList<>();
        try {
            Buffer h = alloc(b, live, batch * hidden), y = alloc(b, live, batch * out);
            Buffer[] p = new Buffer[4], g = new Buffer[4], v = new Buffer[4];
            for (int i = 0; i < 4; i++) {
                p[i] = alloc(b, live, lengths[i]);
                g[i] = alloc(b, live, lengths[i]);
                v[i] = alloc(b, live, lengths[i]);
            }
            be.synchronize();
            long before = be.kernelLaunches();
            b.biasActivation(UnaryOp.RELU, batch, hidden, h, 0, p[1], 0, h, 0);
            b.biasActivation(UnaryOp.IDENTITY, batch, out, y, 0, p[3], 0, y, 0);
            b.biasActivationBackward(UnaryOp.IDENTITY, batch, out, y, 0, y, 0, y, 0, g[3], 0);
            b.biasActivationBackward(UnaryOp.RELU, batch, hidden, h, 0, h, 0, h, 0, g[1], 0);
            List<Backend.SgdTensor> tensors = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tensors.add(new Backend.SgdTensor(lengths[i], p[i], 0, g[i], 0, v[i], 0));
            }
            b.sgdUpdateAll(tensors, 0.1, 0.9, 0, false);
            return be.kernelLaunches() - before;
        } finally {
            live.forEach(b::release);
        }
    }

    private static Buffer alloc(Backend b, List<Buffer> live, int n) {
        Buffer buf = b.allocate(DType.FLOAT32, n);
        live.add(buf);
        b.fill(buf, 0, n, 0.5);
        return buf;
    }
}
