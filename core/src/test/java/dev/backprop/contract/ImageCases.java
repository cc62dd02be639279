package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.tensor.Convolution;
import dev.backprop.tensor.Layout;
import dev.backprop.tensor.Pooling;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The image primitives on NCHW batches: {@code im2col}/{@code col2im}, {@code copyStrided} (through
 * {@link Layout#permute}), convolution forward and backward (the tested backend's im2col-and-GEMM against the
 * reference's direct six-fold sums), max pooling with its argmax (ties: the first maximum; NaN wins) and average
 * pooling with and without padding in the divisor. Windows cover 1x1 kernels, kernels as large as the padded input,
 * strides and dilations above 1, non-square everything, a single image and batches. Outputs sit at offsets inside
 * guarded buffers. Tolerances: the GEMM rule ({@code |err| ≤ 1e-5·Σ|terms|}) for sums, exact for selections and
 * copies.
 */
final class ImageCases {
    private ImageCases() {
    }

    /** Geometries: {n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, outChannels}. */
    static final int[][] CONVS = {
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},
            {2, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 3},
            {3, 3, 7, 6, 3, 2, 2, 1, 0, 1, 1, 1, 4},
            {1, 2, 9, 9, 3, 3, 2, 2, 2, 2, 2, 2, 2},
            {2, 2, 3, 3, 5, 5, 1, 1, 2, 2, 1, 1, 2},
            {3, 4, 6, 17, 1, 1, 1, 3, 0, 0, 1, 1, 5},
            {2, 3, 17, 5, 2, 3, 3, 2, 1, 0, 2, 1, 1},
            {4, 16, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 32},
    };

    /** Pooling geometries: {n, c, h, w, kh, kw, sh, sw, ph, pw}. */
    static final int[][] POOLS = {
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
            {2, 3, 6, 6, 2, 2, 2, 2, 0, 0},
            {2, 2, 7, 5, 3, 3, 2, 2, 1, 1},
            {3, 2, 6, 6, 3, 2, 1, 2, 1, 0},
            {1, 3, 17, 4, 4, 3, 3, 1, 2, 1},
            {8, 32, 28, 28, 2, 2, 2, 2, 0, 0},
    };

    static Window2d conv(int[] g) {
        return new Window2d(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    }

    static Window2d pool(int[] g) {
        return Window2d.of(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]);
    }

    static Stream<DynamicTest> im2col(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] g : CONVS) {
                Window2d w = conv(g);
                tests.add(dynamicTest("im2col " + dt + " " + w, () -> im2colCase(o, dt, w)));
            }
        }
        return tests.stream();
    }

    private static void im2colCase(Oracle o, DType dt, Window2d w) {
        double[] x = Inputs.uniform(w.hashCode(), w.inputSize(), -1, 1, dt);
        int p = w.patchSize(), q = w.columns();
        try (Scope scope = Scope.open()) {
            Tensor tx = o.actual(dt, x, w.n(), w.channels(), w.height(), w.width());
            Oracle.Placed cols = o.output(dt, 2, p, q);
            o.backend().im2col(w, tx.buffer(), tx.offset(), cols.view().buffer(), cols.view().offset());
            double[] got = cols.read("im2col " + w);
            Tensor rx = o.truth(dt, x, w.n(), w.channels(), w.height(), w.width());
            Tensor rc = Tensor.empty(o.reference(), DType.FLOAT64, p, q);
            o.reference().im2col(w, rx.buffer(), rx.offset(), rc.buffer(), rc.offset());
            Tolerance.exact("im2col " + dt + " " + w, rc.toDoubles(), got);
        }
    }

    static Stream<DynamicTest> col2im(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] g : CONVS) {
                Window2d w = conv(g);
                tests.add(dynamicTest("col2im " + dt + " " + w, () -> col2imCase(o, dt, w)));
            }
        }
        return tests.stream();
    }

    private static void col2imCase(Oracle o, DType dt, Window2d w) {
        int p = w.patchSize(), q = w.columns();
        double[] cols = Inputs.uniform(w.hashCode() + 1, p * q, -1, 1, dt);
        String what = "col2im " + dt + " " + w;
        try (Scope scope = Scope.open()) {
            Tensor tc = o.actual(dt, cols, p, q);
            Oracle.Placed dx = o.output(dt, 1, w.n(), w.channels(), w.height(), w.width());
            o.backend().col2im(w, tc.buffer(), tc.offset(), dx.view().buffer(), dx.view().offset());
            double[] got = dx.read(what);
            double[] want = referenceCol2im(o, w, cols);
            double[] terms = referenceCol2im(o, w, Inputs.abs(cols));
            Tolerance.bounded(what, dt, want, got, terms);
        }
    }

    private static double[] referenceCol2im(Oracle o, Window2d w, double[] cols) {
        Tensor rc = o.truth(DType.FLOAT64, cols, w.patchSize(), w.columns());
        Tensor rx = Tensor.empty(o.reference(), DType.FLOAT64, w.n(), w.channels(), w.height(), w.width());
        o.reference().col2im(w, rc.buffer(), rc.offset(), rx.buffer(), rx.offset());
        return rx.toDoubles();
    }

    static Stream<DynamicTest> copyStrided(Oracle o) {
        int[][] shapes = {{7}, {3, 17}, {2, 3, 5}, {2, 3, 4, 5}, {1, 1, 1, 1}, {4, 1, 3, 2}};
        int[][][] perms = {{{0}}, {{1, 0}}, {{2, 0, 1}, {1, 0, 2}}, {{1, 0, 2, 3}, {0, 2, 3, 1}, {3, 2, 1, 0}},
                {{3, 1, 2, 0}}, {{1, 3, 0, 2}}};
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.all()) {
            for (int s = 0; s < shapes.length; s++) {
                for (int[] perm : perms[s]) {
                    int[] shape = shapes[s];
                    String what = "copyStrided " + dt + " " + java.util.Arrays.toString(shape) + " permuted "
                            + java.util.Arrays.toString(perm);
                    tests.add(dynamicTest(what, () -> permuteCase(o, dt, shape, perm, what)));
                }
            }
        }
        return tests.stream();
    }

    private static void permuteCase(Oracle o, DType dt, int[] shape, int[] perm, String what) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        double[] x = dt == DType.INT32 ? Inputs.anyInts(n, n) : Inputs.uniform(n, n, -9, 9, dt);
        try (Scope scope = Scope.open()) {
            Oracle.Placed px = o.placed(dt, x, 3, shape);
            double[] got = Layout.permute(px.view(), perm).toDoubles();
            double[] want = Layout.permute(o.truth(dt, x, shape), perm).toDoubles();
            Tolerance.exact(what, want, got);
        }
    }

    static Stream<DynamicTest> conv2d(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int i = 0; i < CONVS.length; i++) {
                int[] g = CONVS[i];
                boolean bias = i % 3 != 2;
                tests.add(dynamicTest("conv2d " + dt + " " + conv(g) + " -> " + g[12] + (bias ? "" : " no bias"),
                        () -> convForward(o, dt, conv(g), g[12], bias)));
            }
        }
        return tests.stream();
    }

    private static void convForward(Oracle o, DType dt, Window2d w, int outs, boolean bias) {
        long seed = 31L * w.hashCode() + outs;
        double[] x = Inputs.uniform(seed, w.inputSize(), -1, 1, dt);
        double[] wt = Inputs.uniform(seed + 1, outs * w.patchSize(), -1, 1, dt);
        double[] b = bias ? Inputs.uniform(seed + 2, outs, -1, 1, dt) : null;
        String what = "conv2d " + dt + " " + w + " -> " + outs;
        int[] xd = {w.n(), w.channels(), w.height(), w.width()};
        int[] wd = {outs, w.channels(), w.kernelH(), w.kernelW()};
        try (Scope scope = Scope.open()) {
            Oracle.Placed px = o.placed(dt, x, 1, xd);
            Oracle.Placed pw = o.placed(dt, wt, 2, wd);
            Tensor tb = bias ? o.placed(dt, b, 1, outs).view() : null;
            Oracle.Placed y = o.output(dt, 3, w.n(), outs, w.outH(), w.outW());
            Convolution.conv2d(w, px.view(), pw.view(), tb, y.view());
            double[] got = y.read(what);
            double[] want = referenceConv(o, w, x, wt, b, xd, wd);
            double[] terms = referenceConv(o, w, Inputs.abs(x), Inputs.abs(wt), b == null ? null : Inputs.abs(b),
                    xd, wd);
            Tolerance.bounded(what, dt, want, got, terms);
        }
    }

    private static double[] referenceConv(Oracle o, Window2d w, double[] x, double[] wt, double[] b, int[] xd,
                                          int[] wd) {
        Tensor rx = o.truth(DType.FLOAT64, x, xd), rw = o.truth(DType.FLOAT64, wt, wd);
        Tensor rb = b == null ? null : o.truth(DType.FLOAT64, b, wd[0]);
        Tensor ry = Tensor.empty(o.reference(), DType.FLOAT64, w.n(), wd[0], w.outH(), w.outW());
        Convolution.conv2d(w, rx, rw, rb, ry);
        return ry.toDoubles();
    }

    static Stream<DynamicTest> conv2dBackward(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int i = 0; i < CONVS.length; i++) {
                int[] g = CONVS[i];
                int mask = i % 4 == 3 ? 0b011 : 0b111; // some cases skip dx: outputs are independent
                tests.add(dynamicTest("conv2dBackward " + dt + " " + conv(g) + " -> " + g[12]
                        + ((mask & 1) != 0 ? " dx" : "") + " dweight dbias", () -> convBackward(o, dt, conv(g), g[12],
                        mask)));
            }
            Window2d w = conv(CONVS[2]);
            tests.add(dynamicTest("conv2dBackward " + dt + " dx only", () -> convBackward(o, dt, w, 4, 0b001)));
            tests.add(dynamicTest("conv2dBackward " + dt + " empty batch", () -> convBackward(o, dt, w.withBatch(0), 4,
                    0b111)));
        }
        return tests.stream();
    }

    /** {@code mask}: bit 0 dx, bit 1 dweight, bit 2 dbias. */
    private static void convBackward(Oracle o, DType dt, Window2d w, int outs, int mask) {
        long seed = 17L * w.hashCode() + outs;
        int ydSize = w.n() * outs * w.outPlane();
        double[] x = Inputs.uniform(seed, w.inputSize(), -1, 1, dt);
        double[] wt = Inputs.uniform(seed + 1, outs * w.patchSize(), -1, 1, dt);
        double[] dy = Inputs.uniform(seed + 2, ydSize, -1, 1, dt);
        int[] xd = {w.n(), w.channels(), w.height(), w.width()};
        int[] wd = {outs, w.channels(), w.kernelH(), w.kernelW()};
        int[] yd = {w.n(), outs, w.outH(), w.outW()};
        String what = "conv2dBackward " + dt + " " + w + " -> " + outs;
        try (Scope scope = Scope.open()) {
            Tensor tx = o.placed(dt, x, 1, xd).view(), tw = o.placed(dt, wt, 2, wd).view();
            Tensor tdy = o.placed(dt, dy, 3, yd).view();
            Oracle.Placed dx = (mask & 1) != 0 ? o.output(dt, 1, xd) : null;
            Oracle.Placed dw = (mask & 2) != 0 ? o.output(dt, 2, wd) : null;
            Oracle.Placed db = (mask & 4) != 0 ? o.output(dt, 3, outs) : null;
            Convolution.conv2dBackward(w, (mask & 2) != 0 ? tx : null, tw, tdy, view(dx), view(dw), view(db));

            Tensor rx = o.truth(DType.FLOAT64, x, xd), rw = o.truth(DType.FLOAT64, wt, wd);
            Tensor rdy = o.truth(DType.FLOAT64, dy, yd);
            Tensor ax = o.truth(DType.FLOAT64, Inputs.abs(x), xd), aw = o.truth(DType.FLOAT64, Inputs.abs(wt), wd);
            Tensor ady = o.truth(DType.FLOAT64, Inputs.abs(dy), yd);
            Tensor[] want = grads(o, xd, wd, outs), terms = grads(o, xd, wd, outs);
            Convolution.conv2dBackward(w, rx, rw, rdy, want[0], want[1], want[2]);
            Convolution.conv2dBackward(w, ax, aw, ady, terms[0], terms[1], terms[2]);
            Oracle.Placed[] outputs = {dx, dw, db};
            String[] names = {" dx", " dweight", " dbias"};
            for (int k = 0; k < 3; k++) {
                if (outputs[k] != null) {
                    Tolerance.bounded(what + names[k], dt, want[k].toDoubles(), outputs[k].read(what + names[k]),
                            terms[k].toDoubles());
                }
            }
        }
    }

    private static Tensor view(Oracle.Placed p) {
        return p == null ? null : p.view();
    }

    private static Tensor[] grads(Oracle o, int[] xd, int[] wd, int outs) {
        return new Tensor[] {Tensor.empty(o.reference(), DType.FLOAT64, xd),
                Tensor.empty(o.reference(), DType.FLOAT64, wd), Tensor.empty(o.reference(), DType.FLOAT64, outs)};
    }

    static Stream<DynamicTest> maxPool2d(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] g : POOLS) {
                Window2d w = pool(g);
                tests.add(dynamicTest("maxPool2d " + dt + " " + w, () -> maxCase(o, dt, w, 0)));
                tests.add(dynamicTest("maxPool2d " + dt + " " + w + " ties", () -> maxCase(o, dt, w, 1)));
            }
            tests.add(dynamicTest("maxPool2d " + dt + " NaN and infinities", () -> maxCase(o, dt, pool(POOLS[2]), 2)));
            tests.add(dynamicTest("maxPool2d " + dt + " all negative", () -> maxCase(o, dt, pool(POOLS[3]), 3)));
        }
        return tests.stream();
    }

    /** kind 0: uniform; 1: few distinct values (ties); 2: NaN and infinities sprinkled; 3: all below -1. */
    private static double[] poolInput(DType dt, Window2d w, int kind) {
        long seed = w.hashCode() + kind;
        int n = w.inputSize();
        return switch (kind) {
            case 1 -> Inputs.choose(seed, n, dt, -1, 0, 2, 2, 2);
            case 2 -> Inputs.sprinkle(Inputs.sprinkle(Inputs.sprinkle(Inputs.uniform(seed, n, -1, 1, dt), 3, 11,
                    Double.NaN), 5, 7, Double.POSITIVE_INFINITY), 1, 13, Double.NEGATIVE_INFINITY);
            case 3 -> Inputs.uniform(seed, n, -9, -1, dt);
            default -> Inputs.uniform(seed, n, -1, 1, dt);
        };
    }

    private static void maxCase(Oracle o, DType dt, Window2d w, int kind) {
        double[] x = poolInput(dt, w, kind);
        int[] xd = {w.n(), w.channels(), w.height(), w.width()};
        int[] yd = {w.n(), w.channels(), w.outH(), w.outW()};
        String what = "maxPool2d " + dt + " " + w + " input kind " + kind;
        try (Scope scope = Scope.open()) {
            Tensor tx = o.placed(dt, x, 1, xd).view();
            Oracle.Placed y = o.output(dt, 2, yd), arg = o.output(DType.INT32, 1, yd);
            Pooling.maxPool2d(w, tx, y.view(), arg.view());
            Tensor ry = Tensor.empty(o.reference(), DType.FLOAT64, yd),
                    ra = Tensor.empty(o.reference(), DType.INT32, yd);
            Pooling.maxPool2d(w, o.truth(DType.FLOAT64, x, xd), ry, ra);
            Tolerance.exact(what + " values", ry.toDoubles(), y.read(what));
            double[] argmax = arg.read(what + " argmax");
            Tolerance.exact(what + " argmax", ra.toDoubles(), argmax);

            double[] dy = Inputs.uniform(w.hashCode() + 5L, w.n() * w.channels() * w.outPlane(), -1, 1, dt);
            Oracle.Placed dx = o.output(dt, 3, xd);
            Pooling.maxPool2dBackward(w, o.placed(dt, dy, 1, yd).view(), arg.view(), dx.view());
            Tensor rdx = Tensor.empty(o.reference(), DType.FLOAT64, xd),
                    adx = Tensor.empty(o.reference(), DType.FLOAT64, xd);
            Pooling.maxPool2dBackward(w, o.truth(DType.FLOAT64, dy, yd), ra, rdx);
            Pooling.maxPool2dBackward(w, o.truth(DType.FLOAT64, Inputs.abs(dy), yd), ra, adx);
            Tolerance.bounded(what + " backward", dt, rdx.toDoubles(), dx.read(what + " backward"), adx.toDoubles());
        }
    }

    static Stream<DynamicTest> avgPool2d(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int[] g : POOLS) {
                Window2d w = pool(g);
                for (boolean include : new boolean[] {true, false}) {
                    tests.add(dynamicTest("avgPool2d " + dt + " " + w + (include ? "" : " padding excluded"),
                            () -> avgCase(o, dt, w, include)));
                }
            }
        }
        return tests.stream();
    }

    private static void avgCase(Oracle o, DType dt, Window2d w, boolean include) {
        double[] x = poolInput(dt, w, 0);
        int[] xd = {w.n(), w.channels(), w.height(), w.width()};
        int[] yd = {w.n(), w.channels(), w.outH(), w.outW()};
        String what = "avgPool2d " + dt + " " + w + (include ? "" : " padding excluded");
        try (Scope scope = Scope.open()) {
            Oracle.Placed y = o.output(dt, 2, yd);
            Pooling.avgPool2d(w, include, o.placed(dt, x, 1, xd).view(), y.view());
            Tensor ry = Tensor.empty(o.reference(), DType.FLOAT64, yd),
                    ay = Tensor.empty(o.reference(), DType.FLOAT64, yd);
            Pooling.avgPool2d(w, include, o.truth(DType.FLOAT64, x, xd), ry);
            Pooling.avgPool2d(w, include, o.truth(DType.FLOAT64, Inputs.abs(x), xd), ay);
            Tolerance.bounded(what, dt, ry.toDoubles(), y.read(what), ay.toDoubles());

            double[] dy = Inputs.uniform(w.hashCode() + 9L, w.n() * w.channels() * w.outPlane(), -1, 1, dt);
            Oracle.Placed dx = o.output(dt, 3, xd);
            Pooling.avgPool2dBackward(w, include, o.placed(dt, dy, 1, yd).view(), dx.view());
            Tensor rdx = Tensor.empty(o.reference(), DType.FLOAT64, xd),
                    adx = Tensor.empty(o.reference(), DType.FLOAT64, xd);
            Pooling.avgPool2dBackward(w, include, o.truth(DType.FLOAT64, dy, yd), rdx);
            Pooling.avgPool2dBackward(w, include, o.truth(DType.FLOAT64, Inputs.abs(dy), yd), adx);
            Tolerance.bounded(what + " backward", dt, rdx.toDoubles(), dx.read(what + " backward"), adx.toDoubles());
        }
    }
}
