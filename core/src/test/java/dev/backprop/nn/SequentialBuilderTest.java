package dev.backprop.nn;

import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Sequential.Builder} refuses a dense layer (or a 1-D batch norm) whose input width differs from the outputs
 * of the layers before it, when their specs state that width: the mistake is then named where it is made, not at
 * the first forward pass. A sequence given as layers applies the same rule, refuses a null one by its position, and
 * closes the layers it was handed on either refusal.
 */
class SequentialBuilderTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void aDenseLayerMustTakeWhatTheDenseLayerBeforeItGives() {
        Sequential.Builder b = Sequential.builder(backend, DType.FLOAT32).dense(4, 8).relu().dropout(0.5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.dense(7, 1));
        assertEquals("Sequential: layer 3, dense(7, 1), takes 7 features, but layer 0, Dense(4 -> 8), gives 8",
                e.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder(backend, DType.FLOAT32).dense(4, 8).batchNorm1d(6));
        assertEquals("Sequential: layer 1, batchNorm1d(6), takes 6 features, but layer 0, Dense(4 -> 8), gives 8",
                n.getMessage());
        // the constructor's rule, applied at the call that adds the layer: a flatten is seen through, and a layer
        // handed to add() is checked too, and closed when refused (the builder took ownership of it)
        long live = backend.memoryStats().liveBuffers();
        Sequential.Builder flat = Sequential.builder(backend, DType.FLOAT32).dense(4, 8).flatten();
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> flat.dense(5, 1));
        assertEquals("Sequential: layer 2, dense(5, 1), takes 5 features, but layer 0, Dense(4 -> 8), gives 8",
                f.getMessage());
        ParameterFactory pf = Init.PYTORCH_DEFAULT.factory(backend, DType.FLOAT32, new java.util.Random(1));
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                () -> flat.add(new Dense(3, 2, true, pf)));
        assertEquals("Sequential: layer 2, Dense(3 -> 2), takes 3 features, but layer 0, Dense(4 -> 8), gives 8",
                a.getMessage());
        try (Sequential built = flat.dense(8, 1).build()) {
            assertEquals(3, built.layers().size(), "a refused layer is not added");
        }
        assertEquals(live, backend.memoryStats().liveBuffers(), "the refused Dense's parameters are freed");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> flat.add(null));
        assertEquals("Sequential: layer 3 is null", none.getMessage());
    }

    @Test
    void widthsThatFitAreAccepted() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).dense(4, 8).batchNorm1d(8).tanh()
                .dense(8, 3).build();
             Sequential cnn = Sequential.builder(backend, DType.FLOAT32).conv2d(Conv2d.options(1, 2, 3)).relu()
                     .flatten().dense(8, 3).relu().dense(3, 1).build()) {
            assertEquals(4, m.layers().size());
            assertEquals(6, cnn.layers().size());
        }
    }

    @Test
    void aChainGivenAsLayersMustFitAndIsClosedWhenRefused() {
        ParameterFactory f = Init.PYTORCH_DEFAULT.factory(backend, DType.FLOAT32, new java.util.Random(1));
        long live = backend.memoryStats().liveBuffers();
        // nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)) builds in PyTorch and fails at the first forward; this
        // refuses it where it is made, and closes the four parameters it took ownership of
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.of(new Dense(3, 4, true, f), new Dense(5, 2, true, f)));
        assertEquals("Sequential: layer 1, Dense(5 -> 2), takes 5 features, but layer 0, Dense(3 -> 4), gives 4",
                e.getMessage());
        assertEquals(live, backend.memoryStats().liveBuffers(), "the refused layers' parameters are freed");
        // width-keeping layers between are seen through; a nested sequence is seen into
        IllegalArgumentException nested = assertThrows(IllegalArgumentException.class,
                () -> new Sequential(java.util.List.of(new Dense(2, 6, false, f), Activation.relu(),
                        new Dropout(0.5, 1), Sequential.of(Activation.tanh(), new Dense(4, 1, true, f)))));
        assertEquals("Sequential: layer 3, " + "Sequential(0: " + Activation.tanh() + ", 1: Dense(4 -> 1)), takes 4 "
                + "features, but layer 0, Dense(2 -> 6, no bias), gives 6", nested.getMessage());
        assertEquals(live, backend.memoryStats().liveBuffers());
        // after a convolution the width depends on the image: left to the forward pass
        try (Sequential fits = Sequential.of(new Dense(3, 4, true, f), Activation.relu(), new Dense(4, 2, true, f));
             Sequential cnn = Sequential.of(new Conv2d(Conv2d.options(1, 2, 3), f), new Flatten(),
                     new Dense(8, 3, true, f))) {
            assertEquals(3, fits.layers().size());
            assertEquals(3, cnn.layers().size());
        }
        assertEquals(live, backend.memoryStats().liveBuffers());
    }

    @Test
    void aNullLayerIsNamedByItsPositionAndTheOthersAreClosed() {
        ParameterFactory f = Init.PYTORCH_DEFAULT.factory(backend, DType.FLOAT32, new java.util.Random(1));
        long live = backend.memoryStats().liveBuffers();
        // written inline, the caller has no other reference to the Dense: the refusal closes it, as a width
        // mismatch does
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.of(new Dense(3, 3, true, f), null));
        assertEquals("Sequential: layer 1 of 2 is null", e.getMessage());
        assertEquals(live, backend.memoryStats().liveBuffers(), "the Dense handed over is freed");
        IllegalArgumentException list = assertThrows(IllegalArgumentException.class,
                () -> new Sequential(java.util.Arrays.asList(null, new Dense(2, 2, false, f))));
        assertEquals("Sequential: layer 0 of 2 is null", list.getMessage());
        assertEquals(live, backend.memoryStats().liveBuffers());
    }
}
