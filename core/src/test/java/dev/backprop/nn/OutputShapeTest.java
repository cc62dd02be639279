package dev.backprop.nn;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@link OutputShape} against the shapes the layers give when they run, and where it cannot tell. */
class OutputShapeTest {
    private static ReferenceBackend be;

    @BeforeAll
    static void open() {
        be = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        be.close();
    }

    private static Sequential.Builder net() {
        return Sequential.builder(be, DType.FLOAT32).seed(1);
    }

    /** The inferred shape is the one a forward pass over a batch of two gives, after the batch. */
    private static void inferredAsRun(Sequential m, int... input) {
        int[] batch = new int[input.length + 1];
        batch[0] = 2;
        System.arraycopy(input, 0, batch, 1, input.length);
        try (m; Tensor x = Tensor.zeros(be, DType.FLOAT32, batch); NoGrad off = NoGrad.open();
             Variable y = m.forward(Variable.constant(x))) {
            int[] dims = y.value().shape().dims();
            assertArrayEquals(Arrays.copyOfRange(dims, 1, dims.length), OutputShape.of(m.spec(), input),
                    m.spec().toString());
        }
    }

    @Test
    void convolutionsPoolsAndFlattensGiveWhatTheyRunTo() {
        inferredAsRun(net().conv2d(Conv2d.options(1, 3, 6)).flatten().build(), 1, 6, 6);
        inferredAsRun(net().conv2d(Conv2d.options(2, 4, 3).stride(2).padding(1)).batchNorm2d(4).relu().maxPool2d(2)
                .avgPool2d(1).dropout(0.125).build(), 2, 9, 7);
        inferredAsRun(net().conv2d(Conv2d.options(1, 2, 3).dilation(2)).maxPool2d(3).flatten().build(), 1, 13, 11);
        inferredAsRun(net().conv2d(Conv2d.options(3, 5, 1)).avgPool2d(2).flatten().dense(20, 4).batchNorm1d(4)
                .sigmoid().build(), 3, 4, 5);
        inferredAsRun(net().dense(6, 3).tanh().build(), 6);
    }

    @Test
    void theWidthComesFromTheLastLayersWhenTheyTellItElseFromTheInputShape() {
        try (Sequential convEnd = net().conv2d(Conv2d.options(1, 3, 3)).flatten().build();
             Sequential mlp = net().dense(4, 3).build()) {
            assertEquals(-1, Layers.outputFeatures(convEnd.spec()));
            assertEquals(3 * 4 * 4, OutputShape.features(convEnd.spec(), new int[] {1, 6, 6}));
            assertEquals(-1, OutputShape.features(convEnd.spec(), null), "no input shape: not known");
            assertEquals(3, OutputShape.features(mlp.spec(), null));
        }
    }

    @Test
    void anInputTheNetworkDoesNotTakeTellsNothing() {
        try (Sequential m = net().conv2d(Conv2d.options(2, 3, 5)).flatten().dense(12, 2).build()) {
            assertNull(OutputShape.of(m.spec(), new int[] {1, 6, 6}), "one channel for a two-channel convolution");
            assertNull(OutputShape.of(m.spec(), new int[] {2, 4, 4}), "a 5x5 kernel on a 4x4 image");
            assertNull(OutputShape.of(m.spec(), new int[] {2, 7, 7}), "a 3x3x3 map for a dense layer of 12 inputs");
            assertNull(OutputShape.of(m.spec(), new int[] {72}), "a flat row for a convolution");
            assertArrayEquals(new int[] {2}, OutputShape.of(m.spec(), new int[] {2, 6, 6}));
        }
    }

    /**
     * An input recorded larger than any tensor (a model file's {@code backprop.input_shape} may say anything up to
     * 999999999 a dimension) gives no width rather than an overflow: no network runs on it.
     */
    @Test
    void anInputLargerThanAnyTensorTellsNothing() {
        try (Sequential convEnd = net().conv2d(Conv2d.options(1, 3, 1)).build();
             Sequential flat = net().conv2d(Conv2d.options(1, 3, 1)).flatten().build();
             Sequential dense = net().flatten().dense(6, 2).build()) {
            int[] huge = {1, 999_999_999, 999_999_999};
            assertNull(OutputShape.of(flat.spec(), huge));
            assertEquals(-1, OutputShape.features(flat.spec(), huge));
            assertEquals(-1, OutputShape.features(convEnd.spec(), huge));
            assertNull(OutputShape.of(dense.spec(), new int[] {999_999_999, 999_999_999, 999_999_999}));
            assertEquals(3 * 32768 * 16384, OutputShape.features(flat.spec(), new int[] {1, 32768, 16384}));
        }
    }
}
