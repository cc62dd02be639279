package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.EnumSet;
import java.util.Set;

import static dev.backprop.cpu.CpuTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static dev.backprop.cpu.CpuTesting.assertExact;

/**
 * Unary ops and their backward forms, binary ops under every broadcast combination, axpby and transpose,
 * against plain double arithmetic, in vector and scalar mode with 2 threads. Sizes include 1, odd lengths,
 * rows longer than the splat segment and ranges big enough to be split over threads.
 */
class CpuElementwiseTest {
    private static final int[] SIZES = {1, 3, 17, 257, 70_001};
    private static final Set<UnaryOp> EXACT = EnumSet.of(UnaryOp.IDENTITY, UnaryOp.NEG, UnaryOp.ABS, UnaryOp.RELU,
            UnaryOp.THRESHOLD, UnaryOp.CLAMP);
    private static final double LO = -1.0, HI = 1.5;

    private static double[] domain(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT -> new double[] {0.05, 5};
            case EXP -> new double[] {-20, 20};
            case POW -> new double[] {0.1, 3};
            default -> new double[] {-8, 8};
        };
    }

    private static double forward(UnaryOp op, double x) {
        return switch (op) {
            case IDENTITY -> x;
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case RELU -> x > 0 ? x : 0;
            case THRESHOLD -> x >= 0 ? 1 : 0;
            case CLAMP -> Math.min(Math.max(x, LO), HI);
            case POW -> Math.pow(x, 2.5);
        };
    }

    private static double derivative(UnaryOp op, double x) {
        return switch (op) {
            case IDENTITY -> 1;
            case NEG -> -1;
            case EXP -> Math.exp(x);
            case LOG -> 1 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case ABS -> Math.signum(x);
            case SIGMOID -> forward(op, x) * (1 - forward(op, x));
            case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            case RELU -> x > 0 ? 1 : 0;
            case THRESHOLD -> 0;
            case CLAMP -> x >= LO && x <= HI ? 1 : 0;
            case POW -> 2.5 * Math.pow(x, 1.5);
        };
    }

    /**
     * ReLU over ranges long enough to be read as four streams per thread (with the tail after the quarters), out
     * of place between offsets and in place, with -0, NaN and infinities among the values; exact.
     */
    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void longReluInQuartersOutOfPlaceAndInPlace(boolean vector) {
        int n = 4 * (int) CpuElementwise.PARALLEL_MIN + 4 * CpuElementwise.KERNEL_BLOCK + 1003;
        double[] x = CpuTesting.random(77, n + 3, -2, 2, DType.FLOAT32);
        x[3] = -0.0;
        x[3 + n / 4] = Double.NaN;
        x[3 + n / 2] = Double.NEGATIVE_INFINITY;
        x[3 + n - 1] = Double.POSITIVE_INFINITY;
        double[] want = new double[n];
        for (int i = 0; i < n; i++) {
            double v = (float) x[3 + i];
            want[i] = v <= 0 ? 0 : v;
        }
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend b = CpuTesting.backend(vector, threads)) {
                Buffer bx = CpuTesting.upload(b, DType.FLOAT32, x), by = b.allocate(DType.FLOAT32, n + 5);
                b.unary(UnaryOp.RELU, 0, 0, bx, 3, by, 5, n);
                float[] got = new float[n];
                b.download(by, 5, got, 0, n);
                b.unary(UnaryOp.RELU, 0, 0, bx, 3, bx, 3, n);
                float[] inPlace = new float[n];
                b.download(bx, 3, inPlace, 0, n);
                for (int i = 0; i < n; i++) {
                    String at = "relu at " + i + " of " + n + " (threads " + threads + ", x " + x[3 + i] + ")";
                    assertEquals(Float.floatToIntBits((float) want[i]), Float.floatToIntBits(got[i]), at);
                    assertEquals(Float.floatToIntBits((float) want[i]), Float.floatToIntBits(inPlace[i]), at);
                }
            }
        }
    }

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void unaryAndBackward(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (UnaryOp op : UnaryOp.values()) {
                    for (int n : SIZES) {
                        double[] d = domain(op);
                        double[] x = CpuTesting.random(n + op.ordinal(), n, d[0], d[1], dt);
                        double[] g = CpuTesting.random(n + 99, n, -2, 2, dt);
                        if (d[0] < 0) {
                            for (int i = 0; i < n; i += 7) {
                                x[i] = 0;
                            }
                            for (int i = 3; i < n; i += 11) {
                                x[i] = i % 2 == 0 ? LO : HI;
                            }
                        }
                        double[] want = new double[n], wantBack = new double[n];
                        for (int i = 0; i < n; i++) {
                            want[i] = round(forward(op, x[i]), dt);
                            wantBack[i] = round(derivative(op, x[i]) * g[i], dt);
                        }
                        String what = op + " " + dt + " n=" + n;
                        Buffer bx = CpuTesting.upload(b, dt, x), bg = CpuTesting.upload(b, dt, g);
                        Buffer by = b.allocate(dt, n);
                        b.unary(op, op == UnaryOp.POW ? 2.5 : LO, HI, bx, 0, by, 0, n);
                        check(what, op, dt, want, CpuTesting.download(b, by));
                        b.unaryBackward(op, op == UnaryOp.POW ? 2.5 : LO, HI, bx, 0, bg, 0, bg, 0, n);
                        check(what + " backward (dx=g)", op, dt, wantBack, CpuTesting.download(b, bg));
                        b.unary(op, op == UnaryOp.POW ? 2.5 : LO, HI, bx, 0, bx, 0, n);
                        check(what + " in place", op, dt, want, CpuTesting.download(b, bx));
                        b.release(bx);
                        b.release(bg);
                        b.release(by);
                    }
                }
            }
        }
    }

    private static void check(String what, UnaryOp op, DType dt, double[] want, double[] got) {
        if (EXACT.contains(op)) {
            assertExact(what, want, got);
        } else {
            assertClose(what, want, got, CpuTesting.rel(dt));
        }
    }

    private static double round(double v, DType dt) {
        return dt == DType.FLOAT32 ? (float) v : v;
    }

    private static final Broadcast[][] COMBOS = {
        {Broadcast.FULL, Broadcast.FULL}, {Broadcast.FULL, Broadcast.ROW}, {Broadcast.ROW, Broadcast.FULL},
        {Broadcast.FULL, Broadcast.COLUMN}, {Broadcast.COLUMN, Broadcast.FULL}, {Broadcast.FULL, Broadcast.SCALAR},
        {Broadcast.SCALAR, Broadcast.FULL}, {Broadcast.ROW, Broadcast.COLUMN}, {Broadcast.COLUMN, Broadcast.ROW},
        {Broadcast.SCALAR, Broadcast.SCALAR}, {Broadcast.ROW, Broadcast.SCALAR},
    };
    private static final int[][] MATRICES = {{1, 1}, {3, 17}, {257, 5}, {4, 3000}};

    /** Binary ops are exact in every dtype: float results of one IEEE operation equal the rounded double one. */
    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void binaryUnderEveryBroadcast(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            long seed = 7;
            for (DType dt : DType.values()) {
                for (BinaryOp op : BinaryOp.values()) {
                    if (op == BinaryOp.DIV && dt == DType.INT32) {
                        continue;
                    }
                    for (Broadcast[] combo : COMBOS) {
                        for (int[] rc : MATRICES) {
                            binaryCase(b, dt, op, combo[0], combo[1], rc[0], rc[1], seed++);
                        }
                    }
                    // Big enough to be split over threads, by rows and as one flat range.
                    binaryCase(b, dt, op, Broadcast.FULL, Broadcast.ROW, 300, 301, seed++);
                    binaryCase(b, dt, op, Broadcast.FULL, Broadcast.SCALAR, 300, 301, seed++);
                }
            }
        }
    }

    private static void binaryCase(CpuBackend b, DType dt, BinaryOp op, Broadcast ma, Broadcast mb, int rows,
                                   int cols, long seed) {
        int na = (int) ma.length(rows, cols), nb = (int) mb.length(rows, cols), n = rows * cols;
        double lo = dt == DType.INT32 ? -5 : -2, hi = -lo;
        double[] a = CpuTesting.random(seed, na, lo, hi, dt), bv = CpuTesting.random(seed + 1, nb, lo, hi, dt);
        for (int i = 0; i < Math.min(na, nb); i += 5) {
            a[i] = bv[i]; // equal pairs for the comparisons
        }
        double[] want = new double[n];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double x = a[index(ma, r, c, cols)], y = bv[index(mb, r, c, cols)];
                want[r * cols + c] = apply(op, dt, x, y);
            }
        }
        Buffer ba = CpuTesting.upload(b, dt, a), bb = CpuTesting.upload(b, dt, bv), out = b.allocate(dt, n);
        String what = op + " " + dt + " " + ma + "/" + mb + " " + rows + "x" + cols;
        b.binary(op, rows, cols, ba, 0, ma, bb, 0, mb, out, 0);
        assertExact(what, want, CpuTesting.download(b, out));
        if (ma == Broadcast.FULL) {
            b.binary(op, rows, cols, ba, 0, ma, bb, 0, mb, ba, 0);
            assertExact(what + " in place", want, CpuTesting.download(b, ba));
        }
        b.release(ba);
        b.release(bb);
        b.release(out);
    }

    private static int index(Broadcast m, int r, int c, int cols) {
        return switch (m) {
            case FULL -> r * cols + c;
            case ROW -> c;
            case COLUMN -> r;
            case SCALAR -> 0;
        };
    }

    private static double apply(BinaryOp op, DType dt, double x, double y) {
        if (dt == DType.INT32) {
            int a = (int) x, b = (int) y;
            return switch (op) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case MAX -> Math.max(a, b);
                case MIN -> Math.min(a, b);
                default -> compare(op, x, y);
            };
        }
        double v = switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);
            case MIN -> Math.min(x, y);
            default -> compare(op, x, y);
        };
        return round(v, dt);
    }

    private static double compare(BinaryOp op, double x, double y) {
        boolean r = switch (op) {
            case EQ -> x == y;
            case NE -> x != y;
            case LT -> x < y;
            case LE -> x <= y;
            case GT -> x > y;
            case GE -> x >= y;
            default -> throw new IllegalArgumentException(op.toString());
        };
        return r ? 1 : 0;
    }

    @ParameterizedTest(name = "vector={0}")
    @ValueSource(booleans = {true, false})
    void axpbyAndTranspose(boolean vector) {
        try (CpuBackend b = CpuTesting.backend(vector, 2)) {
            for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                for (int n : SIZES) {
                    double[] x = CpuTesting.random(n, n, -1, 1, dt), y = CpuTesting.random(n + 1, n, -1, 1, dt);
                    double[] nan = new double[n];
                    java.util.Arrays.fill(nan, Double.NaN);
                    double[] want = new double[n], want0 = new double[n];
                    for (int i = 0; i < n; i++) {
                        want[i] = round(round(0.5 * x[i], dt) + round(-2 * y[i], dt), dt);
                        want0[i] = round(3 * x[i], dt);
                    }
                    Buffer bx = CpuTesting.upload(b, dt, x), by = CpuTesting.upload(b, dt, y);
                    b.axpby(n, 0.5, bx, 0, -2, by, 0);
                    assertExact("axpby " + dt + " n=" + n, want, CpuTesting.download(b, by));
                    b.release(by);
                    by = CpuTesting.upload(b, dt, nan);
                    b.axpby(n, 3, bx, 0, 0, by, 0);
                    assertExact("axpby beta=0 over NaN " + dt + " n=" + n, want0, CpuTesting.download(b, by));
                    b.release(bx);
                    b.release(by);
                }
            }
            for (DType dt : DType.values()) {
                for (int[] rc : new int[][] {{1, 1}, {3, 17}, {257, 5}, {4, 3000}, {300, 301}}) {
                    int rows = rc[0], cols = rc[1];
                    double[] x = CpuTesting.random(rows + cols, rows * cols + 3, -100, 100, dt);
                    double[] want = new double[rows * cols + 2];
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            want[2 + c * rows + r] = x[3 + r * cols + c];
                        }
                    }
                    Buffer bx = CpuTesting.upload(b, dt, x), bt = CpuTesting.upload(b, dt, new double[want.length]);
                    b.transpose(rows, cols, bx, 3, bt, 2);
                    assertExact("transpose " + dt + " " + rows + "x" + cols, want, CpuTesting.download(b, bt));
                    b.release(bx);
                    b.release(bt);
                }
            }
        }
    }
}
