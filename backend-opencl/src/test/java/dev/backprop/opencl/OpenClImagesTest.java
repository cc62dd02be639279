package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.contract.Inputs;
import dev.backprop.contract.Tolerance;
import dev.backprop.random.Philox;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OpenCL specifics of the image and normalization kernels ({@code images.cl}, {@code normalization.cl}): every
 * kernel is built per dtype when the backend is created (INT32 gets only the strided copy); the backward gathers add
 * in the reference's order, so in FLOAT64 they equal it bit for bit on the reference CNN's pooling and convolution
 * shapes; dropout's 64-bit block counter carries from its low word into its high word as Philox's does; and the
 * per-channel walk of batch norm (LS work-items stepping through {@code [n, c, s]}) covers channels longer and
 * shorter than a group, and {@code [N, C]} batches larger than one.
 */
class OpenClImagesTest extends OpenClBackendTest {
    private final Backend ref = new ReferenceBackend();

    @AfterAll
    void closeReference() {
        ref.close();
    }

    @Test
    void everyKernelIsBuiltAtCreationForEachDtype() {
        OpenClRuntime rt = be.runtime();
        int programs = rt.programs.programCount();
        String[] images = {"copy_strided", "im2col", "col2im", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
                "avg_pool2d_backward"};
        String[] normalization = {"batch_norm_stats", "batch_norm_forward", "batch_norm_backward", "dropout"};
        for (DType dt : DType.values()) {
            if (dt == DType.FLOAT64 && !be.capabilities().float64()) {
                continue;
            }
            String options = OpenClPrograms.typeOptions(dt);
            rt.programs.kernel("images.cl", options, "copy_strided");
            if (dt.isFloating()) {
                for (String k : images) {
                    rt.programs.kernel("images.cl", options, k);
                }
                for (String k : normalization) {
                    rt.programs.kernel("normalization.cl", options + " " + rt.reduceOptions(), k);
                }
            } else {
                BackendFailureException e = assertThrows(BackendFailureException.class,
                        () -> rt.programs.kernel("images.cl", options, "im2col"));
                assertTrue(e.getMessage().contains("CL_INVALID_KERNEL_NAME"), e.getMessage());
            }
        }
        assertEquals(programs, rt.programs.programCount(), "every image and normalization program existed already");
    }

    /**
     * The reference CNN's pool and convolution, a pool whose windows overlap so much that an input can be the argmax
     * of up to 25 outputs (so the order of its sum shows), and a strided, dilated, padded convolution.
     */
    private static final Window2d POOL = Window2d.of(4, 32, 28, 28, 2, 2, 2, 2, 0, 0);
    private static final Window2d OVERLAPPING = Window2d.of(2, 3, 9, 8, 5, 5, 1, 1, 2, 2);
    private static final Window2d CONV = Window2d.of(4, 32, 14, 14, 3, 3, 1, 1, 1, 1);
    private static final Window2d STRIDED = new Window2d(2, 3, 11, 9, 3, 2, 2, 3, 2, 1, 2, 1);

    @Test
    void col2imAddsInTheReferenceOrder() {
        for (Window2d w : new Window2d[] {CONV, STRIDED}) {
            double[] cols = Inputs.uniform(w.hashCode(), w.patchSize() * w.columns(), -1, 1, DType.FLOAT64);
            assertArrayEquals(run(ref, cols, w.inputSize(), (b, o) -> b[0].col2im(w, o[0], 0, o[1], 0)),
                    run(be, cols, w.inputSize(), (b, o) -> b[0].col2im(w, o[0], 0, o[1], 0)), "col2im " + w);
        }
    }

    @Test
    void poolingBackwardAddsInTheReferenceOrder() {
        for (Window2d w : new Window2d[] {POOL, OVERLAPPING}) {
            int outs = w.n() * w.channels() * w.outPlane();
            // ties, so the argmax rule decides which input gets each gradient, and a sparse maximum many windows share
            double[] x = Inputs.sprinkle(Inputs.choose(w.hashCode(), w.inputSize(), DType.FLOAT64, -1, 0, 2, 2), 3,
                    11, 5);
            double[] dy = Inputs.uniform(w.hashCode() + 1L, outs, -1, 1, DType.FLOAT64);
            double[] want = maxBackward(ref, w, x, dy), got = maxBackward(be, w, x, dy); // each its own argmax
            assertArrayEquals(want, got, "maxPool2dBackward " + w);
            for (boolean include : new boolean[] {true, false}) {
                assertArrayEquals(run(ref, dy, w.inputSize(), (b, o) -> b[0].avgPool2dBackward(w, include, o[0], 0,
                        o[1], 0)), run(be, dy, w.inputSize(), (b, o) -> b[0].avgPool2dBackward(w, include, o[0], 0,
                        o[1], 0)), "avgPool2dBackward " + w + " include padding " + include);
            }
        }
    }

    private static double[] maxBackward(Backend b, Window2d w, double[] x, double[] dy) {
        Buffer bx = b.allocate(DType.FLOAT64, x.length), by = b.allocate(DType.FLOAT64, dy.length);
        Buffer arg = b.allocate(DType.INT32, dy.length), bdy = b.allocate(DType.FLOAT64, dy.length);
        Buffer dx = b.allocate(DType.FLOAT64, x.length);
        try {
            b.upload(x, 0, bx, 0, x.length);
            b.upload(dy, 0, bdy, 0, dy.length);
            b.maxPool2d(w, bx, 0, by, 0, arg, 0);
            b.maxPool2dBackward(w, bdy, 0, arg, 0, dx, 0);
            double[] out = new double[x.length];
            b.download(dx, 0, out, 0, out.length);
            return out;
        } finally {
            for (Buffer buf : new Buffer[] {bx, by, arg, bdy, dx}) {
                b.release(buf);
            }
        }
    }

