package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.BinaryCrossEntropy;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.Reduction;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Dense;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * MATH.md's worked examples as test vectors. Threshold networks (1-3) must give exactly the listed values;
 * examples 4-6 are computed in a given dtype and returned by name, so the caller can compare FLOAT64 with the
 * printed numbers (±1e-6) and FLOAT32 with FLOAT64.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class WorkedExampleCases {
    private WorkedExampleCases() {
    }

    /** A threshold network built from MATH.md's matrices (W_H {@code [hidden, in]}, W_O {@code [1, hidden]}). */
    private static Sequential thresholdNet(Backend be, DType dt, double[] wh, double[] bh, double[] wo, double bo,
                                           int in, int hidden) {
        return Sequential.of(Dense.of(Net.tensor(be, dt, wh, hidden, in), Net.tensor(be, dt, bh, hidden)),
                Activation.threshold(),
                Dense.of(Net.tensor(be, dt, wo, 1, hidden), Net.tensor(be, dt, new double[] {bo}, 1)));
    }

    /** Runs {@code net} on rows {@code x} and returns (z_O, ŷ) per row. */
    private static double[][] run(Backend be, DType dt, Sequential net, double[] x, int in) {
        try (Scope s = Scope.open()) {
            Variable input = Variable.constant(Net.tensor(be, dt, x, x.length / in, in));
            Variable zo = net.forward(input);
            Variable y = Ops.threshold(zo);
            return new double[][] {zo.value().toDoubles(), y.value().toDoubles()};
        }
    }

    /** Example 1: ŷ = 0 exactly on [1, 3), 1 elsewhere; z_O = 0.5, -0.5, 1.5 on the three pieces. */
    static void example1(Backend be, DType dt) {
        double[] x = {-5, -0.5, 0, 0.5, 0.999, 1, 2, 2.999, 3, 3.5, 100};
        try (Sequential net = thresholdNet(be, dt, new double[] {1, 1}, new double[] {-1, -3}, new double[] {-1, 2},
                0.5, 1, 2)) {
            double[][] r = run(be, dt, net, x, 1);
            for (int i = 0; i < x.length; i++) {
                double zo = x[i] < 1 ? 0.5 : x[i] < 3 ? -0.5 : 1.5;
                assertEquals(zo, r[0][i], 0.0, "example 1: z_O at x = " + x[i]);
                assertEquals(x[i] >= 1 && x[i] < 3 ? 0.0 : 1.0, r[1][i], 0.0, "example 1: ŷ at x = " + x[i]);
            }
        }
    }

    /** Example 2: the whole table, hidden layer included (test column z_H2 = -0.5, not the note's 0.5). */
    static void example2(Backend be, DType dt) {
        double[] x = {0, 1, 3, 5, 3.5};
        double[][] zh = {{-2, -1, 1, 3, 1.5}, {-4, -3, -1, 1, -0.5}};
        double[][] uh = {{0, 0, 1, 1, 1}, {0, 0, 0, 1, 0}};
        double[] zo = {-0.5, -0.5, 0.5, -1.5, 0.5};
        double[] y = {0, 0, 1, 0, 1};
        try (Sequential net = thresholdNet(be, dt, new double[] {1, 1}, new double[] {-2, -4}, new double[] {1, -2},
                -0.5, 1, 2); Scope s = Scope.open()) {
            Variable in = Variable.constant(Net.tensor(be, dt, x, 5, 1));
            double[] hz = net.layers().get(0).forward(in).value().toDoubles();
            double[] hu = net.layers().get(1).forward(net.layers().get(0).forward(in)).value().toDoubles();
            double[][] r = run(be, dt, net, x, 1);
            for (int i = 0; i < x.length; i++) {
                for (int h = 0; h < 2; h++) {
                    assertEquals(zh[h][i], hz[i * 2 + h], 0.0, "example 2: z_H" + (h + 1) + " at x = " + x[i]);
                    assertEquals(uh[h][i], hu[i * 2 + h], 0.0, "example 2: u_H" + (h + 1) + " at x = " + x[i]);
                }
                assertEquals(zo[i], r[0][i], 0.0, "example 2: z_O at x = " + x[i]);
                assertEquals(y[i], r[1][i], 0.0, "example 2: ŷ at x = " + x[i]);
            }
        }
    }

    /** Example 3: ŷ = 1 exactly when x1 ≥ 0, x2 ≥ 0 and x1 + x2 &lt; 1 (z_O = 0.5 there). */
    static void example3(Backend be, DType dt) {
        double[] pts = {0.2, 0.3, 0, 0, 0.5, 0.5, 0.25, 0.75, 0.45, 0.45, -0.1, 0.2, 0.3, -0.2, 2, 2, 0.9, 0.05,
                -1, -1, 0.1, 1.5, 0, 0.99};
        try (Sequential net = thresholdNet(be, dt, new double[] {1, 0, 0, 1, 1, 1}, new double[] {0, 0, -1},
                new double[] {1, 1, -1}, -1.5, 2, 3)) {
            double[][] r = run(be, dt, net, pts, 2);
            for (int i = 0; i < pts.length / 2; i++) {
                double x1 = pts[2 * i], x2 = pts[2 * i + 1];
                boolean inside = x1 >= 0 && x2 >= 0 && x1 + x2 < 1;
                assertEquals(inside ? 1.0 : 0.0, r[1][i], 0.0, "example 3: ŷ at (" + x1 + ", " + x2 + ")");
                if (inside) {
                    assertEquals(0.5, r[0][i], 0.0, "example 3: z_O at (" + x1 + ", " + x2 + ")");
                }
            }
        }
    }

    /** Example 4 from public ops (not layers), sum-reduced squared error; returns ŷ, L and the gradients. */
    static Map<String, double[]> example4(Backend be, DType dt) {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            Variable x = Variable.constant(Net.tensor(be, dt, new double[] {0, 1, 0.5, -0.5, 1, 0.25}, 3, 2));
            Tensor y = Net.tensor(be, dt, new double[] {2, 1, 3}, 3, 1);
            Variable w = Variable.leaf(Net.tensor(be, dt, new double[] {0.2, -0.1, 0.4, 0.3}, 2, 2));
            Variable b = Variable.leaf(Net.tensor(be, dt, new double[] {0.1, -0.2}, 2));
            Variable alpha = Variable.leaf(Net.tensor(be, dt, new double[] {1, 0.5}, 2, 1));
            try (Tape tape = Tape.open()) {
                Variable z = Ops.add(Ops.matmul(x, w, false, true), b);  // z_i = W·x_i + b, as rows
                Variable yHat = Ops.matmul(Ops.exp(z), alpha);           // ŷ_i = αᵀ·exp(z_i)
                Variable loss = new SquaredError(Reduction.SUM).compute(yHat, y);
                loss.backward();
                out.put("ŷ", yHat.value().toDoubles());
                out.put("L", loss.value().toDoubles());
            }
            out.put("∂L/∂α", alpha.grad().toDoubles());
            out.put("∂L/∂W", w.grad().toDoubles());
            out.put("∂L/∂b", b.grad().toDoubles());
        }
        return out;
    }

    /** MATH.md's printed values for example 4. */
    static Map<String, double[]> example4Expected() {
        Map<String, double[]> e = new LinkedHashMap<>();
        e.put("ŷ", new double[] {1.552585, 1.714379, 1.974796});
        e.put("L", new double[] {1.761561});
        e.put("∂L/∂α", new double[] {-1.759691, -2.458620});
        e.put("∂L/∂W", new double[] {-1.782144, -2.486967, -1.042276, -1.139334});
        e.put("∂L/∂b", new double[] {-1.759691, -1.229310});
        return e;
    }

    /**
     * Example 5 as a Sequential of Dense layers (weights transposed into [out, in]), sigmoid everywhere and BCE on
     * the probability; with {@code logits} the last sigmoid is folded into BCE on logits instead (same numbers).
     */
    static Map<String, double[]> example5(Backend be, DType dt, boolean logits) {
        double[] w1 = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, -0.7, 0.8, 0.9, 1.0, -1.1, 1.2};
        double[] w2 = {0.3, -0.5, 0.8, 0.2, -0.4, 0.6};
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Sequential net = Sequential.of(
                Dense.of(Net.tensor(be, dt, transpose(w1, 4, 3), 3, 4),
                        Net.tensor(be, dt, new double[] {0.1, 0, -0.1}, 3)),
                Activation.sigmoid(),
                Dense.of(Net.tensor(be, dt, transpose(w2, 3, 2), 2, 3),
                        Net.tensor(be, dt, new double[] {0.05, -0.05}, 2)),
                Activation.sigmoid(),
                Dense.of(Net.tensor(be, dt, new double[] {1.5, -2.0}, 1, 2), Net.tensor(be, dt, new double[] {0.2}, 1)),
                logits ? Activation.identity() : Activation.sigmoid()); Scope s = Scope.open()) {
            Variable a0 = Variable.constant(Net.tensor(be, dt, new double[] {0.5, -1, 2, 0.25}, 1, 4));
            Tensor y = Net.tensor(be, dt, new double[] {1}, 1, 1);
            try (Tape tape = Tape.open()) {
                Variable o = net.forward(a0);
                Variable loss = logits ? new BinaryCrossEntropyWithLogits().compute(o, y)
                        : new BinaryCrossEntropy().compute(o, y);
                loss.backward();
                out.put("ŷ", logits ? Ops.sigmoid(o).value().toDoubles() : o.value().toDoubles());
                out.put("L", loss.value().toDoubles());
            }
            Map<String, Variable> p = net.parameters();
            out.put("∂L/∂W3", p.get("4.weight").grad().toDoubles());          // [1, 2] = W3ᵀ, same elements
            out.put("∂L/∂b3", p.get("4.bias").grad().toDoubles());
            out.put("∂L/∂W2", transpose(p.get("2.weight").grad().toDoubles(), 2, 3));
            out.put("∂L/∂b2", p.get("2.bias").grad().toDoubles());
            out.put("∂L/∂W1", transpose(p.get("0.weight").grad().toDoubles(), 3, 4));
            out.put("∂L/∂b1", p.get("0.bias").grad().toDoubles());
        }
        return out;
    }

    static Map<String, double[]> example5Expected() {
        Map<String, double[]> e = new LinkedHashMap<>();
        e.put("ŷ", new double[] {0.446044});
        e.put("L", new double[] {0.807337});
        e.put("∂L/∂W3", new double[] {-0.314463, -0.351255});
        e.put("∂L/∂b3", new double[] {-0.553956});
        e.put("∂L/∂W2", new double[] {-0.040340, 0.050850, -0.137388, 0.173182, -0.191675, 0.241613});
        e.put("∂L/∂b2", new double[] {-0.203929, 0.257059});
        e.put("∂L/∂W1", new double[] {-0.015052, -0.012281, 0.006659, 0.030104, 0.024561, -0.013317, -0.060208,
                -0.049123, 0.026635, -0.007526, -0.006140, 0.003329});
        e.put("∂L/∂b1", new double[] {-0.030104, -0.024561, 0.013317});
        return e;
    }

    /**
     * Example 6: f(x) = (x1 + x2·x3, x1² + 3·x2) at x = (1, 2, 3) from public ops, and its Jacobian one row per
     * backward pass with a unit upstream gradient (gradients with respect to the input).
     */
    static Map<String, double[]> example6(Backend be, DType dt) {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Scope s = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(be, dt, new double[] {1, 2, 3}, 1, 3));
            Variable[] e = new Variable[3];
            for (int i = 0; i < 3; i++) {
                double[] sel = new double[3];
                sel[i] = 1;
                e[i] = Variable.constant(Net.tensor(be, dt, sel, 3, 1));  // picks x_i by a product
            }
            Variable first = Variable.constant(Net.tensor(be, dt, new double[] {1, 0}, 1, 2));
            Variable second = Variable.constant(Net.tensor(be, dt, new double[] {0, 1}, 1, 2));
            double[] jacobian = new double[6];
            try (Tape tape = Tape.open()) {
                Variable x1 = Ops.matmul(x, e[0]), x2 = Ops.matmul(x, e[1]), x3 = Ops.matmul(x, e[2]);
                Variable f1 = Ops.add(x1, Ops.mul(x2, x3));
                Variable f2 = Ops.add(Ops.pow(x1, 2), Ops.scale(x2, 3));
                Variable f = Ops.add(Ops.matmul(f1, first), Ops.matmul(f2, second));  // [1, 2]
                out.put("f", f.value().toDoubles());
                for (int row = 0; row < 2; row++) {
                    x.zeroGrad();
                    f.backward(Net.tensor(be, dt, row == 0 ? new double[] {1, 0} : new double[] {0, 1}, 1, 2));
                    System.arraycopy(x.grad().toDoubles(), 0, jacobian, 3 * row, 3);
                }
            }
            out.put("J", jacobian);
        }
        return out;
    }

    static Map<String, double[]> example6Expected() {
        Map<String, double[]> e = new LinkedHashMap<>();
        e.put("f", new double[] {7, 7});
        e.put("J", new double[] {1, 3, 2, 2, 3, 0});
        return e;
    }

    private static double[] transpose(double[] m, int rows, int cols) {
        double[] t = new double[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }
}
