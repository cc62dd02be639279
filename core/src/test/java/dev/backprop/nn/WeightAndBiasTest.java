package dev.backprop.nn;

import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The weight-and-bias parameters of Dense and Conv2d: factory calls, shape checks and cleanup on failure. */
class WeightAndBiasTest {
    private final ReferenceBackend be = new ReferenceBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** A factory that records every call and makes {@code badName} with {@code badShape} instead of the asked one. */
    private final class Recording implements ParameterFactory {
        final List<String> calls = new ArrayList<>();
        final List<Tensor> made = new ArrayList<>();
        final int[] badShape;
        final String badName;

        Recording(String badName, int... badShape) {
            this.badName = badName;
            this.badShape = badShape;
        }

        @Override
        public Tensor create(String name, int[] shape, ParameterRole role, int fanIn, int fanOut) {
            calls.add(name + " " + Arrays.toString(shape) + " " + role + " " + fanIn + " " + fanOut);
            Tensor t = Tensor.zeros(be, DType.FLOAT32, name.equals(badName) ? badShape : shape);
            made.add(t);
            return t;
        }
    }

    @Test
    void denseAsksForWeightThenBiasWithItsFans() {
        Recording f = new Recording("none");
        try (Dense d = new Dense(3, 2, true, f)) {
            assertEquals(List.of("weight [2, 3] WEIGHT 3 2", "bias [2] BIAS 3 2"), f.calls);
            assertEquals(List.of("weight", "bias"), List.copyOf(d.parameters().keySet()));
            assertArrayEquals(new int[] {2}, d.bias().shape().dims());
        }
    }

    @Test
    void convAsksForWeightThenBiasWithItsFans() {
        Recording f = new Recording("none");
        try (Conv2d c = new Conv2d(Conv2d.options(2, 4, 3), f)) {
            assertEquals(List.of("weight [4, 2, 3, 3] WEIGHT 18 36", "bias [4] BIAS 18 36"), f.calls);
            assertEquals(List.of("weight", "bias"), List.copyOf(c.parameters().keySet()));
        }
    }

    @Test
    void withoutBiasOnlyTheWeightIsMade() {
        Recording f = new Recording("none");
        try (Dense d = new Dense(3, 2, false, f)) {
            assertEquals(1, f.calls.size());
            assertEquals(List.of("weight"), List.copyOf(d.parameters().keySet()));
        }
    }

    @Test
    void aWrongWeightShapeIsNamedAndClosed() {
        Recording f = new Recording("weight", 3, 2);
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> new Dense(3, 2, true, f));
        assertEquals("dense: weight is [3, 2], expected [2, 3]", e.getMessage());
        assertEquals(1, f.made.size(), "no bias is made after a bad weight");
        assertTrue(f.made.get(0).isClosed());
    }

    @Test
    void aWrongBiasShapeClosesTheBiasAndTheWeight() {
        Recording f = new Recording("bias", 3);
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> new Conv2d(Conv2d.options(1, 2, 3), f));
        assertEquals("Conv2d(1->2, k=3): bias is [3], expected [2]", e.getMessage());
        assertEquals(2, f.made.size());
        assertTrue(f.made.get(0).isClosed(), "the weight");
        assertTrue(f.made.get(1).isClosed(), "the bias");
    }

    @Test
    void aDenseWeightTooLargeForOneArrayIsRefusedBeforeTheFactoryRuns() {
        // 2^20 · 2^20 = 2^40 elements: no Java array (nor the initializer's host copy) holds them; Conv2d refuses
        // its oversized weights the same way.
        Recording f = new Recording("none");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dense(1 << 20, 1 << 20, true, f));
        assertEquals("dense(1048576->1048576): a weight of more than 2^31 elements", e.getMessage());
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Conv2d.options(1 << 16, 1 << 16, 3), f));
        assertEquals("Conv2d(65536->65536): a 3x3 weight of more than 2^31 elements", c.getMessage());
        assertEquals(List.of(), f.calls, "nothing is asked of the factory");
        // A model file's architecture is checked by the same rule before any layer is built.
        IllegalArgumentException spec = assertThrows(IllegalArgumentException.class,
                () -> Layers.validate(Dense.spec(1 << 20, 1 << 20, true)));
        assertEquals("model: dense(1048576->1048576): a weight of more than 2^31 elements", spec.getMessage());
    }
}
