package dev.backprop.cpu;

import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.backprop.cpu.CpuTesting.assertClose;

/**
 * Softmax, log-softmax and the fused cross-entropy forward and backward against double arithmetic, out of place
 * and in place, with large logits (the max subtraction must keep exp finite), labels out of range (NaN loss, no
 * one-hot term) and row counts that get split over threads.
 */
class CpuSoftmaxTest {
    private static final int[][] SHAPES = {{1, 1}, {3, 17}, {257, 10}, {2, 3000}, {600, 129}};

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void softmaxAndLogSoftmax(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int[] s : SHAPES) {
                    int rows = s[0], cols = s[1], n = rows * cols;
                    double[] x = CpuTesting.random(rows + 31L * cols, n, -20, 20, dt);
                    x[0] = 1000; // overflows exp without the max subtraction
                    for (boolean log : new boolean[] {false, true}) {
                        double[] want = new double[n];
                        for (int r = 0; r < rows; r++) {
                            double m = Double.NEGATIVE_INFINITY, sum = 0;
                            for (int c = 0; c < cols; c++) {
                                m = Math.max(m, x[r * cols + c]);
                            }
                            for (int c = 0; c < cols; c++) {
                                sum += Math.exp(x[r * cols + c] - m);
                            }
                            for (int c = 0; c < cols; c++) {
                                double z = x[r * cols + c] - m;
                                want[r * cols + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
                            }
                        }
                        String what = (log ? "logSoftmax " : "softmax ") + dt + " " + rows + "x" + cols;
                        Buffer bx = CpuTesting.upload(b, dt, x), by = b.allocate(dt, n);
                        b.softmaxRows(log, rows, cols, bx, 0, by, 0);
                        assertClose(what, want, CpuTesting.download(b, by), CpuTesting.rel(dt));
                        b.softmaxRows(log, rows, cols, bx, 0, bx, 0);
                        assertClose(what + " in place", want, CpuTesting.download(b, bx), CpuTesting.rel(dt));
                        b.release(bx);
                        b.release(by);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void crossEntropyForwardAndBackward(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int[] s : SHAPES) {
                    for (boolean inPlace : new boolean[] {false, true}) {
                        crossEntropyCase(b, dt, s[0], s[1], inPlace);
                    }
                }
            }
        }
    }

    private static void crossEntropyCase(CpuBackend b, DType dt, int rows, int cols, boolean inPlace) {
        int n = rows * cols;
        double[] z = CpuTesting.random(rows * 3L + cols, n, -10, 10, dt);
        double[] labels = CpuTesting.random(rows + 5L, rows, -0.49, cols - 0.51, DType.INT32);
        if (rows > 2) {
            labels[1] = cols; // out of range: NaN loss, no one-hot term
            labels[2] = -1;
        }
        double[] g = CpuTesting.random(rows + 9L, rows, -1, 1, dt);
        double[] loss = new double[rows], probs = new double[n], grad = new double[n];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < cols; c++) {
                m = Math.max(m, z[r * cols + c]);
            }
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(z[r * cols + c] - m);
            }
            int l = (int) labels[r];
            loss[r] = l < 0 || l >= cols ? Double.NaN : m + Math.log(sum) - z[r * cols + l];
            for (int c = 0; c < cols; c++) {
                probs[r * cols + c] = Math.exp(z[r * cols + c] - m) / sum;
            }
        }
        Buffer bz = CpuTesting.upload(b, dt, z), bl = CpuTesting.upload(b, DType.INT32, labels);
        Buffer bloss = b.allocate(dt, rows), bp = inPlace ? bz : b.allocate(dt, n);
        Buffer bg = CpuTesting.upload(b, dt, g);
        b.softmaxCrossEntropy(rows, cols, bz, 0, bl, 0, bloss, 0, bp, 0);
        String what = "crossEntropy " + dt + " " + rows + "x" + cols + (inPlace ? " in place" : "");
        assertClose(what + " loss", loss, CpuTesting.download(b, bloss), CpuTesting.rel(dt));
        double[] gotProbs = CpuTesting.download(b, bp);
        assertClose(what + " probs", probs, gotProbs, CpuTesting.rel(dt));
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                grad[r * cols + c] = g[r] * (gotProbs[r * cols + c] - (c == (int) labels[r] ? 1 : 0));
            }
        }
        Buffer bd = inPlace ? bp : b.allocate(dt, n);
        b.softmaxCrossEntropyBackward(rows, cols, bp, 0, bl, 0, bg, 0, bd, 0);
        assertClose(what + " backward", grad, CpuTesting.download(b, bd), CpuTesting.rel(dt));
        for (Buffer x : new Buffer[] {bz, bl, bloss, bp, bg, bd}) {
            b.release(x);
        }
    }
}
