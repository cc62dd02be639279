package dev.backprop.nn;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.model.InputShape;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.Evaluator;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The networks {@code backprop train} builds by name ({@link Cnn}, {@link Mlp}), how a network is described in
 * words, what state a spec implies, and the shape a network takes its examples in.
 */
class ArchitectureTest {
    private static ReferenceBackend be;

    @BeforeAll
    static void open() {
        be = new ReferenceBackend();
    }

    @AfterAll
    static void close() {
        be.close();
    }

    @Test
    void theCnnIsPyTorchsReferenceNetworkWithItsInitialWeights() {
        Cnn cnn = Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0);
        try (Sequential built = cnn.build(be); Sequential reference = Sequential.builder(be, DType.FLOAT32).seed(0)
                .conv2d(Conv2d.options(1, 32, 3).padding(1)).relu().maxPool2d(2)
                .conv2d(Conv2d.options(32, 64, 3).padding(1)).relu().maxPool2d(2)
                .flatten().dense(64 * 7 * 7, 128).relu().dense(128, 10).build()) {
            assertEquals(reference.spec(), built.spec());
            assertEquals(reference.spec(), cnn.spec());
            for (Map.Entry<String, Variable> e : reference.parameters().entrySet()) {
                assertArrayEquals(e.getValue().value().toFloatArray(),
                        built.parameters().get(e.getKey()).value().toFloatArray(), e.getKey());
            }
        }
        assertEquals("cnn conv(1->32,3,p1) relu maxpool(2) conv(32->64,3,p1) relu maxpool(2) flatten "
                + "dense(3136->128) relu dense(128->10)", cnn.describe());
        assertArrayEquals(new int[] {1, 28, 28}, cnn.inputShape());
        assertEquals(10, cnn.outputs());
        assertEquals("dense(4096->128)", new Cnn(3, 32, 33, 2, Init.HE_UNIFORM, 1).describe().split(" ")[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Cnn(1, 3, 28, 10, Init.PYTORCH_DEFAULT, 0));
        assertTrue(e.getMessage().contains("images of at least 4x4"), e.getMessage());
    }

    /** Dropout before the last layer: the network, weights and mask streams of the builder's {@code CnnExample}. */
    @Test
    void theCnnWithDropoutIsTheBuildersNetworkWithItsStreams() {
        Cnn cnn = new Cnn(1, 28, 28, 10, 0.25, Init.PYTORCH_DEFAULT, 3);
        try (Sequential built = cnn.build(be); Sequential reference = Sequential.builder(be, DType.FLOAT32).seed(3)
                .conv2d(Conv2d.options(1, 32, 3).padding(1)).relu().maxPool2d(2)
                .conv2d(Conv2d.options(32, 64, 3).padding(1)).relu().maxPool2d(2)
                .flatten().dense(64 * 7 * 7, 128).relu().dropout(0.25).dense(128, 10).build()) {
            assertEquals(reference.spec(), built.spec());
            assertEquals(reference.spec(), cnn.spec());
            for (Map.Entry<String, Variable> e : reference.parameters().entrySet()) {
                assertArrayEquals(e.getValue().value().toFloatArray(),
                        built.parameters().get(e.getKey()).value().toFloatArray(), e.getKey());
            }
            assertEquals(List.of("9.dropout_seed", "9.dropout_offset"), List.copyOf(built.trainingState().keySet()));
            assertEquals(reference.trainingState().get("9.dropout_seed")[0],
                    built.trainingState().get("9.dropout_seed")[0]);
        }
        assertTrue(cnn.describe().endsWith("dense(3136->128) relu dropout(0.25) dense(128->10)"), cnn.describe());
        assertEquals(Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 3), new Cnn(1, 28, 28, 10, 0, Init.PYTORCH_DEFAULT, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Cnn(1, 28, 28, 10, 1, Init.PYTORCH_DEFAULT, 0));
        assertEquals("dropout probability must be in [0, 1), got 1.0", e.getMessage());
    }

