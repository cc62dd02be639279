package dev.backprop.spark.engine;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DType;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlatParametersTest {
    /**
     * Replacing the parameters by the driver's values is a write in place, as an optimizer step is: a backward pass
     * through a graph recorded before it is refused (PyTorch: "modified by an inplace operation") rather than mixing
     * the values the forward pass saw with the new ones.
     */
    @Test
    void replacingTheParametersRefusesABackwardPassRecordedBefore() {
        try (Backend be = Backends.create("cpu", BackendOptions.defaults());
             Variable w = Variable.parameter(Tensor.of(be, new float[] {1, 2}, 2));
             Tape tape = Tape.open()) {
            FlatParameters flat = new FlatParameters(Map.of("w", w), Map.of());
            Variable y = Ops.sum(Ops.mul(w, w));
            y.backward();
            flat.valuesFrom(new float[] {3, 4});
            assertArrayEquals(new float[] {3, 4}, w.value().toFloatArray());
            IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
            assertTrue(e.getMessage().contains("'mul'") && e.getMessage().contains("written in place"),
                    e.getMessage());
        }
    }
}
