package dev.backprop.contract.network;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.SoftmaxCrossEntropy;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whole training steps against PyTorch: a small MLP (Linear 4→5, tanh, Linear 5→3, mean softmax cross-entropy)
 * trained for a few steps, each {@code zeroGrad()}, forward, backward, {@code step()} as a training loop runs
 * them, under SGD (plain, momentum with weight decay, Nesterov) and Adam, Adam with L2 decay and AdamW. The
 * weights after every step are compared with {@code torch.optim} in float64, which {@value #RESOURCE} holds
 * (written by {@code core/src/test/python/optimizer_golden.py}; its header has the command).
 *
 * <p>The error is measured against how far the optimizer moved each weight ({@code Σ|θ_j - θ_{j-1}|} over the
 * steps so far), not against the weight: an update of 1e-3 on a weight of 1 is where a wrong bias correction or
 * decay hides inside a weight-relative tolerance. The allowance adds the rounding of storing the weight once per
 * step ({@code k·u·|θ|}, u the unit roundoff).
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class OptimizerGoldenCases {
    static final String RESOURCE = "optimizer-golden.txt";
    /**
     * Allowed error per unit of movement: FLOAT64 (rounding only: about 1e-13 seen) and FLOAT32 (float gradients
     * and updates: about 1e-5 seen on the reference, cpu and opencl).
     */
    static final double F64_TOL = 1e-10;
    static final double F32_TOL = 1e-4;

    private OptimizerGoldenCases() {
    }

    /** One optimizer run of the reference: its settings and the weights after each step, by parameter name. */
    private record Run(String label, String type, Map<String, Double> h, List<Map<String, double[]>> steps) {
    }

    /** The reference file: batch, labels, initial weights and the runs. */
    private record Golden(double[] input, int[] inputDims, int[] labels, Map<String, double[]> init,
                          List<Run> runs) {
    }

    static Stream<DynamicTest> cases(Backend be) {
        Golden g = load();
        List<DynamicTest> t = new ArrayList<>();
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (Run run : g.runs()) {
                t.add(DynamicTest.dynamicTest(dt + " " + run.label() + " vs PyTorch", () -> train(be, dt, g, run)));
            }
        }
        return t.stream();
    }

    private static void train(Backend be, DType dt, Golden g, Run run) {
        Net.assumeSupported(be, dt);
        double u = dt == DType.FLOAT64 ? 0x1p-53 : 0x1p-24;
        double tol = dt == DType.FLOAT64 ? F64_TOL : F32_TOL;
        try (Scope s = Scope.open();
             Sequential model = Sequential.builder(be, dt).seed(0).dense(4, 5).tanh().dense(5, 3).build()) {
            Map<String, Variable> params = model.parameters();
            assertEquals(g.init().keySet(), params.keySet(), "parameter names (PyTorch's state_dict)");
            g.init().forEach((name, v) -> Net.set(params.get(name).value(), v));
            Variable x = Variable.constant(Net.tensor(be, dt, g.input(), g.inputDims()));
            Tensor y = Tensor.of(be, g.labels(), g.labels().length);
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            Map<String, double[]> previous = new LinkedHashMap<>(g.init());
            Map<String, double[]> moved = new LinkedHashMap<>();
            g.init().forEach((name, v) -> moved.put(name, new double[v.length]));
            try (Optimizer opt = optimizer(run, params)) {
                for (int k = 1; k <= run.steps().size(); k++) {
                    opt.zeroGrad();
                    try (Tape tape = Tape.open()) {
                        loss.compute(model.forward(x), y).backward();
                    }
                    opt.step();
                    for (Map.Entry<String, double[]> e : run.steps().get(k - 1).entrySet()) {
                        double[] expected = e.getValue(), before = previous.get(e.getKey());
                        double[] m = moved.get(e.getKey());
                        for (int i = 0; i < m.length; i++) {
                            m[i] += Math.abs(expected[i] - before[i]);
                        }
                        previous.put(e.getKey(), expected);
                        assertWithinMovement(dt + " " + run.label() + " step " + k + " " + e.getKey(), expected,
                                params.get(e.getKey()).value().toDoubles(), m, tol, k * u);
                    }
                }
            }
        }
    }

    /** Every {@code |a - e| ≤ tol·moved + rounding·|e|}; the message names the worst element and its ratio. */
    private static void assertWithinMovement(String what, double[] expected, double[] actual, double[] moved,
                                             double tol, double rounding) {
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < expected.length; i++) {
            double excess = Math.abs(actual[i] - expected[i]) - rounding * Math.abs(expected[i]);
            double ratio = excess <= 0 ? 0 : excess / moved[i];
            if (!(ratio <= tol) && (worst < 0 || ratio > worstRatio)) {
                worst = i;
                worstRatio = ratio;
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", PyTorch has " + expected[worst]
                    + ": an error of " + worstRatio + " of the distance the optimizer moved it (" + moved[worst]
                    + "), allowed " + tol);
        }
    }

    private static Optimizer optimizer(Run run, Map<String, Variable> params) {
        Map<String, Double> h = run.h();
        return switch (run.type()) {
            case "sgd" -> Sgd.builder(params).lr(h.get("lr")).momentum(h.get("momentum"))
                    .weightDecay(h.get("weight_decay")).nesterov(h.get("nesterov") != 0).build();
            case "adam", "adamw" -> Adam.builder(params).lr(h.get("lr")).betas(h.get("beta1"), h.get("beta2"))
                    .eps(h.get("eps")).weightDecay(h.get("weight_decay")).decoupled(run.type().equals("adamw")).build();
            default -> throw new IllegalStateException(RESOURCE + ": unknown optimizer " + run.type());
        };
    }

    // ---- the reference file ----------------------------------------------------------------------------------

    private static Golden load() {
        InputStream in = OptimizerGoldenCases.class.getResourceAsStream(RESOURCE);
        assertNotNull(in, RESOURCE + " is missing from the test class path");
        double[] input = null;
        int[] inputDims = null;
        int[] labels = null;
        Map<String, double[]> init = new LinkedHashMap<>();
        List<Run> runs = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] words = line.split(" ");
                switch (words[0]) {
                    case "case" -> runs.add(new Run(line.substring(5), "", Map.of(), new ArrayList<>()));
                    case "optimizer" -> runs.set(runs.size() - 1, withSettings(runs.get(runs.size() - 1), words));
                    case "input" -> {
                        inputDims = dimsOf(line, 1);
                        input = valuesOf(line);
                    }
                    case "labels" -> labels = Arrays.stream(valuesOf(line)).mapToInt(v -> (int) v).toArray();
                    case "init" -> init.put(words[1], valuesOf(line));
                    case "step" -> {
                        List<Map<String, double[]>> steps = runs.get(runs.size() - 1).steps();
                        int k = Integer.parseInt(words[1]);
                        if (steps.size() < k) {
                            steps.add(new LinkedHashMap<>());
                        }
                        steps.get(k - 1).put(words[2], valuesOf(line));
                    }
                    default -> throw new IllegalStateException(RESOURCE + ": unexpected line " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertNotNull(input, RESOURCE + " has no input");
        assertEquals(6, runs.size(), RESOURCE + ": optimizer runs");
        for (Run run : runs) {
            assertEquals(5, run.steps().size(), RESOURCE + ": steps of " + run.label());
            run.steps().forEach(step -> assertEquals(init.keySet(), step.keySet(), RESOURCE + ": " + run.label()));
        }
        return new Golden(input, inputDims, labels, init, runs);
    }

    private static Run withSettings(Run run, String[] words) {
        Map<String, Double> h = new LinkedHashMap<>();
        for (int i = 2; i < words.length; i++) {
            String[] kv = words[i].split("=", 2);
            h.put(kv[0], switch (kv[1]) {
                case "True" -> 1.0;
                case "False" -> 0.0;
                default -> Double.parseDouble(kv[1]);
            });
        }
        return new Run(run.label(), words[1], h, run.steps());
    }

    private static int[] dimsOf(String line, int skip) {
        String[] head = line.substring(0, line.indexOf(" : ")).split(" ");
        int[] d = new int[head.length - skip];
        for (int i = 0; i < d.length; i++) {
            d[i] = Integer.parseInt(head[skip + i]);
        }
        return d;
    }

    private static double[] valuesOf(String line) {
        String[] v = line.substring(line.indexOf(" : ") + 3).split(" ");
        double[] d = new double[v.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = Double.parseDouble(v[i]);
        }
        return d;
    }
}
