package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * ReduceLROnPlateau against traces worked by hand from PyTorch's {@code ReduceLROnPlateau.step} (1.13): the metric
 * is compared with {@code is_better} ({@code a < best·(1 − threshold)} for min/rel, {@code a > best + threshold}
 * for max/abs, ...), a bad epoch increments {@code num_bad_epochs}, an epoch in cooldown decrements the cooldown
 * counter and zeroes {@code num_bad_epochs}, and {@code num_bad_epochs > patience} sets each rate to
 * {@code max(lr·factor, min_lr)} when that lowers it by more than {@code eps}, then restarts the cooldown and the
 * count.
 */
class ReduceLROnPlateauTest {
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

    @Test
    void minRelativeWithCooldownFollowsPyTorch() {
        try (Sgd opt = sgd(1.0)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MIN, 0.5, 2, 1e-4,
                    ReduceLROnPlateau.ThresholdMode.REL, 1, 0, 1e-8);
            // 1.0 beats +inf; 0.99995 is not below 1.0·0.9999 (bad 1); 0.9 is (best 0.9); 0.9 ties (bad 1);
            // 0.95, 0.91 (bad 2, 3 > 2: rate 0.5, cooldown 1); 0.92 bad but in cooldown (bad 0, cooldown 0);
            // 0.93 (bad 1); 0.8 best; NaN never improves (bad 1); 0.85, 0.85 (bad 2, 3: rate 0.25, cooldown 1);
            // 0.85 in cooldown (bad 0); 0.85 (bad 1).
            assertArrayEquals(new double[] {1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25},
                    rates(s, opt, 1.0, 0.99995, 0.9, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, Double.NaN, 0.85, 0.85, 0.85,
                            0.85));
            assertEquals(new ReduceLROnPlateau.State(0.8, 1, 0), s.state());
        }
    }

    @Test
    void maxAbsoluteStopsAtTheMinimumRate() {
        try (Sgd opt = sgd(0.1)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MAX, 0.1, 0, 0.01,
                    ReduceLROnPlateau.ThresholdMode.ABS, 0, 0.0015, 1e-8);
            // 0.5 beats -inf; 0.505 is not above 0.51 (bad 1 > 0: 0.1·0.1); 0.52 is (best 0.52); 0.52 is not above
            // 0.53: max(0.1·0.1·0.1, 0.0015) = 0.0015; 0.6 improves; 0.6 again: max(0.00015, 0.0015) lowers nothing.
            assertArrayEquals(new double[] {0.1, 0.1 * 0.1, 0.1 * 0.1, 0.0015, 0.0015, 0.0015},
                    rates(s, opt, 0.5, 0.505, 0.52, 0.52, 0.6, 0.6));
        }
    }

    @Test
    void maxRelativeScalesTheBest() {
        try (Sgd opt = sgd(1.0)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MAX, 0.5, 0, 1e-4,
                    ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 1e-8);
            // 0.50004 is not above 0.5·1.0001 = 0.50005 (rate 0.5); 0.50006 is.
            assertArrayEquals(new double[] {1, 0.5, 0.5}, rates(s, opt, 0.5, 0.50004, 0.50006));
            assertEquals(0.50006, s.state().best());
        }
    }

    @Test
    void aReductionBySmallerThanEpsIsSkipped() {
        try (Sgd opt = sgd(0.1)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MIN, 0.5, 0, 1e-4,
                    ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 0.03);
            // 0.1 → 0.05 lowers it by 0.05 > 0.03; 0.05 → 0.025 by 0.025, which is skipped, every time.
            assertArrayEquals(new double[] {0.1, 0.05, 0.05, 0.05}, rates(s, opt, 1, 1, 1, 1));
        }
    }

    @Test
    void pyTorchsDefaultsWaitTenBadEpochsAndDivideByTen() {
        try (Sgd opt = sgd(0.1)) {
            var s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MIN);
            double[] flat = new double[12];
            java.util.Arrays.fill(flat, 1.0);
            double[] expected = new double[12];
            java.util.Arrays.fill(expected, 0.1);
            expected[11] = 0.1 * 0.1;  // the 11th bad epoch is more than patience 10
            assertArrayEquals(expected, rates(s, opt, flat));
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
            assertThrows(IllegalArgumentException.class,
                    () -> s.restore(new ReduceLROnPlateau.State(Double.NEGATIVE_INFINITY, 0, 0)));
            assertEquals(new ReduceLROnPlateau.State(Double.POSITIVE_INFINITY, 0, 0), s.state());
        }
    }
}
