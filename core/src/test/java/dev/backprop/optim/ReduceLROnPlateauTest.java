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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ReduceLROnPlateau against PyTorch 1.13's own traces ({@code plateau-traces.txt}, written by
 * {@code core/src/test/python/plateau_fixtures.py}): the rate and the scheduler's best, {@code num_bad_epochs} and
 * {@code cooldown_counter} after every step, compared exactly. PyTorch's {@code ReduceLROnPlateau.step}: the metric
 * is compared with {@code is_better} ({@code a < best·(1 − threshold)} for min/rel, {@code a > best + threshold}
 * for max/abs, ...), a bad epoch increments {@code num_bad_epochs}, an epoch in cooldown decrements the cooldown
 * counter and zeroes {@code num_bad_epochs}, and {@code num_bad_epochs > patience} sets each rate to
 * {@code max(lr·factor, min_lr)} when that lowers it by more than {@code eps}, then restarts the cooldown and the
 * count.
 */
class ReduceLROnPlateauTest {
    private static final String TRACES = "/dev/backprop/optim/plateau-traces.txt";
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private Sgd sgd(double lr) {
        Tensor w = Tensor.zeros(backend, DType.FLOAT64, 1);
        return new Sgd(Map.of("w", Variable.parameter(w)), lr);
    }

    /** The optimizer's rate after each step of {@code s} over {@code metrics}. */
    private static double[] rates(ReduceLROnPlateau s, Optimizer opt, double... metrics) {
        double[] out = new double[metrics.length];
        for (int i = 0; i < metrics.length; i++) {
            s.step(metrics[i]);
            out[i] = opt.learningRate();
        }
        return out;
    }

    /** One case of {@code plateau-traces.txt}: the settings and, per step, the metric and PyTorch's results. */
    private record Trace(String label, double lr, ReduceLROnPlateau.Mode mode, double factor, int patience,
                         double threshold, ReduceLROnPlateau.ThresholdMode thresholdMode, int cooldown, double minLr,
                         double eps, List<double[]> steps) {
        /** A scheduler of these settings over {@code opt}; PyTorch's defaults through the two-argument one. */
        ReduceLROnPlateau scheduler(Optimizer opt) {
            if (label.equals("pytorch defaults")) {
                return new ReduceLROnPlateau(opt, mode);
            }
            return new ReduceLROnPlateau(opt, mode, factor, patience, threshold, thresholdMode, cooldown, minLr, eps);
        }

        ReduceLROnPlateau.State state(int step) {
            double[] s = steps.get(step);
            return new ReduceLROnPlateau.State(s[2], (int) s[3], (int) s[4]);
        }
    }

