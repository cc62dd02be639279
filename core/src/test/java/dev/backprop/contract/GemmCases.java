package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * GEMM cases: every transpose combination on awkward and non-square shapes, alpha/beta (beta = 0 with a
 * NaN-filled C that must not leak through), {@code k = 0}, 2-D views ({@link Tensor#block}, so
 * {@code lda > cols}, at non-zero offsets, with the elements around C's block checked untouched), and the
 * batched rank-3 form at an offset. Tolerance: {@code |err| ≤ 1e-5·Σ|terms|}, with {@code Σ|terms|} the
 * reference's {@code |alpha|·|A|·|B| + |beta|·|C|}.
 */
final class GemmCases {
    private GemmCases() {
    }

    /** {m, n, k}: the sizes 1, 3, 17, 255, 257, 1000 in non-square combinations. */
    private static final int[][] SHAPES = {
            {1, 1, 1}, {3, 17, 1}, {17, 3, 255}, {1, 257, 17}, {255, 1, 3}, {257, 255, 17},
            {1000, 17, 3}, {3, 1000, 257}, {17, 1, 1000}, {255, 257, 257},
    };
    /** {alpha, beta}; beta 0 cases run with C full of NaN. */
    private static final double[][] ALPHA_BETA = {{1, 0}, {-1.5, 0.25}, {0.5, 0}, {2, 1}};

    /** One GEMM: shapes of op(A) m×k, op(B) k×n; {@code view} puts A, B, C in padded blocks. */
    record Spec(DType dtype, boolean transA, boolean transB, int m, int n, int k, double alpha, double beta,
                int batch, boolean view) {
        String name() {
            return String.format("gemm %s %s%s m=%d n=%d k=%d alpha=%s beta=%s%s%s", dtype, transA ? "T" : "N",
                    transB ? "T" : "N", m, n, k, alpha, beta, beta == 0 ? " (C=NaN)" : "",
                    batch > 0 ? " batch=" + batch : view ? " views" : "");
        }
    }

    static Stream<DynamicTest> gemm(Oracle o) {
        List<Spec> specs = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (int s = 0; s < SHAPES.length; s++) {
                for (int t = 0; t < 4; t++) {
                    double[] ab = ALPHA_BETA[(s + t) % ALPHA_BETA.length];
                    int[] d = SHAPES[s];
                    specs.add(new Spec(dt, t >= 2, t % 2 == 1, d[0], d[1], d[2], ab[0], ab[1], 0, false));
                }
            }
            for (int t = 0; t < 4; t++) {
                specs.add(new Spec(dt, t >= 2, t % 2 == 1, 17, 3, 255, 1, 0, 0, true));
                specs.add(new Spec(dt, t >= 2, t % 2 == 1, 3, 257, 17, -0.5, 2, 0, true));
                specs.add(new Spec(dt, t >= 2, t % 2 == 1, 5, 7, 3, 1, 0.5, 17, false));
                specs.add(new Spec(dt, t >= 2, t % 2 == 1, 17, 3, 1, 2, 0, 3, false));
            }
            specs.add(new Spec(dt, false, false, 3, 17, 0, 1, 0.5, 0, false));
            specs.add(new Spec(dt, true, false, 1, 1, 1, 1, 0, 1, false));
        }
        long[] seed = {1000};
        return specs.stream().map(s -> dynamicTest(s.name(), () -> run(o, s, seed[0]++)));
    }

    /** Stored (not transposed) dimensions of one operand. */
    private static int[] stored(boolean trans, int rows, int cols) {
        return trans ? new int[] {cols, rows} : new int[] {rows, cols};
    }

    static void run(Oracle o, Spec s, long seed) {
        int[] aDims = stored(s.transA, s.m, s.k), bDims = stored(s.transB, s.k, s.n), cDims = {s.m, s.n};
        int pad = s.view ? 3 : 0;
        int lead = s.batch > 0 ? 1 : 0;
        int[] aAll = dims(s, aDims, pad, lead), bAll = dims(s, bDims, pad, lead), cAll = dims(s, cDims, pad, lead);
        double[] a = Inputs.uniform(seed, size(aAll), -1, 1, s.dtype);
        double[] b = Inputs.uniform(seed + 7, size(bAll), -1, 1, s.dtype);
        double[] c = s.beta == 0 ? nan(size(cAll)) : Inputs.uniform(seed + 13, size(cAll), -1, 1, s.dtype);
        try (Scope scope = Scope.open()) {
            Tensor ta = o.actual(s.dtype, a, aAll), tb = o.actual(s.dtype, b, bAll), tc = o.actual(s.dtype, c, cAll);
            MatMul.gemm(s.transA, s.transB, s.alpha, part(s, ta, aDims, pad), part(s, tb, bDims, pad), s.beta,
                    part(s, tc, cDims, pad));
            double[] got = tc.toDoubles();

            Tensor ra = o.truth(s.dtype, a, aAll), rb = o.truth(s.dtype, b, bAll), rc = o.truth(s.dtype, c, cAll);
            MatMul.gemm(s.transA, s.transB, s.alpha, part(s, ra, aDims, pad), part(s, rb, bDims, pad), s.beta,
                    part(s, rc, cDims, pad));
            Tensor aa = o.truth(s.dtype, Inputs.abs(a), aAll), ab = o.truth(s.dtype, Inputs.abs(b), bAll);
            Tensor ac = o.truth(s.dtype, Inputs.abs(c), cAll);
            MatMul.gemm(s.transA, s.transB, Math.abs(s.alpha), part(s, aa, aDims, pad), part(s, ab, bDims, pad),
                    Math.abs(s.beta), part(s, ac, cDims, pad));
            boolean[] inside = inside(s, cAll, cDims, pad, lead);
            Tolerance.bounded(s.name(), s.dtype, rc.toDoubles(), got, ac.toDoubles(), i -> inside[i]);
        }
    }

    /** Full tensor dimensions: padded for views, one extra leading slice for batched (an offset). */
    private static int[] dims(Spec s, int[] d, int pad, int lead) {
        return s.batch > 0 ? new int[] {s.batch + lead, d[0], d[1]} : new int[] {d[0] + pad, d[1] + pad};
    }

    /** The operand the facade sees: a block at (1, 2) of the padded matrix, or the batch past the lead. */
    private static Tensor part(Spec s, Tensor t, int[] d, int pad) {
        if (s.batch > 0) {
            return t.rows(1, s.batch + 1);
        }
        return pad > 0 ? t.block(1, 2, d[0], d[1]) : t;
    }

    private static boolean[] inside(Spec s, int[] all, int[] d, int pad, int lead) {
        boolean[] in = new boolean[size(all)];
        if (s.batch > 0) {
            Arrays.fill(in, lead * d[0] * d[1], in.length, true);
            return in;
        }
        int cols = all[1];
        for (int r = 0; r < d[0]; r++) {
            for (int c = 0; c < d[1]; c++) {
                in[(r + (pad > 0 ? 1 : 0)) * cols + c + (pad > 0 ? 2 : 0)] = true;
            }
        }
        return in;
    }

    private static int size(int[] dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    private static double[] nan(int n) {
        double[] v = new double[n];
        Arrays.fill(v, Double.NaN);
        return v;
    }
}
