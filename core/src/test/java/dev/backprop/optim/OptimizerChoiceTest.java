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
