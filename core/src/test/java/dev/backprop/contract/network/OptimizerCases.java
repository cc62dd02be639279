package dev.backprop.contract.network;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.DType;
import dev.backprop.optim.Adam;
import dev.backprop.optim.CosineAnnealingLR;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import dev.backprop.tensor.Scope;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.DoubleStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Optimizer steps against PyTorch's formulas computed here on the host in double precision, over several steps
 * with changing gradients (so momentum and Adam's bias correction {@code 1-β^t} are exercised), in FLOAT32 and,
 * where supported, FLOAT64; gradient clipping; learning-rate schedules; and bad settings.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class OptimizerCases {
    private static final int STEPS = 4;

    private OptimizerCases() {
    }

    /** One optimizer on the host: updates {@code theta} in place from {@code g} at step {@code t} (from 1). */
    private interface HostRule {
        void step(double[] theta, double[] g, double[][] state, int t);
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            t.add(step(be, dt, "sgd lr=0.1", p -> new Sgd(p, 0.1), (th, g, s, k) -> {
                for (int i = 0; i < th.length; i++) {
                    th[i] -= 0.1 * g[i];
                }
            }));
            t.add(step(be, dt, "sgd momentum=0.9 weight_decay=0.01",
                    p -> Sgd.builder(p).lr(0.05).momentum(0.9).weightDecay(0.01).build(),
                    (th, g, s, k) -> momentum(th, g, s, 0.05, 0.9, 0.01, false)));
            t.add(step(be, dt, "sgd nesterov momentum=0.8",
                    p -> Sgd.builder(p).lr(0.05).momentum(0.8).nesterov(true).build(),
                    (th, g, s, k) -> momentum(th, g, s, 0.05, 0.8, 0, true)));
            t.add(step(be, dt, "adam lr=0.01", p -> Adam.adam(p, 0.01),
                    (th, g, s, k) -> adam(th, g, s, k, 0.01, 0.9, 0.999, 1e-8, 0, false)));
            t.add(step(be, dt, "adam with L2 weight decay 0.1",
                    p -> Adam.builder(p).lr(0.02).betas(0.8, 0.99).eps(1e-6).weightDecay(0.1).build(),
                    (th, g, s, k) -> adam(th, g, s, k, 0.02, 0.8, 0.99, 1e-6, 0.1, false)));
            t.add(step(be, dt, "adamw weight decay 0.1", p -> Adam.adamW(p, 0.02, 0.1),
                    (th, g, s, k) -> adam(th, g, s, k, 0.02, 0.9, 0.999, 1e-8, 0.1, true)));
            t.add(DynamicTest.dynamicTest(dt + " clip by global norm", () -> clipping(be, dt)));
        }
        t.add(DynamicTest.dynamicTest("StepLR and cosine schedules", () -> schedules(be)));
        t.add(DynamicTest.dynamicTest("bad settings are rejected", () -> badSettings(be)));
        return t.stream();
    }

    private static void momentum(double[] th, double[] g, double[][] s, double lr, double mu, double wd,
                                 boolean nesterov) {
        for (int i = 0; i < th.length; i++) {
            double gi = g[i] + wd * th[i];
            s[0][i] = mu * s[0][i] + gi;
            th[i] -= lr * (nesterov ? gi + mu * s[0][i] : s[0][i]);
        }
    }

    private static void adam(double[] th, double[] g, double[][] s, int t, double lr, double b1, double b2,
                             double eps, double wd, boolean decoupled) {
        for (int i = 0; i < th.length; i++) {
            double gi = g[i];
            if (decoupled) {
                th[i] -= lr * wd * th[i];
            } else {
                gi += wd * th[i];
            }
            s[0][i] = b1 * s[0][i] + (1 - b1) * gi;
            s[1][i] = b2 * s[1][i] + (1 - b2) * gi * gi;
            double mHat = s[0][i] / (1 - Math.pow(b1, t));
            double vHat = s[1][i] / (1 - Math.pow(b2, t));
            th[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
        }
    }

    private static DynamicTest step(Backend be, DType dt, String name, Function<Map<String, Variable>, Optimizer> make,
                                    HostRule rule) {
        return DynamicTest.dynamicTest(dt + " " + name, () -> {
            Net.assumeSupported(be, dt);
            double[][] theta = {Net.uniform(1, 6, -1, 1), Net.uniform(2, 3, -1, 1)};
            double[][][] state = {new double[2][6], new double[2][3]};
            try (Scope s = Scope.open()) {
                Variable w = Variable.leaf(Net.tensor(be, dt, theta[0], 2, 3));
                Variable b = Variable.leaf(Net.tensor(be, dt, theta[1], 3));
                try (Optimizer opt = make.apply(Optimizer.named(w, b))) {
                    for (int k = 1; k <= STEPS; k++) {
                        double[][] g = {Net.uniform(10 * k, 6, -2, 2), Net.uniform(10 * k + 1, 3, -2, 2)};
                        Net.set(w.grad(), g[0]);
                        Net.set(b.grad(), g[1]);
                        opt.step();
                        for (int p = 0; p < 2; p++) {
                            rule.step(theta[p], g[p], state[p], k);
                        }
                        double atol = dt == DType.FLOAT64 ? 1e-13 : 1e-6, rtol = dt == DType.FLOAT64 ? 1e-12 : 1e-5;
                        Net.assertClose(name + " step " + k + " weight", theta[0], w.value().toDoubles(), atol, rtol);
                        Net.assertClose(name + " step " + k + " bias", theta[1], b.value().toDoubles(), atol, rtol);
                        assertEquals(k, opt.stepCount());
                    }
                }
            }
        });
    }

    private static void clipping(Backend be, DType dt) {
        Net.assumeSupported(be, dt);
        double[] g1 = {3, 0, 0, 4}, g2 = {12};  // global norm 13
        try (Scope s = Scope.open()) {
            Variable a = Variable.leaf(Net.tensor(be, dt, new double[4], 2, 2));
            Variable b = Variable.leaf(Net.tensor(be, dt, new double[1], 1));
            Net.set(a.grad(), g1);
            Net.set(b.grad(), g2);
            double norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 100);
            assertEquals(13, norm, 1e-5, "norm");
            Net.assertClose("below the limit: unchanged", g1, a.grad().toDoubles(), 0, 0);
            norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 6.5);
            assertEquals(13, norm, 1e-5, "norm before clipping");
            double c = 6.5 / (13 + 1e-6);
            Net.assertClose("clipped", new double[] {3 * c, 0, 0, 4 * c}, a.grad().toDoubles(), 1e-6, 1e-6);
            Net.assertClose("clipped", new double[] {12 * c}, b.grad().toDoubles(), 1e-6, 1e-6);
            assertEquals(6.5, GradientClipping.globalNorm(List.of(a, b)), 1e-5, "norm after clipping");
            Net.set(b.grad(), new double[] {Double.NaN});
            BackpropException e = assertThrows(BackpropException.class,
                    () -> GradientClipping.clipByGlobalNorm(List.of(a, b), 1));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
            // Without the error, as torch.nn.utils.clip_grad_norm_(error_if_nonfinite=False): scaled by
            // 1/(inf + 1e-6) = 0 (inf·0 = NaN), or by NaN.
            Net.set(a.grad(), g1);
            Net.set(b.grad(), new double[] {Double.POSITIVE_INFINITY});
            assertEquals(Double.POSITIVE_INFINITY, GradientClipping.clipByGlobalNorm(List.of(a, b), 1, false));
            Net.assertIdentical("inf norm", new double[] {0, 0, 0, 0, Double.NaN},
                    DoubleStream.concat(DoubleStream.of(a.grad().toDoubles()), DoubleStream.of(b.grad().toDoubles()))
                            .toArray());
            Net.set(a.grad(), g1);
            Net.set(b.grad(), new double[] {Double.NaN});
            assertTrue(Double.isNaN(GradientClipping.clipByGlobalNorm(List.of(a, b), 1, false)), "NaN norm");
            assertTrue(DoubleStream.of(a.grad().toDoubles()).allMatch(Double::isNaN), "NaN norm: every gradient NaN");
        }
    }

    private static void schedules(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[2], 2));
            try (Sgd opt = new Sgd(Optimizer.named(w), 0.1)) {
                StepLR step = new StepLR(opt, 2, 0.5);
                double[] expected = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125};
                for (int e = 0; e < expected.length; e++) {
                    assertEquals(expected[e], opt.learningRate(), 1e-15, "StepLR epoch " + e);
                    step.step();
                }
                step.restore(4);
                assertEquals(0.025, opt.learningRate(), 1e-15, "StepLR restored to epoch 4");
                opt.setLearningRate(0.1);
                CosineAnnealingLR cos = new CosineAnnealingLR(opt, 4, 0.001);
                double[] c = {0.1, 0.001 + 0.099 * (1 + Math.cos(Math.PI / 4)) / 2, 0.0505,
                        0.001 + 0.099 * (1 + Math.cos(3 * Math.PI / 4)) / 2, 0.001};
                for (int e = 0; e < c.length; e++) {
                    assertEquals(c[e], opt.learningRate(), 1e-12, "cosine epoch " + e);
                    cos.step();
                }
            }
        }
    }

    private static void badSettings(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[2], 2));
            Variable c = Variable.constant(w.value());
            Map<String, Variable> p = Optimizer.named(w);
            assertThrows(IllegalArgumentException.class, () -> new Sgd(p, -1));
            assertThrows(IllegalArgumentException.class, () -> Sgd.builder(p).lr(0.1).nesterov(true).build());
            assertThrows(IllegalArgumentException.class, () -> Adam.builder(p).betas(1.0, 0.9));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(Map.of(), 0.1));
            assertThrows(IllegalArgumentException.class, () -> new Sgd(Optimizer.named(w, w), 0.1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Sgd(Optimizer.named(c), 0.1));
            assertTrue(e.getMessage().contains("trainable"), e.getMessage());
            try (Adam adam = Adam.adam(p, 0.1)) {
                assertEquals(List.of("0.exp_avg", "0.exp_avg_sq"), List.copyOf(adam.state().keySet()),
                        "state uses PyTorch's buffer names");
            }
        }
    }
}
