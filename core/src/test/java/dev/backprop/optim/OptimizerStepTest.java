package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import dev.backprop.testing.CountingBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Optimizer#step()} updates every parameter in one multi-tensor call (counted at the SPI), a parameter that
 * no backward pass reached since {@code zeroGrad()} with a zero gradient, and a bad parameter anywhere leaves every
 * parameter unchanged.
 */
class OptimizerStepTest {
    private ReferenceBackend inner;
    private CountingBackend counting;
    private Map<String, Variable> params;

    @BeforeEach
    void open() {
        inner = new ReferenceBackend();
        counting = new CountingBackend(inner);
        params = new LinkedHashMap<>();
        params.put("a", Variable.parameter(Tensor.of(counting.backend(), new float[] {1, 2, 3}, 3)));
        params.put("b", Variable.parameter(Tensor.of(counting.backend(), new float[] {4}, 1)));
        params.put("c", Variable.parameter(Tensor.of(counting.backend(), new float[] {5, 6, 7, 8}, 2, 2)));
        for (Variable v : params.values()) {
            Elementwise.fill(v.grad(), 0.5);
        }
    }

    @AfterEach
    void close() {
        params.values().forEach(Variable::close);
        inner.close();
    }

    @Test
    void sgdStepsEveryParameterInOneCall() {
        try (Sgd sgd = Sgd.builder(params).lr(0.1).momentum(0.9).weightDecay(0.01).build()) {
            counting.reset();
            sgd.step();
            sgd.step();
            assertEquals(2, counting.count("sgdUpdateAll"));
            assertEquals(0, counting.count("sgdUpdate"));
        }
    }

    @Test
    void adamStepsEveryParameterInOneCall() {
        try (Adam adam = Adam.adamW(params, 1e-3, 0.01)) {
            counting.reset();
            adam.step();
            assertEquals(1, counting.count("adamUpdateAll"));
            assertEquals(0, counting.count("adamUpdate"));
        }
    }

    @Test
    void aParameterWithoutGradientStepsWithZeros() {
        try (Sgd sgd = Sgd.builder(params).lr(0.5).weightDecay(0.1).build()) {
            params.values().forEach(Variable::zeroGrad);
            sgd.step();
            // θ ← θ - lr·(0 + λ·θ) = 0.95·θ
            assertArrayEquals(new double[] {0.95f * 1, 0.95f * 2, 0.95f * 3}, params.get("a").value().toDoubles(),
                    1e-6);
        }
    }

    @Test
    void aClosedParameterAnywhereLeavesAllUnchanged() {
        try (Sgd sgd = Sgd.builder(params).lr(0.1).build()) {
            params.get("c").value().close();
            assertThrows(RuntimeException.class, sgd::step);
            assertArrayEquals(new double[] {1, 2, 3}, params.get("a").value().toDoubles());
            assertArrayEquals(new double[] {4}, params.get("b").value().toDoubles());
        }
    }
}
