package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dense layer and its activation run as one fused op ({@link Sequential}'s forward, {@code Ops.linear} with an
 * activation) against the same layers run one by one ({@code linear}, then the activation op): the output
 * always bit for bit (the forward epilogue is the same float operations), the loss and every gradient bit for
 * bit for ReLU and the identity (whose derivative from the output is exact), and within float rounding for
 * sigmoid and tanh (whose fused backward reads {@code act(z)} from the output instead of recomputing it). Each
 * through a zeroed gradient (the bias gradient written straight into it), an accumulating second pass, and a
 * backward pass from the fused output itself with a borrowed upstream gradient, which must stay unchanged.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class FusedLayerCases {
    private FusedLayerCases() {
    }

    private static final Activation.Kind[] FUSED = {Activation.Kind.IDENTITY, Activation.Kind.RELU,
            Activation.Kind.SIGMOID, Activation.Kind.TANH};

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        for (DType dt : be.capabilities().float64() ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32)) {
            for (Activation.Kind k : FUSED) {
                t.add(DynamicTest.dynamicTest("dense+" + k.typeName() + " fused vs layer by layer " + dt,
                        () -> fusedVsLayers(be, dt, k)));
                t.add(DynamicTest.dynamicTest("backward from the fused " + k.typeName() + " output " + dt,
                        () -> fromFusedOutput(be, dt, k)));
            }
        }
        t.add(DynamicTest.dynamicTest("fused linear rejects a missing bias and other activations",
                () -> rejections(be)));
        return t.stream();
    }

    private static boolean exact(Activation.Kind k) {
        return k == Activation.Kind.IDENTITY || k == Activation.Kind.RELU;
    }

    /** Two passes (the first after zeroGrad, the second accumulating) through a 3-layer MLP, both ways. */
    private static void fusedVsLayers(Backend be, DType dt, Activation.Kind k) {
        try (Scope scope = Scope.open();
             Sequential model = Sequential.builder(be, dt).seed(7).dense(9, 33).add(new Activation(k))
                     .dense(33, 5).build()) {
            Tensor x = Net.tensor(be, dt, Net.uniform(3, 300 * 9, -2, 2), 300, 9);
            int[] labels = new int[300];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = (i * 7) % 5;
            }
            Tensor y = Tensor.of(be, labels, labels.length);
            double[][] fused = passes(model, x, y, Sequential::forward);
            double[][] layers = passes(model, x, y, (m, in) -> {
                Variable v = in;
                for (Layer l : m.layers()) {
                    v = l.forward(v);
                }
                return v;
            });
            String what = "dense+" + k.typeName() + " " + dt;
            Net.assertIdentical(what + " output", layers[0], fused[0]);
            for (int i = 1; i < fused.length; i++) {
                String q = what + " "
                        + (i == 1 ? "loss" : "gradient " + (i - 2) + " (weight, bias, ... after two passes)");
                if (exact(k)) {
                    Net.assertIdentical(q, layers[i], fused[i]);
                } else {
                    Net.assertClose(q, layers[i], fused[i], dt == DType.FLOAT64 ? 1e-13 : 1e-6,
                            dt == DType.FLOAT64 ? 1e-11 : 1e-4);
                }
            }
        }
    }

    /** {output, loss, every parameter gradient after two backward passes} of {@code model} run by {@code run}. */
    private static double[][] passes(Sequential model, Tensor x, Tensor labels,
                                     BiFunction<Sequential, Variable, Variable> run) {
        List<double[]> out = new ArrayList<>();
        model.parameters().values().forEach(Variable::zeroGrad);
        for (int pass = 0; pass < 2; pass++) {
            try (Tape tape = Tape.open()) {
                Variable logits = run.apply(model, Variable.constant(x));
                Variable loss = new SoftmaxCrossEntropy().compute(logits, labels);
                loss.backward();
                if (pass == 0) {
                    out.add(logits.value().toDoubles());
                    out.add(loss.value().toDoubles());
                }
            }
        }
        for (Variable p : model.parameters().values()) {
            out.add(p.grad().toDoubles());
        }
        return out.toArray(new double[0][]);
    }

    /** The fused op as the root of a backward pass: its upstream gradient is borrowed, so it must not change. */
    private static void fromFusedOutput(Backend be, DType dt, Activation.Kind k) {
        UnaryOp act = UnaryOp.valueOf(k.name());
        try (Scope scope = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(be, dt, Net.uniform(5, 6 * 4, -2, 2), 6, 4));
            Variable w = Variable.parameter(Net.tensor(be, dt, Net.uniform(6, 3 * 4, -1, 1), 3, 4));
            Variable b = Variable.parameter(Net.tensor(be, dt, Net.uniform(7, 3, -1, 1), 3));
            Tensor upstream = Net.tensor(be, dt, Net.uniform(8, 6 * 3, -1, 1), 6, 3);
            double[] before = upstream.toDoubles();
            double[][] fused = new double[3][];
            double[][] layers = new double[3][];
            for (int way = 0; way < 2; way++) {
                for (Variable v : List.of(x, w, b)) {
                    v.zeroGrad();
                }
                try (Tape tape = Tape.open()) {
                    Variable out = way == 0 ? Ops.linear(x, w, b, act) : activation(k, Ops.linear(x, w, b));
                    out.backward(upstream);
                }
                double[][] into = way == 0 ? fused : layers;
                into[0] = x.grad().toDoubles();
                into[1] = w.grad().toDoubles();
                into[2] = b.grad().toDoubles();
            }
            Net.assertIdentical("the borrowed upstream gradient", before, upstream.toDoubles());
            for (int i = 0; i < 3; i++) {
                String q = "dense+" + k.typeName() + " " + dt + " gradient of " + (i == 0 ? "x" : i == 1 ? "w" : "b");
                if (exact(k)) {
                    Net.assertIdentical(q, layers[i], fused[i]);
                } else {
                    Net.assertClose(q, layers[i], fused[i], dt == DType.FLOAT64 ? 1e-13 : 1e-6,
                            dt == DType.FLOAT64 ? 1e-11 : 1e-4);
                }
            }
        }
    }

    private static Variable activation(Activation.Kind k, Variable z) {
        return new Activation(k).forward(z);
    }

    private static void rejections(Backend be) {
        try (Scope scope = Scope.open()) {
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, Net.uniform(1, 8, -1, 1), 2, 4));
            Variable w = Variable.parameter(Net.tensor(be, DType.FLOAT32, Net.uniform(2, 12, -1, 1), 3, 4));
            Variable b = Variable.parameter(Net.tensor(be, DType.FLOAT32, Net.uniform(3, 3, -1, 1), 3));
            String noBias = assertThrows(IllegalArgumentException.class, () -> Ops.linear(x, w, null, UnaryOp.RELU))
                    .getMessage();
            assertTrue(noBias.contains("bias"), noBias);
            String other = assertThrows(IllegalArgumentException.class, () -> Ops.linear(x, w, b, UnaryOp.EXP))
                    .getMessage();
            assertTrue(other.contains("exp") && other.contains("RELU"), other);
        }
    }
}
