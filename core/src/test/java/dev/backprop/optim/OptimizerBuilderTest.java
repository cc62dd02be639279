package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Adam#builder} and {@link Sgd#builder}: PyTorch's defaults, every setting taken, bad values named. Their
 * updates are checked against PyTorch's formulas on every backend in the contract suite's optimizer cases.
 */
class OptimizerBuilderTest {
    @Test
    void defaultsArePyTorchs() {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT32, 2, 3)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            try (Adam adam = Adam.builder(params).build(); Sgd sgd = Sgd.builder(params).build()) {
                assertEquals("adam", adam.type());
                assertEquals(1e-3, adam.learningRate());
                assertEquals(Map.of("beta1", 0.9, "beta2", 0.999, "eps", 1e-8, "weight_decay", 0.0),
                        adam.hyperparameters());
                assertEquals(1e-3, sgd.learningRate());
                assertEquals(Map.of("momentum", 0.0, "weight_decay", 0.0, "nesterov", 0.0), sgd.hyperparameters());
                assertEquals(List.of(), List.copyOf(sgd.state().keySet()), "no momentum, no buffers");
            }
        }
    }

    @Test
    void everySettingIsTaken() {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT32, 2, 3)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            try (Adam adamW = Adam.builder(params).lr(0.03).betas(0.8, 0.99).eps(1e-6).weightDecay(0.1)
                    .decoupled(true).build();
                 Sgd sgd = Sgd.builder(params).lr(0.05).momentum(0.9).weightDecay(1e-4).nesterov(true).build()) {
                assertEquals("adamw", adamW.type());
                assertEquals(0.03, adamW.learningRate());
                assertEquals(Map.of("beta1", 0.8, "beta2", 0.99, "eps", 1e-6, "weight_decay", 0.1),
                        adamW.hyperparameters());
                assertEquals(0.05, sgd.learningRate());
                assertEquals(Map.of("momentum", 0.9, "weight_decay", 1e-4, "nesterov", 1.0), sgd.hyperparameters());
                assertEquals(List.of("w.momentum_buffer"), List.copyOf(sgd.state().keySet()));
            }
        }
    }

    @Test
    void shorthandsMatchTheBuilder() {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT32, 2, 3)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            try (Adam a = Adam.adamW(params, 0.02, 0.05);
                 Adam b = Adam.builder(params).lr(0.02).weightDecay(0.05).decoupled(true).build();
                 Sgd s = new Sgd(params, 0.1); Sgd t = Sgd.builder(params).lr(0.1).build()) {
                assertEquals(b.toString(), a.toString());
                assertEquals(t.toString(), s.toString());
            }
        }
    }

    @Test
    void badSettingsAreRefusedWithTheValue() {
        try (ReferenceBackend backend = new ReferenceBackend();
             Tensor w = Tensor.zeros(backend, DType.FLOAT32, 2, 3)) {
            Map<String, Variable> params = Map.of("w", Variable.parameter(w));
            refused("Adam: learning rate must be finite and >= 0, got -1.0", () -> Adam.builder(params).lr(-1));
            refused("adam: betas must lie in [0, 1), got (0.9, 1.0)", () -> Adam.builder(params).betas(0.9, 1));
            refused("adam: eps must be finite and >= 0, got NaN", () -> Adam.builder(params).eps(Double.NaN));
            refused("adam: weight_decay must be finite and >= 0, got -0.1",
                    () -> Adam.builder(params).weightDecay(-0.1));
            refused("Sgd: learning rate must be finite and >= 0, got Infinity",
                    () -> Sgd.builder(params).lr(Double.POSITIVE_INFINITY));
            refused("sgd: momentum must be finite and >= 0, got -0.5", () -> Sgd.builder(params).momentum(-0.5));
            refused("sgd: weight decay must be finite and >= 0, got -1.0", () -> Sgd.builder(params).weightDecay(-1));
            refused("sgd: Nesterov momentum needs momentum > 0", () -> Sgd.builder(params).nesterov(true).build());
            refused("Adam: no parameters to optimize", () -> Adam.builder(Map.of()).build());
        }
    }

    private static void refused(String message, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(message, e.getMessage());
    }
}