    @Test
    void networksAreDescribedInWords() {
        Mlp mlp = new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0);
        try (Sequential m = mlp.build(be)) {
            assertEquals("784-256-128-10 relu", Layers.describe(m.spec()));
            assertEquals(mlp.describe(), Layers.describe(m.spec()));
        }
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).flatten().dense(4, 2).build()) {
            assertEquals("4-2 linear", Layers.describe(m.spec()));
        }
        LayerSpec mixed = new LayerSpec("sequential", Map.of(), List.of(Dense.spec(784, 64, true),
                LayerSpec.of("relu", Map.of()), Dense.spec(64, 32, true), LayerSpec.of("tanh", Map.of()),
                Dense.spec(32, 10, true)));
        assertEquals("dense(784->64) relu dense(64->32) tanh dense(32->10)", Layers.describe(mixed));
        LayerSpec withIdentity = new LayerSpec("sequential", Map.of(), List.of(LayerSpec.of("flatten", Map.of()),
                Dense.spec(4, 3, true), LayerSpec.of("relu", Map.of()), LayerSpec.of("identity", Map.of()),
                Dense.spec(3, 2, true)));
        assertEquals("4-3-2 relu", Layers.describe(withIdentity));
        LayerSpec squashed = new LayerSpec("sequential", Map.of(), List.of(Dense.spec(4, 3, true),
                LayerSpec.of("relu", Map.of()), Dense.spec(3, 1, true), LayerSpec.of("sigmoid", Map.of())));
        assertEquals("dense(4->3) relu dense(3->1) sigmoid", Layers.describe(squashed));
        LayerSpec noBias = new LayerSpec("sequential", Map.of(), List.of(Dense.spec(4, 3, false),
                LayerSpec.of("relu", Map.of()), Dense.spec(3, 2, true)));
        assertEquals("dense(4->3,nobias) relu dense(3->2)", Layers.describe(noBias));
        LayerSpec odd = new LayerSpec("sequential", Map.of(), List.of(
                Conv2d.spec(2, 4, new int[] {3, 5}, new int[] {2, 2}, new int[] {0, 0}, new int[] {2, 1}, false),
                LayerSpec.of("batchnorm2d", Map.of("features", 4)),
                Pool2d.spec(false, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, false),
                LayerSpec.of("dropout", Map.of("p_ppm", 125_000)), LayerSpec.of("flatten", Map.of()),
                Dense.spec(8, 3, false), LayerSpec.of("batchnorm1d", Map.of("features", 3))));
        assertEquals("cnn conv(2->4,3x5,s2,d2x1,nobias) batchnorm2d(4) avgpool(3,s1,p1,exclude_pad) dropout(0.125) "
                + "flatten dense(8->3,nobias) batchnorm1d(3)", Layers.describe(odd));
        assertEquals(Map.of("1.running_mean", 4, "1.running_var", 4, "6.running_mean", 3, "6.running_var", 3),
                Layers.bufferShapes(odd).entrySet().stream().collect(java.util.stream.Collectors.toMap(
                        Map.Entry::getKey, x -> x.getValue()[0])));
        assertEquals(List.of("1.num_batches_tracked", "6.num_batches_tracked"), Layers.counterNames(odd));
        assertEquals(List.of("0.weight", "1.weight", "1.bias", "5.weight", "6.weight", "6.bias"),
                List.copyOf(Layers.parameterShapes(odd).keySet()));
    }

    /**
     * The shapes reach the layers as the network needs them, and when they do not the message names both: flat rows
     * into a convolution, images into a dense layer, a wrong channel count, a wrong example shape.
     */
    @Test
    void shapesThatDoNotFitAreNamedWhereverTheyComeFrom() {
        Cnn cnn = Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0);
        float[] rows = new float[2 * 784];
        try (Sequential m = cnn.build(be)) {
            try (Scope scope = Scope.open()) {
                ShapeMismatchException flat = assertThrows(ShapeMismatchException.class,
                        () -> m.forward(Variable.constant(Tensor.of(be, rows, 2, 784))));
                assertEquals("Conv2d(1->32, k=3, padding=1x1): input [2, 784] is not an NCHW batch [N, 1, H, W] "
                        + "(reshape flat images to [N, C, H, W] first)", flat.getMessage());
            }
            float[] shaped = new Predictor(m, Task.CLASSIFICATION, 10, new int[] {1, 28, 28}).predict(rows, 2);
            assertEquals(20, shaped.length);
            assertArrayEquals(shaped, new Predictor(m, Task.CLASSIFICATION, 10).predict(rows, 2),
                    "a predictor takes a flat row of 784 values as one 28 x 28 channel");
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> new Predictor(m, Task.CLASSIFICATION, 10, new int[] {1, 28, 27}).predict(rows, 2));
            assertEquals("predict: the model takes examples of shape [1, 28, 27], but the rows hold 784 values",
                    shape.getMessage());
            Dataset threeChannels = Dataset.classification(new float[4 * 3 * 28 * 28], new int[] {3, 28, 28},
                    new int[4], 10, null);
            ShapeMismatchException channels = assertThrows(ShapeMismatchException.class,
                    () -> Evaluator.evaluate(m, Task.CLASSIFICATION, threeChannels, 4));
            assertEquals("Conv2d(1->32, k=3, padding=1x1): input [4, 3, 28, 28] has 3 channels, expected 1",
                    channels.getMessage());
        }
        Mlp mlp = new Mlp(new int[] {784, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0);
        try (Sequential m = mlp.build(be)) {
            Dataset images = Dataset.classification(new float[4 * 784], new int[] {1, 28, 28}, new int[4], 10, null);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> Evaluator.evaluate(m, Task.CLASSIFICATION, images, 4));
            assertTrue(e.getMessage().contains("[4, 1, 28, 28]") && e.getMessage().contains("flatten"),
                    e.getMessage());
        }
    }

    /** Flatten of a contiguous NCHW batch is a view of the same buffer, not a copy. */
    @Test
    void flatteningImagesIsAView() {
        try (Tensor x = Tensor.zeros(be, DType.FLOAT32, 2, 3, 4, 4)) {
            Variable y = new Flatten().forward(Variable.constant(x));
            assertArrayEquals(new int[] {2, 48}, y.shape().dims());
            assertSame(x.buffer(), y.value().buffer(), "the same device buffer");
            assertEquals(x.offset(), y.value().offset());
        }
    }

    @Test
    void aNetworkTakesItsExamplesAsItsFirstLayerNeedsThem() {
        LayerSpec cnn = Cnn.fashionMnist(Init.PYTORCH_DEFAULT, 0).spec();
        assertArrayEquals(new int[] {1, 28, 28}, InputShape.of(cnn, new int[] {28, 28}), "IDX images: one channel");
        assertArrayEquals(new int[] {1, 28, 28}, InputShape.of(cnn, new int[] {784}), "a CSV row of 28² pixels");
        assertArrayEquals(new int[] {3, 8, 8}, InputShape.of(cnn, new int[] {3, 8, 8}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputShape.of(cnn, new int[] {20}));
        assertEquals("the network takes images [C, H, W], but the examples are [20] (a flat row is read as one "
                + "square channel only when its length is a square, such as 784 = 28x28)", e.getMessage());
        assertTrue(InputShape.takesImages(cnn));
        LayerSpec mlp = new Mlp(new int[] {784, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0).spec();
        assertArrayEquals(new int[] {784}, InputShape.of(mlp, new int[] {28, 28}), "dense layers take flat rows");
        LayerSpec flat = new LayerSpec("sequential", Map.of(), List.of(LayerSpec.of("dropout", Map.of("p_ppm", 1)),
                LayerSpec.of("flatten", Map.of()), Dense.spec(784, 10, true)));
        assertArrayEquals(new int[] {28, 28}, InputShape.of(flat, new int[] {28, 28}), "a flatten takes any shape");

        Dataset rows = Dataset.classification(new float[2 * 784], new int[] {784}, new int[2], 10, null);
        Dataset images = rows.withFeatureShape(1, 28, 28);
        assertArrayEquals(new int[] {1, 28, 28}, images.featureShape());
        assertSame(rows, rows.withFeatureShape(784));
        e = assertThrows(IllegalArgumentException.class, () -> rows.withFeatureShape(1, 28, 27));
        assertEquals("examples of 784 features [784] cannot be seen as [1, 28, 27] (756 values)", e.getMessage());
    }

    @Test
    void aCnnWhoseDenseLayerCannotBeHeldIsRefusedWithItsTrueWidth() {
        // 64 channels of 8193x8193 after two poolings: 4,296,015,936 features, which an int product wraps to
        // 1,048,640, a dense layer that builds and then takes nothing the convolutions give.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Cnn(1, 32772, 32772, 10, Init.PYTORCH_DEFAULT, 0));
        assertEquals("the CNN for 1x32772x32772 images: dense(4296015936->128): a weight of more than 2^31 elements",
                e.getMessage());
        // At the edge: 64·511²·128 = 2,139,103,232 fits the largest array (2^31 - 9), 64·512²·128 = 2^31 does not.
        assertEquals("dense(16711744->128)", new Cnn(1, 2044, 2047, 10, Init.PYTORCH_DEFAULT, 0).describe()
                .split(" ")[8]);
        assertThrows(IllegalArgumentException.class, () -> new Cnn(1, 2048, 2048, 10, Init.PYTORCH_DEFAULT, 0));
        // 64·2^25·2^26 = 2^57 features: their weight of 2^57·128 = 2^64 elements wraps a long to 0, which must not
        // pass for a weight that fits.
        assertEquals("the CNN for 1x134217728x268435456 images: dense(144115188075855872->128): a weight of more "
                + "than 2^31 elements", assertThrows(IllegalArgumentException.class,
                        () -> new Cnn(1, 1 << 27, 1 << 28, 10, Init.PYTORCH_DEFAULT, 0)).getMessage());
        // The largest images: 64·(2^29 - 1)² features wrap a long to a negative width, which is no size problem.
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Cnn(1, Integer.MAX_VALUE,
                Integer.MAX_VALUE, 10, Init.PYTORCH_DEFAULT, 0)).getMessage().endsWith("a weight of more than 2^31 "
                        + "elements"));
    }
}
