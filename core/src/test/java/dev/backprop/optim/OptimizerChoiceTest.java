package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choice by name shared by {@code backprop train} and the Spark trainer: defaults, checks, what it builds. */
class OptimizerChoiceTest {
    private static OptimizerChoice choose(String name, Double lr, Double decay, String schedule) {
        return OptimizerChoice.of(name, lr, 0.9, decay, schedule, 5, 0.1);
    }

    @Test
    void defaultsPerOptimizer() {
        assertEquals(0.1, choose("sgd", null, null, "none").learningRate());
        assertEquals(0.01, choose(" Momentum ", null, null, "none").learningRate());
        assertEquals(0.001, choose("ADAM", null, null, "none").learningRate());
        assertEquals(0.001, choose("adamw", null, null, "none").learningRate());
        assertEquals(0.0, choose("adam", null, null, "none").weightDecay());
        assertEquals(0.01, choose("adamw", null, null, "none").weightDecay(), "PyTorch's AdamW default");
        assertEquals(0.5, choose("sgd", 0.5, 1e-4, "none").learningRate(), "an explicit rate wins");
        assertEquals("momentum", choose(" Momentum ", null, null, "none").name());
    }

    @Test
    void describeShowsTheSettingsInForce() {
        assertEquals("sgd lr 0.1", choose("sgd", null, null, "none").describe());
        assertEquals("momentum lr 0.01 momentum 0.9 weight-decay 0.000001 schedule cosine",
                choose("momentum", null, 1e-6, "Cosine").describe());
        assertEquals("1000000", OptimizerChoice.number(1e6));
        // From 10^7 on with an exponent, as Divergence words the rate of a diverging loss ("1E+30").
        assertEquals("9999999 1E+7 1.5E+7 12345678 1E+30 -1E+30 1E-7", String.join(" ",
                OptimizerChoice.number(9999999), OptimizerChoice.number(1e7), OptimizerChoice.number(1.5e7),
                OptimizerChoice.number(12345678), OptimizerChoice.number(1e30), OptimizerChoice.number(-1e30),
                OptimizerChoice.number(1e-7)));
        assertEquals("sgd lr 1E+30", choose("sgd", 1e30, null, "none").describe());
    }

    @Test
    void theSettingsOfOrdinaryRunsAreWordedAsBefore() {
        // Model files (backprop.training) and checkpoints record these words and compare them as text, so each
        // value a default or ordinary run sets must keep its wording: lr, momentum, weight decay, gamma, label
        // smoothing, min-delta, warmup factor, validation fraction.
        double[] values = {0.1, 0.01, 0.001, 1e-4, 3e-4, 1e-5, 1e-6, 0.9, 0.99, 0.999, 0.95, 5e-4, 0.05, 0.5, 0.2,
            0, 1, 10, 100, 1e6, 0.25, 0.0005, 1e-3 / 3, -0.5};
        String[] words = {"0.1", "0.01", "0.001", "0.0001", "0.0003", "0.00001", "0.000001", "0.9", "0.99", "0.999",
            "0.95", "0.0005", "0.05", "0.5", "0.2", "0", "1", "10", "100", "1000000", "0.25", "0.0005",
            "0.0003333333333333333", "-0.5"};
        for (int i = 0; i < values.length; i++) {
            assertEquals(words[i], OptimizerChoice.number(values[i]), "the setting " + values[i]);
        }
        assertEquals("0", OptimizerChoice.number(-0.0), "a negative zero reads as the zero a user types");
    }

