package dev.backprop.nn;

import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Layers#outputFeatures}: a network's output width, seen through the layers that keep it. */
class OutputFeaturesTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private int width(UnaryOperator<Sequential.Builder> layers) {
        try (Sequential m = layers.apply(Sequential.builder(backend, DType.FLOAT32).seed(1)).build()) {
            return Layers.outputFeatures(m.spec());
        }
    }

    @Test
    void theLastDenseLayerSetsTheWidthThroughTheLayersThatKeepIt() {
        assertEquals(3, width(b -> b.dense(4, 5).relu().dense(5, 3)));
        assertEquals(3, width(b -> b.dense(4, 3).relu()));
        assertEquals(3, width(b -> b.dense(4, 3).flatten()));
        assertEquals(3, width(b -> b.dense(4, 3).dropout(0.5)));
        assertEquals(3, width(b -> b.dense(4, 3).sigmoid().dropout(0.2).identity()));
        assertEquals(1, width(b -> b.dense(4, 1).batchNorm1d(1).tanh()));
        assertEquals(10, width(b -> b.conv2d(Conv2d.options(1, 2, 3).padding(1)).relu().flatten().dense(32, 10)
                .relu().dropout(0.1)));
    }

    @Test
    void aWidthThatDependsOnTheInputIsUnknown() {
        assertEquals(-1, width(b -> b.conv2d(Conv2d.options(1, 1, 3)).flatten()));
        assertEquals(-1, width(b -> b.conv2d(Conv2d.options(1, 4, 3)).maxPool2d(2).relu()));
        assertEquals(-1, width(b -> b.relu()));
    }
}
