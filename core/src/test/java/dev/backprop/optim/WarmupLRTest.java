package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * WarmupLR against PyTorch 1.13's rates ({@code warmup-rates.txt}, written by
 * {@code core/src/test/python/warmup_fixtures.py}): torchvision's {@code SequentialLR([LinearLR or ConstantLR,
 * main], milestones=[E])}, one rate per epoch. PyTorch steps LinearLR, StepLR and CosineAnnealingLR by their
 * recursive ({@code get_lr}) forms, which multiply the previous rate, so its rates round differently from the closed
 * forms here: they agree to 1e-15 relative. ConstantLR's warmup rate {@code lr·factor} and the rate at the milestone
 * (the main scheduler's {@code step(0)} uses its closed form: the base rate) are computed the same way on both sides
 * and compared exactly.
 */
class WarmupLRTest {
    private static final String RATES = "/dev/backprop/optim/warmup-rates.txt";
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private Sgd sgd(double lr) {
        Tensor w = Tensor.zeros(backend, DType.FLOAT64, 1);
        return new Sgd(Map.of("w", Variable.parameter(w)), lr);
    }

    /** One case of {@code warmup-rates.txt}. */
    private record Case(String method, double factor, int warmup, String main, int stepSize, double gamma, int tMax,
                        double lr, double[] rates) {
        /** The schedule of this case over {@code opt}: the main schedule alone when there is no warmup. */
        LearningRateSchedule schedule(Optimizer opt) {
            LearningRateSchedule m = switch (main) {
                case "step" -> new StepLR(opt, stepSize, gamma);
                case "cosine" -> new CosineAnnealingLR(opt, tMax, 0);
                default -> null;
            };
            if (warmup == 0) {
                return m;
            }
            return new WarmupLR(opt, WarmupLR.Method.valueOf(method.toUpperCase(Locale.ROOT)), warmup, factor, m);
        }
    }

    private static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (InputStream in = WarmupLRTest.class.getResourceAsStream(RATES)) {
            assertNotNull(in, RATES);
            String[] c = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "case" -> c = f;
                    case "rates" -> {
                        assertNotNull(c, line);
                        double[] r = new double[f.length - 1];
                        for (int i = 0; i < r.length; i++) {
                            r[i] = Double.parseDouble(f[i + 1]);
                        }
                        out.add(new Case(c[1], Double.parseDouble(c[2]), Integer.parseInt(c[3]), c[4],
                                Integer.parseInt(c[5]), Double.parseDouble(c[6]), Integer.parseInt(c[7]),
                                Double.parseDouble(c[8]), r));
                        c = null;
                    }
                    default -> fail("unexpected line in " + RATES + ": " + line);
                }
            }
        }
        return out;
    }

    /** The optimizer's rate in each of {@code epochs} epochs, read before the schedule's step, as a trainer does. */
    private double[] run(Case c, int epochs) {
        try (Sgd opt = sgd(c.lr())) {
            LearningRateSchedule s = c.schedule(opt);
            double[] out = new double[epochs];
            for (int e = 0; e < epochs; e++) {
                out[e] = opt.learningRate();
                if (s != null) {
                    s.step();
                }
            }
            return out;
        }
    }

    @Test
    void followsPyTorchsSequentialLR() throws IOException {
        List<Case> cases = cases();
        assertEquals(168, cases.size());
        for (Case c : cases) {
            double[] got = run(c, c.rates().length);
            for (int e = 0; e < got.length; e++) {
                String where = c + " epoch " + e;
                double want = c.rates()[e];
                boolean exact = e == c.warmup() || (c.method().equals("constant") && e < c.warmup());
                if (exact) {
                    assertEquals(want, got[e], 0, where);
                } else {
                    assertEquals(want, got[e], 1e-15 * want, where);
                }
            }
        }
    }

    @Test
    void restoresEveryEpochToTheSameContinuation() throws IOException {
        for (Case c : cases()) {
            int n = c.rates().length + 3;
            double[] whole = run(c, n);
            for (int k = 0; k <= n; k++) {
                try (Sgd opt = sgd(c.lr())) {
                    LearningRateSchedule s = c.schedule(opt);
                    if (s == null) {
                        continue;
                    }
                    s.restore(k);
                    assertEquals(k, s.epoch());
                    for (int e = k; e < n; e++) {
                        assertEquals(whole[e], opt.learningRate(), 0, c + " restored at " + k + ", epoch " + e);
                        s.step();
                    }
                }
            }
        }
    }

    @Test
    void linearWarmupWorkedNumbers() {
        // torchvision: lr 0.1, --lr-warmup-epochs 4 --lr-warmup-decay 0.2: 0.1·(0.2 + 0.8·e/4) for e < 4, then 0.1.
        try (Sgd opt = sgd(0.1)) {
            WarmupLR s = new WarmupLR(opt, WarmupLR.Method.LINEAR, 4, 0.2, null);
            double[] want = {0.1 * 0.2, 0.1 * 0.4, 0.1 * 0.6000000000000001, 0.1 * 0.8, 0.1, 0.1};
            for (int e = 0; e < want.length; e++) {
                assertEquals(want[e], opt.learningRate(), 1e-17, "epoch " + e);
                s.step();
            }
            assertEquals("linear-warmup", s.type());
            assertEquals(Map.of("base_lr", 0.1, "warmup_epochs", 4.0, "warmup_factor", 0.2), s.settings());
        }
    }

    @Test
    void recordsTheMainScheduleInTypeAndSettings() {
        try (Sgd opt = sgd(0.05)) {
            StepLR main = new StepLR(opt, 3, 0.5);
            WarmupLR s = new WarmupLR(opt, WarmupLR.Method.CONSTANT, 2, 0.1, main);
            assertEquals("constant-warmup+step", s.type());
            assertEquals(List.of("base_lr", "warmup_epochs", "warmup_factor", "step_size", "gamma"),
                    new ArrayList<>(s.settings().keySet()));
            assertEquals(0.005, opt.learningRate(), 1e-18);
            assertEquals(0.05 * 0.5, s.rateAt(2 + 3));
        }
    }

    @Test
    void refusesBadSettingsInOneLine() {
        try (Sgd opt = sgd(0.1)) {
            for (double factor : new double[]{0, -0.5, 1.5, Double.NaN}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new WarmupLR(opt, WarmupLR.Method.LINEAR, 3, factor, null));
                assertEquals("WarmupLR: needs epochs >= 1 and a factor in (0, 1], got epochs=3, factor=" + factor,
                        e.getMessage());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new WarmupLR(opt, WarmupLR.Method.LINEAR, 0, 0.5, null));
            assertEquals("WarmupLR: needs epochs >= 1 and a factor in (0, 1], got epochs=0, factor=0.5",
                    e.getMessage());
            assertEquals(0.1, opt.learningRate(), "a refused warmup leaves the rate alone");
            StepLR main = new StepLR(opt, 2, 0.5);
            opt.setLearningRate(0.2);
            e = assertThrows(IllegalArgumentException.class,
                    () -> new WarmupLR(opt, WarmupLR.Method.LINEAR, 2, 0.5, main));
            assertTrue(e.getMessage().contains("base_lr 0.1 differs from the optimizer's rate 0.2"), e.getMessage());
            // A warmup's settings would overwrite another's in the checkpoint, which could then not tell two
            // different outer warmups apart on resume.
            WarmupLR inner = new WarmupLR(opt, WarmupLR.Method.LINEAR, 3, 1.0, null);
            e = assertThrows(IllegalArgumentException.class,
                    () -> new WarmupLR(opt, WarmupLR.Method.CONSTANT, 2, 1.0, inner));
            assertEquals("WarmupLR: the main schedule linear-warmup has its own warmup_epochs or warmup_factor, which "
                    + "would overwrite this warmup's in a checkpoint: chain one warmup before a schedule without one",
                    e.getMessage());
        }
    }
}
