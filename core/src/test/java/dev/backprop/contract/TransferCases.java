package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Moving data: {@code upload}/{@code download} (raw SPI, offsets on both sides, guards around the range),
 * {@code copy} (device-side, at offsets, identical-range), {@code fill}, {@code transpose}, strided
 * read-back of block views and {@link Tensor#to} across backends. Every dtype; all exact.
 */
final class TransferCases {
    private TransferCases() {
    }

    static final int[] SIZES = {1, 3, 17, 255, 257, 1000, 100_003};

    static Stream<DynamicTest> uploadDownload(Oracle o) {
        return o.all().stream().map(dt -> dynamicTest("upload/download " + dt, () -> uploadDownloadCase(o, dt)));
    }

    private static void uploadDownloadCase(Oracle o, DType dt) {
        Backend be = o.backend();
        for (int n : SIZES) {
            String what = "upload/download " + dt + " n=" + n;
            double[] values = dt == DType.INT32 ? Inputs.anyInts(n, n) : Inputs.uniform(n, n, -1e3, 1e3, dt);
            Buffer buf = be.allocate(dt, n + 5L);
            try {
                be.fill(buf, 0, n + 5L, Oracle.SENTINEL);
                double[] host = new double[n + 4];
                Arrays.fill(host, 99);
                System.arraycopy(values, 0, host, 2, n);
                upload(be, dt, host, 2, buf, 3, n);
                double[] expect = new double[n + 5];
                Arrays.fill(expect, Oracle.SENTINEL);
                System.arraycopy(values, 0, expect, 3, n);
                Tolerance.exact(what + " whole buffer", expect, download(be, dt, buf, 0, n + 5, 0, n + 5));
                double[] part = download(be, dt, buf, 4, n - 1, 1, n + 2);
                double[] partExpect = new double[n + 2];
                System.arraycopy(values, 1, partExpect, 1, n - 1);
                Tolerance.exact(what + " partial range into a host offset", partExpect, part);
            } finally {
                be.release(buf);
            }
        }
    }

    private static void upload(Backend be, DType dt, double[] host, int srcOff, Buffer dst, long dstOff, int len) {
        switch (dt) {
            case FLOAT32 -> {
                float[] f = new float[host.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) host[i];
                }
                be.upload(f, srcOff, dst, dstOff, len);
            }
            case FLOAT64 -> be.upload(host.clone(), srcOff, dst, dstOff, len);
            case INT32 -> be.upload(Arrays.stream(host).mapToInt(v -> (int) v).toArray(), srcOff, dst, dstOff, len);
        }
    }

    /**
     * Downloads {@code len} elements from {@code srcOff} into a zeroed host array of {@code hostLen} at {@code dstOff}.
     */
    private static double[] download(Backend be, DType dt, Buffer src, long srcOff, int len, int dstOff, int hostLen) {
        double[] out = new double[hostLen];
        switch (dt) {
            case FLOAT32 -> {
                float[] f = new float[hostLen];
                be.download(src, srcOff, f, dstOff, len);
                for (int i = 0; i < hostLen; i++) {
                    out[i] = f[i];
                }
            }
            case FLOAT64 -> be.download(src, srcOff, out, dstOff, len);
            case INT32 -> {
                int[] v = new int[hostLen];
                be.download(src, srcOff, v, dstOff, len);
                for (int i = 0; i < hostLen; i++) {
                    out[i] = v[i];
                }
            }
        }
        return out;
    }

    static Stream<DynamicTest> copy(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.all()) {
            tests.add(dynamicTest("copy " + dt, () -> copyCase(o, dt, false)));
            tests.add(dynamicTest("copy " + dt + " identical range", () -> copyCase(o, dt, true)));
            tests.add(dynamicTest("copy " + dt + " Tensor.to across backends", () -> crossBackendCase(o, dt)));
        }
        return tests.stream();
    }

    private static double[] values(DType dt, long seed, int n) {
        return dt == DType.INT32 ? Inputs.anyInts(seed, n) : Inputs.uniform(seed, n, -5, 5, dt);
    }

    private static void copyCase(Oracle o, DType dt, boolean same) {
        for (int s = 0; s < SIZES.length; s++) {
            int n = SIZES[s];
            String what = "copy " + dt + " n=" + n + (same ? " identical range" : "");
            double[] v = values(dt, 7L * n, n);
            try (Scope scope = Scope.open()) {
                Oracle.Placed src = o.placed(dt, v, s % 3, n);
                Oracle.Placed dst = same ? src : o.output(dt, (s + 1) % 3, n);
                Elementwise.copy(src.view(), dst.view());
                Tolerance.exact(what, v, dst.read(what));
                Tolerance.exact(what + " (source intact)", v, src.read(what + " source"));
                Tolerance.exact(what + " Tensor.copy()", v, src.view().copy().toDoubles());
            }
        }
    }

    private static void crossBackendCase(Oracle o, DType dt) {
        double[] v = values(dt, 5, 257 * 3);
        try (Scope scope = Scope.open()) {
            Tensor onRef = Oracle.put(o.reference(), dt, v, 257, 3);
            Tensor there = onRef.to(o.backend());
            assertEquals(o.backend(), there.backend(), "Tensor.to: result lives on the target backend");
            assertEquals(onRef.shape(), there.shape(), "Tensor.to keeps the shape");
            Tensor back = there.block(1, 1, 200, 2).to(o.reference());
            double[] expect = new double[400];
            for (int r = 0; r < 200; r++) {
                expect[2 * r] = v[(r + 1) * 3 + 1];
                expect[2 * r + 1] = v[(r + 1) * 3 + 2];
            }
            Tolerance.exact("Tensor.to " + dt + " of a block view", expect, back.toDoubles());
            Tolerance.exact("Tensor.to " + dt + " whole", v, there.toDoubles());
        }
    }

    static Stream<DynamicTest> fill(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.all()) {
            double[] values = dt == DType.INT32 ? new double[] {0, -7, 123_456_789} : new double[] {0, -2.5, 0.1, 1e30};
            for (double value : values) {
                tests.add(dynamicTest("fill " + dt + " " + value, () -> fillCase(o, dt, value)));
            }
        }
        return tests.stream();
    }

    private static void fillCase(Oracle o, DType dt, double value) {
        for (int s = 0; s < SIZES.length; s++) {
            int n = SIZES[s];
            String what = "fill " + dt + " n=" + n + " value=" + value;
            try (Scope scope = Scope.open()) {
                Oracle.Placed t = o.output(dt, s % 3, n);
                Elementwise.fill(t.view(), value);
                double[] expect = new double[n];
                Arrays.fill(expect, Inputs.round(value, dt));
                Tolerance.exact(what, expect, t.read(what));
                Tolerance.exact(what + " (Tensor.full)", expect, Tensor.full(o.backend(), dt, value, n).toDoubles());
            }
        }
    }

    /** {rows, cols}. */
    private static final int[][] TRANSPOSE = {{1, 1}, {1, 17}, {3, 17}, {1000, 3}, {257, 255}, {17, 1000}};

    static Stream<DynamicTest> transpose(Oracle o) {
        return o.all().stream().map(dt -> dynamicTest("transpose " + dt, () -> transposeCase(o, dt)));
    }

    private static void transposeCase(Oracle o, DType dt) {
        for (int s = 0; s < TRANSPOSE.length; s++) {
            int rows = TRANSPOSE[s][0], cols = TRANSPOSE[s][1];
            String what = "transpose " + dt + " [" + rows + ", " + cols + "]";
            double[] v = values(dt, 3L * s, rows * cols);
            try (Scope scope = Scope.open()) {
                Oracle.Placed x = o.placed(dt, v, s % 3, rows, cols);
                Oracle.Placed out = o.output(dt, (s + 1) % 3, cols, rows);
                Elementwise.transpose(x.view(), out.view());
                double[] expect = new double[v.length];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        expect[c * rows + r] = v[r * cols + c];
                    }
                }
                Tolerance.exact(what, expect, out.read(what));
            }
        }
    }

    /** {srcRows, cols, rows}: single elements, odd widths, a batch of 130 from 1000, a 784-wide row (an image). */
    private static final int[][] GATHER = {{1, 1, 1}, {5, 3, 9}, {1000, 17, 130}, {300, 784, 128}, {7, 1, 300}};

    static Stream<DynamicTest> gatherRows(Oracle o) {
        return o.all().stream().map(dt -> dynamicTest("gatherRows " + dt, () -> gatherRowsCase(o, dt)));
    }

    /**
     * Random indices with repeats, every row of the source at least once where the batch allows, and out-of-range
     * indices (-1, srcRows, the int extremes) that must give zero rows.
     */
    private static void gatherRowsCase(Oracle o, DType dt) {
        for (int s = 0; s < GATHER.length; s++) {
            int srcRows = GATHER[s][0], cols = GATHER[s][1], rows = GATHER[s][2];
            String what = "gatherRows " + dt + " " + rows + " rows of [" + srcRows + ", " + cols + "]";
            double[] v = values(dt, 5L * s, srcRows * cols);
            java.util.Random rnd = new java.util.Random(s);
            double[] idx = new double[rows];
            int[] outside = {-1, srcRows, Integer.MIN_VALUE, Integer.MAX_VALUE};
            for (int r = 0; r < rows; r++) {
                idx[r] = r % 11 == 5 ? outside[(r / 11) % outside.length] : r < srcRows ? r : rnd.nextInt(srcRows);
            }
            try (Scope scope = Scope.open()) {
                Oracle.Placed x = o.placed(dt, v, s % 3, srcRows, cols);
                Oracle.Placed ix = o.placed(DType.INT32, idx, (s + 2) % 3, rows);
                Oracle.Placed out = o.output(dt, (s + 1) % 3, rows, cols);
                Elementwise.gatherRows(x.view(), ix.view(), out.view());
                double[] expect = new double[rows * cols];
                for (int r = 0; r < rows; r++) {
                    int i = (int) idx[r];
                    if (i >= 0 && i < srcRows) {
                        System.arraycopy(v, i * cols, expect, r * cols, cols);
                    }
                }
                Tolerance.exact(what, expect, out.read(what));
                Tolerance.exact(what + ": the source is unchanged", v, x.read(what));
            }
        }
    }
}