    @Test
    void aRateTrainingArrivedAtIsRoundedThenWordedAsASetting() {
        // Rounded half up on the decimal Double.toString gives, then with the exponent where a setting has one.
        double[] values = {0.1, 0.3 / 10, 0.07346234, 1e-5, 1.23456e-5, 1e-7, 1e6, 1e25, 9999999.5, 123456, -2.5e-3};
        String[] words = {"0.1", "0.03", "0.0735", "0.00001", "0.0000123", "1E-7", "1000000", "1E+25", "1E+7",
            "123000", "-0.0025"};
        for (int i = 0; i < values.length; i++) {
            assertEquals(words[i], OptimizerChoice.number(values[i], 3), "the rate " + values[i]);
        }
        assertEquals("0.3 0.30000000000000004", OptimizerChoice.number(0.1 * 3, 3) + " "
                + OptimizerChoice.number(0.1 * 3), "the rounding drops what the binary sum adds; a setting keeps it");
        assertEquals("NaN Infinity", OptimizerChoice.number(Double.NaN, 3) + " "
                + OptimizerChoice.number(Double.POSITIVE_INFINITY, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimizerChoice.number(0.1, 0));
        assertEquals("significantDigits 0: must be at least 1", e.getMessage());
    }

    @Test
    void badNamesAndRatesAreRejectedByFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> choose("rmsprop", null, null, "none"));
        assertTrue(e.getMessage().contains("--optimizer rmsprop") && e.getMessage().contains("adamw"), e.getMessage());
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            e = assertThrows(IllegalArgumentException.class, () -> choose("sgd", bad, null, "none"));
            assertTrue(e.getMessage().startsWith("--lr must be a positive number"), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> choose("sgd", null, null, "linear"));
        assertTrue(e.getMessage().contains("--schedule linear"), e.getMessage());
    }

    @Test
    void buildsTheNamedOptimizerAndSchedule() throws Exception {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT32, 2, 3)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            OptimizerChoice sgd = roundTrip(choose("sgd", null, null, "none"));
            try (Optimizer o = sgd.create(params)) {
                assertInstanceOf(Sgd.class, o);
                assertEquals(0.1, o.learningRate());
                assertFalse(sgd.scheduled());
                assertNull(sgd.schedule(o, 10));
            }
            OptimizerChoice adamStep = roundTrip(choose("adam", 0.01, null, "step"));
            try (Optimizer o = adamStep.create(params)) {
                assertInstanceOf(Adam.class, o);
                assertTrue(adamStep.scheduled());
                assertInstanceOf(StepLR.class, adamStep.schedule(o, 10));
            }
            try (Optimizer o = choose("adamw", null, null, "cosine").create(params)) {
                assertInstanceOf(CosineAnnealingLR.class, choose("adamw", null, null, "cosine").schedule(o, 10));
            }
        }
    }

    @Test
    void warmupPrecedesTheScheduleAsTorchvisionBuildsIt() throws Exception {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT64, 1)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            OptimizerChoice c = roundTrip(choose("adam", 0.01, null, "cosine")
                    .withWarmup(3, OptimizerChoice.DEFAULT_WARMUP_FACTOR, "Linear"));
            assertEquals("adam lr 0.01 schedule cosine warmup 3 linear from 0.01", c.describe());
            assertTrue(c.scheduled());
            assertEquals(3, c.warmupEpochs());
            assertEquals(3, c.withSchedule("step", 2, 0.5).warmupEpochs(), "a new schedule keeps the warmup");
            try (Optimizer o = c.create(params)) {
                WarmupLR s = assertInstanceOf(WarmupLR.class, c.schedule(o, 10));
                // torchvision: CosineAnnealingLR(T_max = epochs - lr_warmup_epochs) after the warmup
                assertEquals(7.0, s.settings().get("t_max"));
                assertEquals(0.01 * 0.01, o.learningRate(), 1e-19);
                assertEquals(0.01, s.rateAt(3));
                assertEquals(0, s.rateAt(10), 1e-19);
            }
            OptimizerChoice none = choose("sgd", null, null, "none").withWarmup(2, 0.5, "constant");
            try (Optimizer o = none.create(params)) {
                WarmupLR s = assertInstanceOf(WarmupLR.class, none.schedule(o, 3));
                assertNull(s.main());
                assertEquals("constant-warmup", s.type());
            }
            OptimizerChoice off = choose("sgd", null, null, "none").withWarmup(0, 0.5, "linear");
            assertFalse(off.scheduled());
            assertEquals("sgd lr 0.1", off.describe());
        }
    }

    /** A factor that is not a number is refused naming it, not with BigDecimal's complaint about the letter N. */
    @Test
    void aGammaThatIsNotANumberIsRefusedNamingIt() {
        for (double g : new double[]{Double.NaN, Double.POSITIVE_INFINITY}) {
            assertEquals("--gamma " + g + ": --schedule plateau multiplies the rate by it on a plateau, so it must be "
                            + ">= 0 and < 1",
                    assertThrows(IllegalArgumentException.class,
                            () -> OptimizerChoice.of("sgd", null, 0, null, "plateau", 1, g)).getMessage());
        }
        assertEquals("NaN -Infinity 0.5 1000000", String.join(" ", OptimizerChoice.number(Double.NaN),
                OptimizerChoice.number(Double.NEGATIVE_INFINITY), OptimizerChoice.number(0.5),
                OptimizerChoice.number(1e6)));
    }

    @Test
    void badWarmupsAreRejectedByFlag() {
        OptimizerChoice c = choose("sgd", null, null, "step");
        assertEquals("--warmup -1: the warmup's epochs must be >= 0",
                assertThrows(IllegalArgumentException.class, () -> c.withWarmup(-1, 0.01, "linear")).getMessage());
        assertEquals("--warmup-factor 0.0: the warmup starts at this fraction of the learning rate, so it must be > 0 "
                        + "and <= 1",
                assertThrows(IllegalArgumentException.class, () -> c.withWarmup(2, 0, "linear")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.withWarmup(2, 1.01, "linear"));
        assertEquals("--warmup-method cubic: choose linear or constant",
                assertThrows(IllegalArgumentException.class, () -> c.withWarmup(2, 0.1, "cubic")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> choose("sgd", null, null, "plateau").withWarmup(2, 0.1, "linear")).getMessage()
                .startsWith("--warmup 2 cannot precede --schedule plateau"));
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT64, 1);
             Optimizer o = c.create(Map.of("w", Variable.parameter(w)))) {
            assertEquals("--warmup 5 must be less than --epochs 5: the warmup would take the whole run and never "
                            + "reach --lr 0.1",
                    assertThrows(IllegalArgumentException.class,
                            () -> c.withWarmup(5, 0.1, "linear").schedule(o, 5)).getMessage());
            assertEquals(0.1, o.learningRate(), "a refused warmup leaves the rate alone");
        }
    }

    /**
     * The plateau scheduler takes {@code gamma} as its factor and every other setting as given; the patience-only form
     * is PyTorch's defaults for the rest ({@code ReduceLROnPlateau(threshold=1e-4, threshold_mode="rel", cooldown=0,
     * min_lr=0, eps=1e-8)}). Another schedule builds none.
     */
    @Test
    void buildsThePlateauSchedulerWithItsSettings() {
        OptimizerChoice c = OptimizerChoice.of("sgd", 0.1, 0, null, "plateau", 1, 0.5);
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT64, 1);
             Optimizer o = c.create(Map.of("w", Variable.parameter(w)))) {
            Map<String, Double> set = c.plateau(o, ReduceLROnPlateau.Mode.MAX, 3, 0.02,
                    ReduceLROnPlateau.ThresholdMode.ABS, 4, 0.001, 1e-6).settings();
            assertEquals(Map.of("base_lr", 0.1, "mode", 1.0, "factor", 0.5, "patience", 3.0, "threshold", 0.02,
                    "threshold_mode", 1.0, "cooldown", 4.0, "min_lr", 0.001, "eps", 1e-6), set);
            assertEquals(c.plateau(o, ReduceLROnPlateau.Mode.MIN, 2, 1e-4, ReduceLROnPlateau.ThresholdMode.REL, 0, 0,
                    1e-8).settings(), c.plateau(o, ReduceLROnPlateau.Mode.MIN, 2).settings());
            assertThrows(IllegalStateException.class, () -> choose("sgd", null, null, "step").plateau(o,
                    ReduceLROnPlateau.Mode.MIN, 2, 1e-4, ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 1e-8));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> c.plateau(o, ReduceLROnPlateau.Mode.MIN, 2,
                    -1, ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 1e-8)).getMessage()
                    .contains("threshold must be finite and >= 0, got -1.0"));
        }
    }

    /** Serialized and read back, as a Spark driver ships it to its executors. */
    private static OptimizerChoice roundTrip(OptimizerChoice c) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            OptimizerChoice back = (OptimizerChoice) in.readObject();
            assertEquals(c.describe(), back.describe());
            return back;
        }
    }
}