    /** The traces {@code core/src/test/python/plateau_fixtures.py} wrote with PyTorch 1.13. */
    private static List<Trace> traces() throws IOException {
        List<Trace> out = new ArrayList<>();
        try (InputStream in = ReduceLROnPlateauTest.class.getResourceAsStream(TRACES)) {
            assertNotNull(in, TRACES);
            String label = null;
            String[] settings = null;
            List<double[]> steps = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "case" -> {
                        label = line.substring("case ".length());
                        steps = new ArrayList<>();
                    }
                    case "settings" -> {
                        settings = f;
                        out.add(new Trace(label, Double.parseDouble(f[1]),
                                ReduceLROnPlateau.Mode.valueOf(f[2].toUpperCase(Locale.ROOT)),
                                Double.parseDouble(f[3]), Integer.parseInt(f[4]), Double.parseDouble(f[5]),
                                ReduceLROnPlateau.ThresholdMode.valueOf(f[6].toUpperCase(Locale.ROOT)),
                                Integer.parseInt(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]), steps));
                    }
                    case "step" -> {
                        assertNotNull(settings, line);
                        double[] s = new double[5];
                        for (int i = 0; i < s.length; i++) {
                            s[i] = Double.parseDouble(f[i + 1]);
                        }
                        steps.add(s);
                    }
                    default -> fail("unexpected line in " + TRACES + ": " + line);
                }
            }
        }
        return out;
    }

    @Test
    void followsPyTorchsTraces() throws IOException {
        List<Trace> traces = traces();
        assertEquals(12, traces.size());
        for (Trace t : traces) {
            try (Sgd opt = sgd(t.lr())) {
                ReduceLROnPlateau s = t.scheduler(opt);
                for (int i = 0; i < t.steps().size(); i++) {
                    s.step(t.steps().get(i)[0]);
                    String where = t.label() + ", step " + (i + 1);
                    assertEquals(t.steps().get(i)[1], opt.learningRate(), 0.0, where);
                    assertEquals(t.state(i), s.state(), where);
                }
            }
        }
    }

    @Test
    void resumesFromEveryStateOfPyTorchsTraces() throws IOException {
        for (Trace t : traces()) {
            for (int k = 0; k < t.steps().size(); k++) {
                // A checkpoint after step k: the optimizer's rate and the scheduler's state, then the rest.
                try (Sgd opt = sgd(t.steps().get(k)[1])) {
                    ReduceLROnPlateau s = t.scheduler(opt);
                    s.restore(t.state(k));
                    for (int i = k + 1; i < t.steps().size(); i++) {
                        s.step(t.steps().get(i)[0]);
                        String where = t.label() + ", resumed after step " + (k + 1) + ", step " + (i + 1);
                        assertEquals(t.steps().get(i)[1], opt.learningRate(), 0.0, where);
                        assertEquals(t.state(i), s.state(), where);
                    }
                }
            }
        }
    }

    @Test
    void pyTorchsDefaultsAreItsSettings() {
        try (Sgd opt = sgd(0.1)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MIN);
            assertEquals(Map.of("base_lr", 0.1, "mode", 0.0, "factor", 0.1, "patience", 10.0, "threshold", 1e-4,
                    "threshold_mode", 0.0, "cooldown", 0.0, "min_lr", 0.0, "eps", 1e-8), s.settings());
        }
    }

    @Test
    void aRestoredSchedulerGoesOnAsTheUninterruptedOne() {
        double[] metrics = {1.0, 0.9, 0.95, 0.96, 0.97, 0.85, 0.9, 0.91, 0.92, 0.93};
        try (Sgd a = sgd(1.0); Sgd b = sgd(1.0)) {
            var whole = new ReduceLROnPlateau(a, ReduceLROnPlateau.Mode.MIN, 0.5, 1, 1e-4,
                    ReduceLROnPlateau.ThresholdMode.REL, 2, 0, 1e-8);
            double[] straight = rates(whole, a, metrics);
            var first = new ReduceLROnPlateau(b, ReduceLROnPlateau.Mode.MIN, 0.5, 1, 1e-4,
                    ReduceLROnPlateau.ThresholdMode.REL, 2, 0, 1e-8);
            rates(first, b, java.util.Arrays.copyOf(metrics, 4));
            try (Sgd c = sgd(b.learningRate())) {
                var then = new ReduceLROnPlateau(c, ReduceLROnPlateau.Mode.MIN, 0.5, 1, 1e-4,
                        ReduceLROnPlateau.ThresholdMode.REL, 2, 0, 1e-8);
                then.restore(first.state());
                double[] rest = rates(then, c, java.util.Arrays.copyOfRange(metrics, 4, metrics.length));
                assertArrayEquals(java.util.Arrays.copyOfRange(straight, 4, straight.length), rest);
                assertEquals(whole.state(), then.state());
            }
        }
    }

    @Test
    void badSettingsAndStatesAreRefusedNamingTheValue() {
        try (Sgd opt = sgd(0.1)) {
            var min = ReduceLROnPlateau.Mode.MIN;
            var rel = ReduceLROnPlateau.ThresholdMode.REL;
            assertEquals("ReduceLROnPlateau: factor must be >= 0 and < 1, got 1.0", assertThrows(
                    IllegalArgumentException.class,
                    () -> new ReduceLROnPlateau(opt, min, 1.0, 1, 0, rel, 0, 0, 0)).getMessage());
            assertEquals("ReduceLROnPlateau: patience and cooldown must be >= 0, got patience=-1, cooldown=0",
                    assertThrows(IllegalArgumentException.class,
                            () -> new ReduceLROnPlateau(opt, min, 0.5, -1, 0, rel, 0, 0, 0)).getMessage());
            assertEquals("ReduceLROnPlateau: min_lr must be finite and >= 0, got -1.0", assertThrows(
                    IllegalArgumentException.class,
                    () -> new ReduceLROnPlateau(opt, min, 0.5, 1, 0, rel, 0, -1, 0)).getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> new ReduceLROnPlateau(opt, min, 0.5, 1, Double.NaN, rel, 0, 0, 0));
            var s = new ReduceLROnPlateau(opt, min, 0.5, 2, 0, rel, 1, 0, 0);
            assertThrows(IllegalArgumentException.class, () -> s.restore(new ReduceLROnPlateau.State(1, 3, 0)));
            assertThrows(IllegalArgumentException.class, () -> s.restore(new ReduceLROnPlateau.State(1, 0, 2)));
            assertEquals("not a ReduceLROnPlateau state for patience 2 and cooldown 1: State[best=NaN, badEpochs=0, "
                    + "cooldownCounter=0]", assertThrows(IllegalArgumentException.class,
                    () -> s.restore(new ReduceLROnPlateau.State(Double.NaN, 0, 0))).getMessage());
            // Cooling down zeroes the count of bad epochs, so no run saves both.
            assertThrows(IllegalArgumentException.class, () -> s.restore(new ReduceLROnPlateau.State(1, 1, 1)));
            assertEquals(new ReduceLROnPlateau.State(Double.POSITIVE_INFINITY, 0, 0), s.state());
        }
    }
}
