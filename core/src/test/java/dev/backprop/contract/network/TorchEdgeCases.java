package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.BinaryCrossEntropy;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.Loss;
import dev.backprop.loss.Reduction;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Ops, losses, layers and optimizer steps at their numerical edges against PyTorch 1.13 in float32: logits of
 * ±1e4 and ±3e38, ±inf, probabilities of exactly 0 and 1, batches of one, constant channels, ties and -inf in
 * pooling windows, gradients at kinks, zero and extreme gradients. {@value #RESOURCE} holds PyTorch's results
 * (written by {@code core/src/test/python/torch_edge_cases.py}; its header has the command), or its error where
 * it refuses the input: then Backprop must refuse it too, with a one-line message naming the value.
 *
 * <p>Where PyTorch's result is infinite or NaN, Backprop's must be the same (+inf, -inf or NaN); a finite result
 * is compared within {@code 1e-5·|e| + 3e-5·s + 2^-126}, {@code s} the largest finite magnitude of the expected
 * tensor, which admits float32 rounding but not a saturated, overflowed or misplaced value. Batch norm's expected
 * values are PyTorch's in float64 (the script says why). {@link #CHOSEN} lists where Backprop differs on purpose,
 * {@link #ALSO} where backends differ among themselves; empty batches, whose mean PyTorch answers with NaN, and
 * probabilities outside [0, 1] for BCE, which it refuses, are held to the behaviour their Javadoc documents.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class TorchEdgeCases {
    static final String RESOURCE = "torch-edges.txt";
    private static final DType F32 = DType.FLOAT32;
    /** Below float32's normal range, where PyTorch flushes σ'(88) to 0 and Backprop keeps e^-88·g. */
    private static final double SUBNORMAL = 0x1p-126;
    /**
     * Backprop's own answers where it differs from PyTorch by design, by case and role. ReLU's gradient is
     * {@code 1[z > 0]·g} (MATH.md), so a NaN input passes no gradient; PyTorch's {@code z <= 0 ? 0 : g} passes it.
     * Max pooling sends a window's gradient to its first NaN ({@link dev.backprop.tensor.Pooling}); PyTorch's scan
     * ({@code v > max || isnan(v)}) ends on the last. abs' gradient at NaN is NaN here and 0 in PyTorch (its
     * {@code sign(NaN)} is 0); {@code UnaryEdgeCases} holds every backend to that.
     */
    private static final Map<String, double[]> CHOSEN = Map.of("relu_nan grad", new double[] {0, 1},
            "maxpool_nan grad", new double[] {1, 0, 0, 2, 0, 0, 0, 0});
    /**
     * A second answer a backend may give instead of PyTorch's. A FLOAT32 sum is accumulated in double on cpu (and
     * the reference) but in float on opencl, as in PyTorch: a mean of finite values whose sum passes the float
     * range is the exact mean on the one and +inf on the others.
     */
    private static final Map<String, double[]> ALSO = Map.of("mean_overflow out",
            new double[] {(float) ((2.0 * 3e38f - 1) / 3)});

    private TorchEdgeCases() {
    }

    /** A tensor of the reference file: its dimensions and values. */
    private record Data(int[] dims, double[] values) {
    }

    /** One case: the op and its settings, its tensors by role (in file order), or PyTorch's error. */
    private record Case(String name, String op, Map<String, String> settings, Map<String, List<Data>> roles,
                        String error) {
        Data one(String role) {
            List<Data> d = roles.get(role);
            assertNotNull(d, RESOURCE + ": case " + name + " has no " + role);
            return d.get(0);
        }

        double number(String key) {
            return Double.parseDouble(settings.get(key));
        }
    }

    static Stream<DynamicTest> cases(Backend be) {
        return load().stream().map(c -> DynamicTest.dynamicTest(c.name() + " vs PyTorch", () -> run(be, c)));
    }

    private static void run(Backend be, Case c) {
        try (Scope s = Scope.open()) {
            switch (c.op()) {
                case "softmax" -> elementwise(be, c, Ops::softmax);
                case "log_softmax" -> elementwise(be, c, Ops::logSoftmax);
                case "relu" -> elementwise(be, c, Ops::relu);
                case "sigmoid" -> elementwise(be, c, Ops::sigmoid);
                case "tanh" -> elementwise(be, c, Ops::tanh);
                case "abs" -> elementwise(be, c, Ops::abs);
                case "sqrt" -> elementwise(be, c, Ops::sqrt);
                case "log" -> elementwise(be, c, Ops::log);
                case "exp" -> elementwise(be, c, Ops::exp);
                case "pow" -> elementwise(be, c, x -> Ops.pow(x, c.number("exponent")));
                case "clamp" -> elementwise(be, c, x -> Ops.clamp(x, c.number("lo"), c.number("hi")));
                case "threshold" -> elementwise(be, c, Ops::threshold);
                case "sum" -> elementwise(be, c, x -> Ops.reshape(Ops.sum(x), 1));
                case "mean" -> elementwise(be, c, x -> Ops.reshape(Ops.mean(x), 1));
                case "maxpool" -> elementwise(be, c, x -> Ops.maxPool2d(x, k(c), k(c), st(c), st(c), pad(c), pad(c)));
                case "avgpool" -> elementwise(be, c, x -> Ops.avgPool2d(x, k(c), k(c), st(c), st(c), pad(c), pad(c),
                        c.settings().get("count_include_pad").equals("True")));
                case "cross_entropy" -> loss(be, c, crossEntropy(c));
                case "bce" -> loss(be, c, new BinaryCrossEntropy());
                case "bce_with_logits" -> loss(be, c, new BinaryCrossEntropyWithLogits());
                case "mse" -> loss(be, c, new SquaredError());
                case "batchnorm1d", "batchnorm2d" -> batchNorm(be, c);
                case "sgd", "adam", "adam-l2", "adamw" -> optimizer(be, c);
                default -> {
                    if (!c.op().startsWith("dropout_p=")) {
                        throw new IllegalStateException(RESOURCE + ": unknown op " + c.op());
                    }
                    dropout(be, c);
                }
            }
        }
    }

    private static int k(Case c) {
        return (int) c.number("kernel");
    }

    private static int st(Case c) {
        return (int) c.number("stride");
    }

    private static int pad(Case c) {
        return (int) c.number("padding");
    }

    /** {@code out = f(x)} and the gradient of x for the upstream gradient {@code g}. */
    private static void elementwise(Backend be, Case c, UnaryOperator<Variable> f) {
        Variable x = Variable.leaf(tensor(be, c.one("x")));
        try (Tape t = Tape.open()) {
            Variable y = f.apply(x);
            y.backward(tensor(be, c.one("g")));
            assertAgree(c, "out", y.value().toDoubles());
        }
        assertAgree(c, "grad", x.grad().toDoubles());
    }

    /** Plain, or with the case's {@code weight}, {@code label_smoothing} and {@code reduction} when it names them. */
    private static SoftmaxCrossEntropy crossEntropy(Case c) {
        SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder();
        String weight = c.settings().get("weight");
        if (weight != null) {
            b.weights(java.util.Arrays.stream(weight.split(",")).mapToDouble(Double::parseDouble).toArray());
        }
        if (c.settings().containsKey("label_smoothing")) {
            b.labelSmoothing(c.number("label_smoothing"));
        }
        if ("sum".equals(c.settings().get("reduction"))) {
            b.reduction(Reduction.SUM);
        }
        return b.build();
    }

    private static void loss(Backend be, Case c, Loss loss) {
        Variable x = Variable.leaf(tensor(be, c.one("x")));
        Tensor target = c.op().equals("cross_entropy") ? labels(be, c.one("labels")) : tensor(be, c.one("target"));
        if (x.value().size() == 0) {
            // PyTorch's mean over no elements is NaN; Backprop names the empty batch instead.
            assertTrue(Double.isNaN(c.one("out").values()[0]), c.name() + ": PyTorch's answer is NaN");
            RuntimeException e = assertThrows(RuntimeException.class, () -> loss.compute(x, target), c.name());
            assertTrue(e.getMessage().contains(x.shape().toString()) && !e.getMessage().contains("\n"),
                    c.name() + ": a one-line refusal naming the shape " + x.shape() + ", got: " + e.getMessage());
            return;
        }
        try (Tape t = Tape.open()) {
            Variable value = loss.compute(x, target);
            if (c.error() != null) {
                // PyTorch refuses probabilities outside [0, 1]; Backprop answers NaN (BinaryCrossEntropy says why).
                assertTrue(Double.isNaN(value.value().toDoubles()[0]), c.name() + ": PyTorch refuses it ("
                        + c.error() + "), Backprop must give NaN, got " + value.value().toDoubles()[0]);
                return;
            }
            value.backward();
            assertAgree(c, "out", value.value().toDoubles());
        }
        assertAgree(c, "grad", x.grad().toDoubles());
    }

    /** A freshly built batch norm (γ = 1, β = 0) in training: {@code steps} forward passes, the last one backward. */
    private static void batchNorm(Backend be, Case c) {
        boolean spatial = c.op().equals("batchnorm2d");
        if (c.error() != null) {
            int[] dims = spatial ? new int[] {1, 2, 1, 1} : new int[] {1, 3};
            try (Sequential bn = batchNormModel(be, spatial, dims[1])) {
                Variable x = Variable.constant(Tensor.zeros(be, F32, dims));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.forward(x),
                        "PyTorch refuses it: " + c.error());
                assertRefusal(c, e, "more than 1 value per channel");
                assertTrue(e.getMessage().contains(java.util.Arrays.toString(dims)), e.getMessage());
                assertEquals(0, bn.counters().get("0.num_batches_tracked")[0], "the refused batch changed nothing");
                double[] mean = bn.buffers().get("0.running_mean").toDoubles();
                assertTrue(java.util.Arrays.stream(mean).allMatch(v -> v == 0), "the refused batch moved the mean");
            }
            return;
        }
        Data in = c.one("x");
        int steps = (int) c.number("steps");
        try (Sequential bn = batchNormModel(be, spatial, in.dims()[1])) {
            Variable x = Variable.leaf(tensor(be, in));
            for (int i = 1; i < steps; i++) {
                try (Tape t = Tape.open()) {
                    bn.forward(x);
                }
            }
            try (Tape t = Tape.open()) {
                Variable y = bn.forward(x);
                y.backward(tensor(be, c.one("g")));
                assertAgree(c, "out", y.value().toDoubles());
            }
            assertAgree(c, "grad", x.grad().toDoubles());
            assertAgree(c, "running_mean", bn.buffers().get("0.running_mean").toDoubles());
            assertAgree(c, "running_var", bn.buffers().get("0.running_var").toDoubles());
        }
    }

    private static Sequential batchNormModel(Backend be, boolean spatial, int channels) {
        Sequential.Builder b = Sequential.builder(be, F32).seed(0);
        return (spatial ? b.batchNorm2d(channels) : b.batchNorm1d(channels)).build();
    }

    private static void dropout(Backend be, Case c) {
        double p = Double.parseDouble(c.op().substring("dropout_p=".length()));
        if (c.error() != null) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Sequential.builder(be, F32).seed(0).dropout(p).build().close(), "PyTorch: " + c.error());
            assertRefusal(c, e, "dropout probability");
            assertTrue(e.getMessage().contains(String.valueOf(p)), "the message names " + p + ": " + e.getMessage());
            return;
        }
        try (Sequential model = Sequential.builder(be, F32).seed(0).dropout(p).build()) {
            elementwise(be, c, model::forward);
        }
    }

    /** The parameter after each step of the optimizer, its gradient set by {@code sum(θ·g)}. */
    private static void optimizer(Backend be, Case c) {
        Variable theta = Variable.parameter(tensor(be, c.one("param")));
        Map<String, Variable> params = Map.of("theta", theta);
        Variable g = Variable.constant(tensor(be, c.one("grad")));
        List<Data> after = c.roles().get("after");
        try (Optimizer opt = optimizerOf(c, params)) {
            for (int k = 0; k < after.size(); k++) {
                opt.zeroGrad();
                try (Tape t = Tape.open()) {
                    Ops.sum(Ops.mul(theta, g)).backward();
                }
                opt.step();
                assertAgree(c.name() + " after step " + (k + 1), after.get(k), theta.value().toDoubles());
            }
        } finally {
            theta.close();
        }
    }

    private static Optimizer optimizerOf(Case c, Map<String, Variable> params) {
        if (c.op().equals("sgd")) {
            return Sgd.builder(params).lr(c.number("lr")).momentum(c.number("momentum"))
                    .weightDecay(c.number("weight_decay")).build();
        }
        return Adam.builder(params).lr(c.number("lr")).betas(c.number("beta1"), c.number("beta2")).eps(c.number("eps"))
                .weightDecay(c.number("weight_decay")).decoupled(c.settings().get("decoupled").equals("True")).build();
    }

    private static void assertRefusal(Case c, RuntimeException e, String phrase) {
        String m = e.getMessage();
        assertTrue(m != null && m.contains(phrase) && !m.contains("\n"),
                c.name() + ": a one-line refusal saying '" + phrase + "' (PyTorch: " + c.error() + "), got: " + m);
    }

    // ---- comparison --------------------------------------------------------------------------------------------

    private static void assertAgree(Case c, String role, double[] actual) {
        String what = c.name() + " " + role;
        Data d = c.one(role);
        if (ALSO.containsKey(what) && disagreement(ALSO.get(what), actual) < 0) {
            return;
        }
        assertAgree(what, CHOSEN.containsKey(what) ? new Data(d.dims(), CHOSEN.get(what)) : d, actual);
    }

    /** Non-finite values exactly (+inf, -inf, NaN), finite ones within the class comment's bound. */
    private static void assertAgree(String what, Data expected, double[] actual) {
        double[] e = expected.values();
        assertEquals(e.length, actual.length, what + ": element count");
        int i = disagreement(e, actual);
        if (i >= 0) {
            fail(what + ": element " + i + " is " + actual[i] + ", PyTorch has " + e[i] + " (Backprop "
                    + java.util.Arrays.toString(actual) + ", PyTorch " + java.util.Arrays.toString(e) + ")");
        }
    }

    /** The first element where {@code actual} is outside the bound around {@code e}, or -1. */
    private static int disagreement(double[] e, double[] actual) {
        double scale = 0;
        for (double v : e) {
            if (Double.isFinite(v)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.isFinite(e[i])
                    ? Math.abs(actual[i] - e[i]) <= 1e-5 * Math.abs(e[i]) + 3e-5 * scale + SUBNORMAL
                    : Double.compare(e[i], actual[i]) == 0;
            if (!ok) {
                return i;
            }
        }
        return -1;
    }

    private static Tensor tensor(Backend be, Data d) {
        return Net.tensor(be, F32, d.values(), d.dims());
    }

    private static Tensor labels(Backend be, Data d) {
        int[] l = new int[d.values().length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (int) d.values()[i];
        }
        return Tensor.of(be, l, d.dims());
    }

    // ---- the reference file ------------------------------------------------------------------------------------

    private static List<Case> load() {
        InputStream in = TorchEdgeCases.class.getResourceAsStream(RESOURCE);
        assertNotNull(in, RESOURCE + " is missing from the test class path");
        List<Case> cases = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] words = line.split(" ");
                if (words[0].equals("case")) {
                    Map<String, String> settings = new LinkedHashMap<>();
                    for (int i = 3; i < words.length; i++) {
                        String[] kv = words[i].split("=", 2);
                        settings.put(kv[0], kv[1]);
                    }
                    cases.add(new Case(words[1], words[2], settings, new LinkedHashMap<>(), null));
                    continue;
                }
                Case last = cases.get(cases.size() - 1);
                String rest = line.substring(line.indexOf(" : ") + 3);
                if (words[0].equals("error")) {
                    cases.set(cases.size() - 1, new Case(last.name(), last.op(), last.settings(), last.roles(), rest));
                    continue;
                }
                String[] head = line.substring(0, line.indexOf(" : ")).split(" ");
                int[] dims = new int[head.length - 1];
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = Integer.parseInt(head[i + 1]);
                }
                double[] values = rest.isBlank() ? new double[0]
                        : java.util.Arrays.stream(rest.split(" ")).mapToDouble(Double::parseDouble).toArray();
                last.roles().computeIfAbsent(words[0], k -> new ArrayList<>()).add(new Data(dims, values));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(78, cases.size(), RESOURCE + ": cases");
        return cases;
    }
}
