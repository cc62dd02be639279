package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code unaryBackward} at NaN, ±infinity and ±0 against PyTorch's autograd. Each row but ABS was printed by
 * torch 1.13 (float32 and float64 agree) with
 * <pre>{@code
 * x = torch.tensor([v], dtype=dt, requires_grad=True); f(x).backward(torch.tensor([2.0], dtype=dt)); x.grad
 * }</pre>
 * for v in (nan, inf, -inf, 0.0, -0.0) and g = 2, except two answers Backprop chooses. PyTorch's relu backward is
 * {@code threshold_backward(g, relu(x), 0)}, which zeroes where the output is {@code <= 0}, so a NaN input passes
 * g (2.0); Backprop's is {@code 1[x > 0]·g} (MATH.md, {@link dev.backprop.autograd.Ops#relu}), so it gives 0
 * there, the answer {@code TorchEdgeCases} also accepts. PyTorch's abs backward is {@code g·sgn(x)} with
 * {@code sgn(NaN) = 0} (pytorch/pytorch#41245, open), so a NaN input gives 0; Backprop's sign is IEEE's
 * ({@code Math.signum}, NaN for NaN), so it gives NaN ({@link dev.backprop.autograd.Ops#abs}). The ABS row's
 * other values are PyTorch's {@code g·sgn(x)}, as {@code TorchEdgeCases}' {@code abs_at_zero} case prints it at
 * ±inf and ±0 (scaled to g = 2). The values are repeated over 257 elements so both the vector loops and their
 * scalar tails see each one ({@code TorchEdgeCases} has two to six per case).
 */
final class UnaryEdgeCases {
    private UnaryEdgeCases() {
    }

    private static final double NAN = Double.NaN, INF = Double.POSITIVE_INFINITY;
    static final double[] X = {NAN, INF, -INF, 0.0, -0.0};
    private static final double G = 2.0;
    private static final int N = 257;

    /** op, p1, p2 and dx at each of {@link #X}. */
    record Row(UnaryOp op, double p1, double p2, double... dx) {
    }

    static final List<Row> TABLE = List.of(
            new Row(UnaryOp.RELU, 0, 0, 0, 2, 0, 0, 0), // PyTorch: 2 at NaN (see the class comment)
            new Row(UnaryOp.ABS, 0, 0, NAN, 2, -2, 0, 0), // PyTorch: 0 at NaN (see the class comment)
            new Row(UnaryOp.SIGMOID, 0, 0, NAN, 0, 0, 0.5, 0.5),
            new Row(UnaryOp.TANH, 0, 0, NAN, 0, 0, 2, 2),
            new Row(UnaryOp.CLAMP, -1, 1.5, 0, 0, 0, 2, 2),
            new Row(UnaryOp.EXP, 0, 0, NAN, INF, 0, 2, 2),
            new Row(UnaryOp.NEG, 0, 0, -2, -2, -2, -2, -2),
            new Row(UnaryOp.SQRT, 0, 0, NAN, 0, NAN, INF, -INF),
            new Row(UnaryOp.LOG, 0, 0, NAN, 0, -0.0, INF, -INF),
            new Row(UnaryOp.POW, 2, 0, NAN, INF, -INF, 0, -0.0));

    static Stream<DynamicTest> unaryBackwardEdges(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (Row r : TABLE) {
                tests.add(dynamicTest("unaryBackward " + r.op + " at NaN, ±inf, ±0 " + dt, () -> edgeCase(o, r, dt)));
            }
        }
        return tests.stream();
    }

    private static void edgeCase(Oracle o, Row r, DType dt) {
        double[] x = new double[N], g = new double[N];
        for (int i = 0; i < N; i++) {
            x[i] = X[i % X.length];
            g[i] = G;
        }
        double[] got;
        try (Scope scope = Scope.open()) {
            Tensor tx = o.actual(dt, x, N), tg = o.actual(dt, g, N), dx = Tensor.empty(o.backend(), dt, N);
            Elementwise.unaryBackward(r.op, r.p1, r.p2, tx, tg, dx);
            got = dx.toDoubles();
        }
        for (int i = 0; i < N; i++) {
            double want = r.dx[i % X.length], v = got[i];
            boolean ok = Double.isNaN(want) ? Double.isNaN(v)
                    : want == 0 || Double.isInfinite(want) ? v == want
                    : Math.abs(v - want) <= 1e-6 * Math.abs(want);
            if (!ok) {
                fail("unaryBackward " + r.op + " " + dt + " at x = " + x[i] + " (element " + i + "): PyTorch gives "
                        + want + ", got " + v);
            }
        }
    }
}