    /** Uploads {@code in} (FLOAT64), runs {@code op} on (input, output of {@code outSize}) and downloads the output. */
    private static double[] run(Backend b, double[] in, int outSize, BiConsumer<Backend[], Buffer[]> op) {
        Buffer src = b.allocate(DType.FLOAT64, in.length), dst = b.allocate(DType.FLOAT64, outSize);
        try {
            b.upload(in, 0, src, 0, in.length);
            op.accept(new Backend[] {b}, new Buffer[] {src, dst});
            double[] out = new double[outSize];
            b.download(dst, 0, out, 0, outSize);
            return out;
        } finally {
            b.release(src);
            b.release(dst);
        }
    }

    @Test
    void dropoutCounterCarriesIntoTheHighWord() {
        int n = 1001;
        long offset = (1L << 32) - 100; // blocks offset .. offset + 250 cross 2^32
        long seed = 0x8000_0001_7FFF_FFFFL;
        double p = 0.3;
        int[] words = new int[n];
        Philox.words(seed, offset, words, n);
        double[] x = Inputs.uniform(7, n, -3, 3, DType.FLOAT32);
        float[] xf = new float[n];
        for (int i = 0; i < n; i++) {
            xf[i] = (float) x[i];
        }
        double scale = 1 / (1 - p);
        float[] want = new float[n];
        for (int i = 0; i < n; i++) {
            want[i] = (words[i] >>> 8) >= Philox.threshold(p) ? xf[i] * (float) scale : 0f;
        }
        Buffer bx = be.allocate(DType.FLOAT32, n), by = be.allocate(DType.FLOAT32, n);
        try {
            be.upload(xf, 0, bx, 0, n);
            be.dropout(n, Philox.threshold(p), scale, seed, offset, bx, 0, by, 0);
            float[] got = new float[n];
            be.download(by, 0, got, 0, n);
            assertArrayEquals(want, got, "dropout across block 2^32");
        } finally {
            be.release(bx);
            be.release(by);
        }
    }

    @Test
    void batchNormWalksChannelsOfEveryLength() {
        int ls = be.runtime().reduceGroupSize;
        int[][] shapes = {{1000, 3, 1}, {3, 2, ls + 7}, {5, 4, ls / 2 + 1}, {2, 3, 2 * ls}, {1, 2, ls - 1}};
        for (int[] d : shapes) {
            int n = d[0], c = d[1], s = d[2], size = n * c * s;
            double[] x = Inputs.uniform(size, size, -2, 5, DType.FLOAT64);
            double[] dy = Inputs.uniform(size + 1L, size, -1, 1, DType.FLOAT64);
            double[] gamma = Inputs.uniform(c, c, 0.5, 1.5, DType.FLOAT64);
            double[][] want = batchNorm(ref, n, c, s, x, dy, gamma), got = batchNorm(be, n, c, s, x, dy, gamma);
            String[] names = {"mean", "var", "dx", "dgamma", "dbeta"};
            for (int k = 0; k < names.length; k++) {
                double[] terms = new double[want[k].length]; // sums of n*s terms below 10 in magnitude
                java.util.Arrays.fill(terms, (double) n * s * 10);
                Tolerance.bounded("batch norm " + names[k] + " " + java.util.Arrays.toString(d), DType.FLOAT64,
                        want[k], got[k], terms);
            }
        }
    }

    /** {mean, var, dx, dgamma, dbeta} of the statistics and the backward pass with batch statistics. */
    private static double[][] batchNorm(Backend b, int n, int c, int s, double[] x, double[] dy, double[] gamma) {
        Buffer bx = b.allocate(DType.FLOAT64, x.length), bdy = b.allocate(DType.FLOAT64, x.length);
        Buffer g = b.allocate(DType.FLOAT64, c), mean = b.allocate(DType.FLOAT64, c),
                var = b.allocate(DType.FLOAT64, c);
        Buffer dx = b.allocate(DType.FLOAT64, x.length), dg = b.allocate(DType.FLOAT64, c);
        Buffer db = b.allocate(DType.FLOAT64, c);
        try {
            b.upload(x, 0, bx, 0, x.length);
            b.upload(dy, 0, bdy, 0, dy.length);
            b.upload(gamma, 0, g, 0, c);
            b.batchNormStats(n, c, s, bx, 0, mean, 0, var, 0);
            b.batchNormBackward(n, c, s, 1e-5, true, bx, 0, bdy, 0, mean, 0, var, 0, g, 0, dx, 0, dg, 0, db, 0);
            Buffer[] outs = {mean, var, dx, dg, db};
            double[][] r = new double[outs.length][];
            for (int k = 0; k < outs.length; k++) {
                r[k] = new double[(int) outs[k].size()];
                b.download(outs[k], 0, r[k], 0, r[k].length);
            }
            return r;
        } finally {
            for (Buffer buf : new Buffer[] {bx, bdy, g, mean, var, dx, dg, db}) {
                b.release(buf);
            }
        }
    }
}
