package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.contract.network.GradCheck.Leaf;
import dev.backprop.loss.BinaryCrossEntropy;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.Loss;
import dev.backprop.loss.Reduction;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Central finite differences for every layer, activation and loss (both reductions), whole random networks
 * (inputs and all parameters), and weight sharing (MATH.md's {@code Z2 = (X·Wᵀ + B)·Wᵀ + B}: the gradient is the
 * sum of both uses, checked against the formula as well as by differences).
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class LayerGradientCases {
    private LayerGradientCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        t.add(DynamicTest.dynamicTest("dense with bias", () -> layer(be, "dense", 1,
                Sequential.builder(be, DType.FLOAT64).seed(1).dense(4, 3).build(), 5, 4)));
        t.add(DynamicTest.dynamicTest("dense without bias", () -> layer(be, "dense", 2,
                Sequential.builder(be, DType.FLOAT64).seed(2).dense(4, 3, false).build(), 5, 4)));
        t.add(DynamicTest.dynamicTest("flatten then dense", () -> layer(be, "flatten", 3,
                Sequential.builder(be, DType.FLOAT64).seed(3).flatten().dense(6, 2).build(), 3, 2, 3)));
        for (Activation.Kind k : Activation.Kind.values()) {
            t.add(DynamicTest.dynamicTest("activation " + k.typeName(), () -> layer(be, k.typeName(), 4,
                    Sequential.of(new Activation(k)), 3, 4)));
        }
        losses(be, t);
        networks(be, t);
        t.add(DynamicTest.dynamicTest("weight sharing: W and b used twice", () -> weightSharing(be)));
        return t.stream();
    }

    /** Checks a layer's gradients for its input (kept away from kinks) and all its parameters. */
    private static void layer(Backend be, String what, long seed, Layer model, int... inputDims) {
        try (Scope scope = Scope.open(); Layer m = model) {
            Variable x = Variable.leaf(Net.tensor(be, DType.FLOAT64, Net.awayFromZero(seed, Net.count(inputDims),
                    0.05), inputDims));
            List<Variable> leaves = new ArrayList<>();
            leaves.add(x);
            leaves.addAll(m.parameters().values());
            GradCheck.check(what, seed, v -> m.forward(v.get(0)), leaves);
        }
    }

    private static void losses(Backend be, List<DynamicTest> t) {
        for (Reduction r : Reduction.values()) {
            t.add(lossCase(be, new SoftmaxCrossEntropy(r), new Leaf(Net.uniform(10, 15, -3, 3), 5, 3),
                    (b, d) -> Tensor.of(b, new int[] {0, 2, 1, 2, 0}, 5)));
            for (SoftmaxCrossEntropy ce : new SoftmaxCrossEntropy[] {
                    SoftmaxCrossEntropy.builder().reduction(r).weights(0.5, 3, 1.25).build(),
                    SoftmaxCrossEntropy.builder().reduction(r).labelSmoothing(0.3).build(),
                    SoftmaxCrossEntropy.builder().reduction(r).weights(0.5, 3, 1.25).labelSmoothing(0.3).build()}) {
                t.add(lossCase(be, ce, new Leaf(Net.uniform(10, 15, -3, 3), 5, 3),
                        (b, d) -> Tensor.of(b, new int[] {0, 2, 1, 2, 0}, 5)));
            }
            t.add(lossCase(be, new BinaryCrossEntropyWithLogits(r), new Leaf(new double[] {-30, -2, -0.3, 0.1, 1.7,
                    4, 25, 0.8}, 4, 2), (b, d) -> Net.tensor(b, d, new double[] {0, 1, 0, 1, 1, 0, 1, 0.25}, 4, 2)));
            t.add(lossCase(be, new BinaryCrossEntropy(r), new Leaf(Net.uniform(11, 8, 0.05, 0.95), 8, 1),
                    (b, d) -> Net.tensor(b, d, new double[] {0, 1, 0, 1, 1, 0, 1, 0}, 8)));
            t.add(lossCase(be, new SquaredError(r), new Leaf(Net.uniform(12, 6, -2, 2), 3, 2),
                    (b, d) -> Net.tensor(b, d, Net.uniform(13, 6, -2, 2), 3, 2)));
        }
    }

    private interface Target {
        Tensor make(Backend be, DType dtype);
    }

    private static DynamicTest lossCase(Backend be, Loss loss, Leaf prediction, Target target) {
        return DynamicTest.dynamicTest("loss " + loss, () -> {
            try (Scope s = Scope.open()) {
                Tensor y = target.make(be, DType.FLOAT64);
                GradCheck.check(be, loss.toString(), 20, v -> loss.compute(v.get(0), y), prediction);
            }
        });
    }

    private static void networks(Backend be, List<DynamicTest> t) {
        Function<Long, Sequential> tanhNet = s -> Sequential.builder(be, DType.FLOAT64).seed(s)
                .init(Init.XAVIER_UNIFORM)
                .dense(5, 7).tanh().dense(7, 4).sigmoid().dense(4, 3).build();
        Function<Long, Sequential> reluNet = s -> Sequential.builder(be, DType.FLOAT64).seed(s).init(Init.HE_NORMAL)
                .flatten().dense(6, 8).relu().dense(8, 8).tanh().dense(8, 3).build();
        t.add(DynamicTest.dynamicTest("random network 5-7-4-3 (tanh, sigmoid) with cross-entropy", () ->
                network(be, tanhNet.apply(30L), new SoftmaxCrossEntropy(), 30, new int[] {6, 5},
                        (b, d) -> Tensor.of(b, new int[] {2, 0, 1, 1, 2, 0}, 6))));
        t.add(DynamicTest.dynamicTest("random network flatten-6-8-8-3 (relu, tanh) with squared error", () ->
                network(be, reluNet.apply(31L), new SquaredError(), 31, new int[] {4, 2, 3},
                        (b, d) -> Net.tensor(b, d, Net.uniform(32, 12, -1, 1), 4, 3))));
        t.add(DynamicTest.dynamicTest("random network 5-7-4-3 with BCE on logits (sum)", () ->
                network(be, tanhNet.apply(33L), new BinaryCrossEntropyWithLogits(Reduction.SUM), 33, new int[] {3, 5},
                        (b, d) -> Net.tensor(b, d, new double[] {1, 0, 1, 0, 0, 1, 1, 1, 0}, 3, 3))));
        // PyTorch's nn.Sequential(lin, nn.Tanh(), lin, nn.Sigmoid(), lin): one weight, its gradient the sum of
        // all three uses (the tape adds each use's contribution).
        t.add(DynamicTest.dynamicTest("one dense layer used three times (tanh, sigmoid) with cross-entropy", () -> {
            Layer lin = Sequential.builder(be, DType.FLOAT64).seed(34).init(Init.XAVIER_UNIFORM).dense(4, 4).build()
                    .layers().get(0);
            network(be, Sequential.of(lin, Activation.tanh(), lin, Activation.sigmoid(), lin),
                    new SoftmaxCrossEntropy(), 34, new int[] {5, 4},
                    (b, d) -> Tensor.of(b, new int[] {3, 0, 1, 2, 2}, 5));
        }));
    }

    private static void network(Backend be, Sequential model, Loss loss, long seed, int[] inputDims, Target target) {
        try (Scope s = Scope.open(); Sequential m = model) {
            Variable x = Variable.leaf(Net.tensor(be, DType.FLOAT64, Net.awayFromZero(seed, Net.count(inputDims),
                    0.05), inputDims));
            Tensor y = target.make(be, DType.FLOAT64);
            List<Variable> leaves = new ArrayList<>();
            leaves.add(x);
            leaves.addAll(m.parameters().values());
            GradCheck.check("network " + m, seed, v -> loss.compute(m.forward(v.get(0)), y), leaves);
        }
    }

    /** MATH.md: with δ2 = ∂L/∂Z2 and δ1 = δ2·W, ∂L/∂W = δ2ᵀ·Z1 + δ1ᵀ·X and ∂L/∂b = colsum(δ2) + colsum(δ1). */
    private static void weightSharing(Backend be) {
        int n = 3, k = 4;
        double[] xv = Net.uniform(40, n * k, -1, 1), wv = Net.uniform(41, k * k, -1, 1), bv = Net.uniform(42, k, -1, 1);
        double[] r = Net.uniform(43, n * k, -1, 1);  // L = Σ R∘Z2, so δ2 = R
        try (Scope s = Scope.open()) {
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT64, xv, n, k));
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT64, wv, k, k));
            Variable b = Variable.leaf(Net.tensor(be, DType.FLOAT64, bv, k));
            Function<List<Variable>, Variable> twice = v -> Ops.linear(Ops.linear(x, v.get(0), v.get(1)), v.get(0),
                    v.get(1));
            GradCheck.check("weight sharing", 43, twice, List.of(w, b));
            // The same gradients by MATH.md's formula, on the host.
            double[] z1 = new double[n * k], d1 = new double[n * k], gw = new double[k * k], gb = new double[k];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < k; o++) {
                    double z = bv[o], d = 0;
                    for (int j = 0; j < k; j++) {
                        z += xv[i * k + j] * wv[o * k + j];
                        d += r[i * k + j] * wv[j * k + o];
                    }
                    z1[i * k + o] = z;
                    d1[i * k + o] = d;
                }
            }
            for (int o = 0; o < k; o++) {
                for (int j = 0; j < k; j++) {
                    for (int i = 0; i < n; i++) {
                        gw[o * k + j] += r[i * k + o] * z1[i * k + j] + d1[i * k + o] * xv[i * k + j];
                    }
                }
                for (int i = 0; i < n; i++) {
                    gb[o] += r[i * k + o] + d1[i * k + o];
                }
            }
            w.zeroGrad();
            b.zeroGrad();
            try (Tape tape = Tape.open()) {
                twice.apply(List.of(w, b)).backward(Net.tensor(be, DType.FLOAT64, r, n, k));
            }
            Net.assertClose("∂L/∂W = δ2ᵀ·Z1 + δ1ᵀ·X", gw, w.grad().toDoubles(), 1e-12, 1e-12);
            Net.assertClose("∂L/∂b = colsum(δ2) + colsum(δ1)", gb, b.grad().toDoubles(), 1e-12, 1e-12);
        }
    }
}
