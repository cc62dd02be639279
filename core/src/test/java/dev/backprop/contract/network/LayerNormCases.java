package dev.backprop.contract.network;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LayerNorm} on one backend against PyTorch 1.13's {@code nn.LayerNorm}: {@value #RESOURCE} (written by
 * {@code core/src/test/python/torch_layer_vectors.py}; its header has the command) holds, in float64, the output and
 * the gradients of the input, {@code weight} and {@code bias} for a random upstream gradient ({@code [6, 5]},
 * {@code [3, 4, 7]} with {@code eps = 1e-3}, {@code [2, 3, 4, 5]} over the last dimension, and {@code [5, 8]} without
 * affine parameters and {@code eps = 1e-6}), and the weights and losses of two SGD steps (lr 0.1, mean squared error)
 * of {@code Linear(4, 6), LayerNorm(6), Tanh(), Linear(6, 3)}. Each runs in FLOAT64 (within 1e-10) and FLOAT32
 * (within {@code 1e-5·(1 + max|e|)} plus {@code 1e-4·|e|}). Central finite differences check the layer's gradients
 * in FLOAT64 with and without affine parameters, on rank-2, rank-3 and rank-4 inputs of up to 96 features. Edge
 * cases: FLOAT32 rows of 4096 values with a large mean, one feature, NaN and infinities, an empty batch; and live
 * memory flat over training steps.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class LayerNormCases {
    static final String RESOURCE = "/dev/backprop/nn/torch-layers.safetensors";

    private LayerNormCases() {
    }

    /** PyTorch's tensors, by {@code CASE.ROLE}, and each case's settings. */
    private record Vectors(Map<String, double[]> values, Map<String, int[]> dims, JsonObject cases) {
        double[] get(String name) {
            double[] v = values.get(name);
            if (v == null) {
                throw new IllegalStateException(RESOURCE + " has no tensor " + name);
            }
            return v;
        }
    }

    static Stream<DynamicTest> cases(Backend be) {
        Vectors v = load();
        List<DynamicTest> t = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : v.cases().entrySet()) {
            String name = e.getKey();
            JsonObject c = e.getValue().getAsJsonObject();
            String layer = c.get("layer").getAsString();
            for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                if (layer.equals("layernorm")) {
                    t.add(DynamicTest.dynamicTest(name + " " + dt + " vs PyTorch", () -> layer(be, dt, v, name, c)));
                } else if (layer.equals("layernorm_mlp_sgd")) {
                    t.add(DynamicTest.dynamicTest(name + " " + dt + " vs PyTorch", () -> sgd(be, dt, v, name, c)));
                }
            }
        }
        assertEquals(10, t.size(), "layer norm cases in " + RESOURCE);
        t.add(DynamicTest.dynamicTest("finite differences, affine [5, 6]", () -> gradients(be, 6, 1e-5, true, 5, 6)));
        t.add(DynamicTest.dynamicTest("finite differences, no affine [4, 7]", () -> gradients(be, 7, 1e-5, false, 4,
                7)));
        t.add(DynamicTest.dynamicTest("finite differences, affine [2, 3, 2, 5], eps 1e-3", () -> gradients(be, 5, 1e-3,
                true, 2, 3, 2, 5)));
        t.add(DynamicTest.dynamicTest("finite differences, affine [3, 64]", () -> gradients(be, 64, 1e-5, true, 3,
                64)));
        t.add(DynamicTest.dynamicTest("finite differences, no affine [2, 2, 96]", () -> gradients(be, 96, 1e-5, false,
                2, 2, 96)));
        t.add(DynamicTest.dynamicTest("FLOAT32 rows of 4096 around 1000 keep their small spread",
                () -> largeMean(be)));
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            t.add(DynamicTest.dynamicTest(dt + " one feature gives the bias, no input gradient", () -> oneFeature(be,
                    dt)));
            t.add(DynamicTest.dynamicTest(dt + " NaN and infinity spoil only their own row", () -> nonFinite(be, dt)));
            t.add(DynamicTest.dynamicTest(dt + " an empty batch", () -> emptyBatch(be, dt)));
        }
        t.add(DynamicTest.dynamicTest("memory is flat across training steps", () -> flatMemory(be)));
        return t.stream();
    }

    /** The file read once on the float64 reference backend into host arrays; the file is a resource of a jar. */
    private static Vectors load() {
        Map<String, double[]> values = new HashMap<>();
        Map<String, int[]> dims = new HashMap<>();
        try (InputStream in = LayerNormCases.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the test resources");
            }
            Path tmp = Files.createTempFile("torch-layers", ".safetensors");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                try (SafeTensorsFile f = SafeTensorsFile.open(tmp); ReferenceBackend ref = new ReferenceBackend()) {
                    for (Map.Entry<String, int[]> e : f.shapes().entrySet()) {
                        if (e.getKey().startsWith("ln_")) {
                            try (Tensor x = f.read(e.getKey(), ref, DType.FLOAT64)) {
                                values.put(e.getKey(), x.toDoubles());
                                dims.put(e.getKey(), e.getValue());
                            }
                        }
                    }
                    return new Vectors(values, dims, JsonParser.parseString(f.metadata().get("cases"))
                            .getAsJsonObject());
                }
            } finally {
                Files.delete(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code 1e-10} in FLOAT64; in FLOAT32 {@code 1e-5} of the tensor's largest magnitude, and {@code 1e-4·|e|}. */
    private static void close(String what, DType dt, double[] expected, double[] actual) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        boolean f64 = dt == DType.FLOAT64;
        Net.assertClose(what, expected, actual, f64 ? 1e-10 : 1e-5 * (1 + scale), f64 ? 1e-10 : 1e-4);
    }

    /** PyTorch's forward and backward of one {@code nn.LayerNorm}: output, input, weight and bias gradients. */
    private static void layer(Backend be, DType dt, Vectors v, String name, JsonObject c) {
        Net.assumeSupported(be, dt);
        boolean affine = c.get("affine").getAsBoolean();
        int[] dims = v.dims().get(name + ".x");
        try (Scope s = Scope.open();
             LayerNorm ln = new LayerNorm(c.get("features").getAsInt(), c.get("eps").getAsDouble(), affine,
                     (param, shape, role, fanIn, fanOut) -> Net.tensor(be, dt, v.get(name + "." + param), shape))) {
            Variable x = Variable.leaf(Net.tensor(be, dt, v.get(name + ".x"), dims));
            try (Tape tape = Tape.open()) {
                Variable y = ln.forward(x);
                assertEquals(java.util.Arrays.toString(dims), java.util.Arrays.toString(y.shape().dims()), name);
                close(name + " out", dt, v.get(name + ".out"), y.value().toDoubles());
                y.backward(Net.tensor(be, dt, v.get(name + ".grad_out"), dims));
            }
            close(name + " grad_x", dt, v.get(name + ".grad_x"), x.grad().toDoubles());
            assertEquals(affine ? 2 : 0, ln.parameters().size(), name + " parameters");
            if (affine) {
                close(name + " grad_weight", dt, v.get(name + ".grad_weight"),
                        ln.parameters().get("weight").grad().toDoubles());
                close(name + " grad_bias", dt, v.get(name + ".grad_bias"),
                        ln.parameters().get("bias").grad().toDoubles());
            }
        }
    }

    /**
     * PyTorch's {@code torch.optim.SGD} steps on {@code Linear(4, 6), LayerNorm(6), Tanh(), Linear(6, 3)} with
     * {@code F.mse_loss}: the loss before each step and every weight after it. The network is built from its spec, so
     * {@link Layers#create} and the {@code state_dict} names are part of the check.
     */
    private static void sgd(Backend be, DType dt, Vectors v, String name, JsonObject c) {
        Net.assumeSupported(be, dt);
        LayerSpec spec = new LayerSpec("sequential", Map.of(), List.of(
                LayerSpec.of("dense", denseArgs(4, 6)), LayerNorm.spec(6, LayerNorm.EPS, true),
                Activation.tanh().spec(), LayerSpec.of("dense", denseArgs(6, 3))));
        int steps = c.get("steps").getAsInt();
        try (Scope s = Scope.open();
             Layer model = Layers.create(spec, (param, shape, role, fanIn, fanOut) -> Net.tensor(be, dt,
                     v.get(name + ".0." + param), shape))) {
            Tensor x = Net.tensor(be, dt, v.get(name + ".x"), 5, 4);
            Tensor target = Net.tensor(be, dt, v.get(name + ".target"), 5, 3);
            Optimizer opt = Sgd.builder(model.parameters()).lr(c.get("lr").getAsDouble()).build();
            for (int step = 0; step < steps; step++) {
                model.zeroGrad();
                double loss;
                try (Tape tape = Tape.open()) {
                    Variable l = new SquaredError().compute(model.forward(Variable.constant(x)), target);
                    l.backward();
                    loss = l.value().item();
                }
                opt.step();
                close(name + " loss before step " + (step + 1), dt, v.get(name + ".loss." + step),
                        new double[] {loss});
                for (Map.Entry<String, Variable> p : model.parameters().entrySet()) {
                    close(name + " " + p.getKey() + " after step " + (step + 1), dt,
                            v.get(name + "." + (step + 1) + "." + p.getKey()), p.getValue().value().toDoubles());
                }
            }
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"),
                    List.copyOf(model.parameters().keySet()), "state_dict names");
            if (model instanceof Sequential seq) {
                assertEquals(LayerNorm.class, seq.layers().get(1).getClass(), "layer 1");
            }
        }
    }

    private static Map<String, Integer> denseArgs(int in, int out) {
        Map<String, Integer> m = new java.util.LinkedHashMap<>();
        m.put("in", in);
        m.put("out", out);
        m.put("bias", 1);
        return m;
    }

    /**
     * Rows of 4096 FLOAT32 values {@code 1000 + u}, {@code u} uniform in [-0.05, 0.05): the normalized output within
     * {@code 2e-3} of float64 arithmetic on the same float32 inputs. Per-row mean and variance from sums of
     * {@code x} and {@code x²} (one pass) cancel: their error here is about 14. PyTorch's float32 CPU kernel
     * ({@code x·rstd + (-mean·rstd)}, its mean and variance by Welford), emulated, is about 4e-3 away; the two-pass
     * form subtracts a mean that is within half a float ulp of the true one (6e-5 at 1000), about 1e-3 here.
     */
    private static void largeMean(Backend be) {
        int rows = 3, features = 4096;
        double[] x = Net.uniform(65, rows * features, -0.05, 0.05);
        double[] expected = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = r * features; i < (r + 1) * features; i++) {
                x[i] = (float) (1000 + x[i]);
                mean += x[i] / features;
            }
            for (int i = r * features; i < (r + 1) * features; i++) {
                var += (x[i] - mean) * (x[i] - mean) / features;
            }
            for (int i = r * features; i < (r + 1) * features; i++) {
                expected[i] = (x[i] - mean) / Math.sqrt(var + LayerNorm.EPS);
            }
        }
        try (Scope s = Scope.open(); LayerNorm ln = new LayerNorm(features, LayerNorm.EPS, false, null)) {
            Variable y = ln.forward(Variable.constant(Net.tensor(be, DType.FLOAT32, x, rows, features)));
            Net.assertClose("4096 features around 1000", expected, y.value().toDoubles(), 2e-3, 0);
        }
    }

    /**
     * {@code nn.LayerNorm(1)}: each value is its row's mean, the variance is 0, so the output is {@code bias} and the
     * input's gradient 0 (PyTorch gives the same); the weight's gradient is 0 and the bias's the upstream sums.
     */
    private static void oneFeature(Backend be, DType dt) {
        Net.assumeSupported(be, dt);
        try (Scope s = Scope.open(); LayerNorm ln = new LayerNorm(1, LayerNorm.EPS, true,
                (param, shape, role, fanIn, fanOut) -> Net.tensor(be, dt, new double[] {param.equals("weight") ? 3
                        : -0.75}, shape))) {
            Variable x = Variable.leaf(Net.tensor(be, dt, new double[] {5, -2, 1e6, 0}, 2, 2, 1));
            try (Tape tape = Tape.open()) {
                Variable y = ln.forward(x);
                Net.assertIdentical("output", new double[] {-0.75, -0.75, -0.75, -0.75}, y.value().toDoubles());
                y.backward(Net.tensor(be, dt, new double[] {1, 2, -0.5, 4}, 2, 2, 1));
            }
            Net.assertIdentical("grad_x", new double[] {0, 0, 0, 0}, x.grad().toDoubles());
            Net.assertIdentical("grad_weight", new double[] {0}, ln.parameters().get("weight").grad().toDoubles());
            Net.assertIdentical("grad_bias", new double[] {6.5}, ln.parameters().get("bias").grad().toDoubles());
        }
    }

    /**
     * As in PyTorch, a row holding NaN or an infinity gives NaN throughout (an infinite mean minus itself), and the
     * other rows are untouched.
     */
    private static void nonFinite(Backend be, DType dt) {
        Net.assumeSupported(be, dt);
        double[] x = {1, 2, 3, Double.NaN, 1, 2, 3, 4, 1, Double.POSITIVE_INFINITY, 3, 4, Double.NEGATIVE_INFINITY, 2,
            3, 4};
        try (Scope s = Scope.open(); LayerNorm ln = new LayerNorm(4, LayerNorm.EPS, false, null)) {
            double[] y = ln.forward(Variable.constant(Net.tensor(be, dt, x, 4, 4))).value().toDoubles();
            double[] clean = ln.forward(Variable.constant(Net.tensor(be, dt, new double[] {1, 2, 3, 4}, 1, 4)))
                    .value().toDoubles();
            for (int i = 0; i < 16; i++) {
                if (i / 4 == 1) {
                    assertEquals(clean[i % 4], y[i], "element " + i + " (a finite row)");
                } else {
                    assertTrue(Double.isNaN(y[i]), "element " + i + " of a row with NaN or inf: " + y[i]);
                }
            }
        }
    }

    /**
     * An empty batch, which the dense layers and activations take: PyTorch's {@code nn.LayerNorm} gives an empty
     * output, and its parameters' gradients are zeros.
     */
    private static void emptyBatch(Backend be, DType dt) {
        Net.assumeSupported(be, dt);
        try (Scope s = Scope.open(); LayerNorm ln = new LayerNorm(4, LayerNorm.EPS, true,
                (param, shape, role, fanIn, fanOut) -> Net.tensor(be, dt, new double[] {1, 2, 3, 4}, shape))) {
            Variable x = Variable.leaf(Net.tensor(be, dt, new double[0], 0, 4));
            try (Tape tape = Tape.open()) {
                Variable y = ln.forward(x);
                assertEquals("[0, 4]", java.util.Arrays.toString(y.shape().dims()));
                y.backward(Net.tensor(be, dt, new double[0], 0, 4));
            }
            assertEquals(0, x.grad().toDoubles().length);
            Net.assertIdentical("grad_bias", new double[] {0, 0, 0, 0}, ln.parameters().get("bias").grad().toDoubles());
        }
    }

    /**
     * Twenty SGD steps of {@code Linear(8, 16), LayerNorm(16), ReLU, Linear(16, 3)}: the backend's live buffers and
     * bytes after every step equal those after the first (the layer's temporaries are the tape's, freed with it).
     */
    private static void flatMemory(Backend be) {
        try (Scope s = Scope.open(); Sequential m = Sequential.builder(be, DType.FLOAT32).seed(66).dense(8, 16)
                .layerNorm(16).relu().dense(16, 3).build()) {
            Tensor x = Net.tensor(be, DType.FLOAT32, Net.uniform(67, 40, -1, 1), 5, 8);
            Tensor target = Net.tensor(be, DType.FLOAT32, Net.uniform(68, 15, -1, 1), 5, 3);
            Optimizer opt = Sgd.builder(m.parameters()).lr(0.1).build();
            long buffers = -1, bytes = -1;
            for (int step = 0; step < 20; step++) {
                m.zeroGrad();
                try (Tape tape = Tape.open()) {
                    new SquaredError().compute(m.forward(Variable.constant(x)), target).backward();
                }
                opt.step();
                if (step == 0) {
                    buffers = be.memoryStats().liveBuffers();
                    bytes = be.memoryStats().liveBytes();
                }
                assertEquals(buffers, be.memoryStats().liveBuffers(), "live buffers after step " + (step + 1));
                assertEquals(bytes, be.memoryStats().liveBytes(), "live bytes after step " + (step + 1));
            }
        }
    }

    /** Central finite differences of a layer norm for its input and, when affine, its weight and bias. */
    private static void gradients(Backend be, int features, double eps, boolean affine, int... dims) {
        Net.assumeSupported(be, DType.FLOAT64);
        double[] w = Net.uniform(61, features, 0.5, 1.5), b = Net.uniform(62, features, -1, 1);
        try (Scope s = Scope.open();
             LayerNorm ln = new LayerNorm(features, eps, affine, (param, shape, role, fanIn, fanOut) ->
                     Net.tensor(be, DType.FLOAT64, param.equals("weight") ? w : b, shape))) {
            Variable x = Variable.leaf(Net.tensor(be, DType.FLOAT64, Net.uniform(63, Net.count(dims), -2, 2), dims));
            List<Variable> leaves = new ArrayList<>();
            leaves.add(x);
            leaves.addAll(ln.parameters().values());
            GradCheck.check(ln.toString(), 64, in -> ln.forward(in.get(0)), leaves);
        }
    }
}
