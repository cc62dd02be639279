package dev.backprop.model;

import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictorTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private static float[] features(Dataset d) {
        float[] x = new float[d.size() * d.featureSize()];
        d.gatherFeatures(d.identityOrder(), 0, d.size(), x);
        return x;
    }

    @Test
    void classificationGivesSoftmaxProbabilitiesOfTheForwardPass() {
        try (Sequential m = ModelFixtures.mlp(backend, 5, 7, 4, 3)) {
            Dataset d = ModelFixtures.classification(9, 5, 4, 1);
            float[] x = features(d);
            float[] p = new Predictor(m, Task.CLASSIFICATION, 4).predict(x, 9);
            assertEquals(9 * 4, p.length);
            for (int r = 0; r < 9; r++) {
                double[] want = ModelFixtures.softmax(ModelFixtures.forward(m, d.features(r)));
                double sum = 0;
                for (int c = 0; c < 4; c++) {
                    assertEquals(want[c], p[r * 4 + c], 1e-5, "row " + r + " class " + c);
                    sum += p[r * 4 + c];
                }
                assertEquals(1.0, sum, 1e-5);
            }
        }
    }

    @Test
    void batchSizeDoesNotChangeThePredictions() {
        try (Sequential m = ModelFixtures.mlp(backend, 5, 7, 4, 3)) {
            float[] x = features(ModelFixtures.classification(11, 5, 4, 2));
            float[] one = new Predictor(m, Task.CLASSIFICATION, 1000).predict(x, 11);
            float[] small = new Predictor(m, Task.CLASSIFICATION, 3).predict(x, 11);
            assertArrayEquals(one, small, 1e-6f);
        }
    }

    @Test
    void classifyPicksTheMostProbableClass() {
        try (Sequential m = ModelFixtures.mlp(backend, 5, 7, 4, 3)) {
            Dataset d = ModelFixtures.classification(8, 5, 4, 5);
            int[] c = new Predictor(m, Task.CLASSIFICATION).classify(features(d), 8);
            for (int r = 0; r < 8; r++) {
                double[] z = ModelFixtures.forward(m, d.features(r));
                int best = 0;
                for (int k = 1; k < z.length; k++) {
                    best = z[k] > z[best] ? k : best;
                }
                assertEquals(best, c[r], "row " + r);
            }
        }
    }

    /**
     * A logit just below 0 ({@code -1e-8}) has {@code σ(z) = 0.5 - 2.5e-9}, which rounds to 0.5 in float: the class
     * still comes from {@code z ≥ 0}, as the loss's accuracy and report decide it, so it is 0 while the probability
     * printed is 0.5.
     */
    @Test
    void binaryClassesComeFromTheLogitAsTheLossDecides() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(1, 1, false).build()) {
            for (var v : m.parameters().values()) {
                try (Tensor one = Tensor.of(backend, new float[] {1}, 1, 1)) {
                    Elementwise.copy(one, v.value());
                }
            }
            float[] x = {-1e-8f, 0f, 1e-8f, -1f};
            Predictor p = new Predictor(m, Task.BINARY);
            float[] probabilities = p.predict(x, 4);
            assertEquals(0.5f, probabilities[0], 0f, "σ(-1e-8) rounds to 0.5 in float");
            assertArrayEquals(new int[] {0, 1, 1, 0}, p.classify(x, 4));
            Predictor.Decided both = p.decide(x, 4);
            assertArrayEquals(probabilities, both.outputs(), 0f);
            assertArrayEquals(new int[] {0, 1, 1, 0}, both.classes());
            try (Tensor z = Tensor.of(backend, x, 4, 1); Tensor y = Tensor.of(backend, new float[4], 4, 1)) {
                assertArrayEquals(new BinaryCrossEntropyWithLogits().classify(z, y).orElseThrow().predicted(),
                        both.classes(), "the loss's decisions");
            }
        }
    }

    @Test
    void classesComeFromTheLogitsAsTheLossDecidesNotFromRoundedProbabilities() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(2, 2, false).build()) {
            try (Tensor identity = Tensor.of(backend, new float[] {1, 0, 0, 1}, 2, 2)) {
                Elementwise.copy(identity, m.parameters().values().iterator().next().value());
            }
            float[] x = {0f, 1e-30f, 1e-30f, 0f, 0f, 0f};   // each row's features are its logits
            Predictor p = new Predictor(m, Task.CLASSIFICATION);
            float[] probabilities = p.predict(x, 3);
            assertEquals(probabilities[0], probabilities[1], 0f, "softmax([0, 1e-30]) rounds to [0.5, 0.5] in float");
            assertArrayEquals(new int[] {1, 0, 0}, p.classify(x, 3), "the largest logit, the first of equal ones");
            try (Tensor z = Tensor.of(backend, x, 3, 2); Tensor y = Tensor.of(backend, new int[3], 3)) {
                assertArrayEquals(new SoftmaxCrossEntropy().classify(z, y).orElseThrow().predicted(),
                        p.classify(x, 3), "the loss's decisions");
            }
        }
    }

    @Test
    void binaryGivesTheSigmoidOfTheLogitAndRegressionTheRawValues() {
        try (Sequential b = ModelFixtures.mlp(backend, 3, 4, 1, 7);
             Sequential r = ModelFixtures.mlp(backend, 3, 4, 2, 8)) {
            Dataset d = ModelFixtures.regression(5, 3, 1, 9);
            float[] x = features(d);
            float[] pb = new Predictor(b, Task.BINARY).predict(x, 5);
            float[] pr = new Predictor(r, Task.REGRESSION).predict(x, 5);
            int[] cls = new Predictor(b, Task.BINARY).classify(x, 5);
            for (int i = 0; i < 5; i++) {
                double z = ModelFixtures.forward(b, d.features(i))[0];
                assertEquals(1 / (1 + Math.exp(-z)), pb[i], 1e-6);
                assertEquals(z >= 0 ? 1 : 0, cls[i]);
                double[] v = ModelFixtures.forward(r, d.features(i));
                assertEquals(v[0], pr[2 * i], 1e-5);
                assertEquals(v[1], pr[2 * i + 1], 1e-5);
            }
            assertThrows(IllegalStateException.class, () -> new Predictor(r, Task.REGRESSION).classify(x, 5));
        }
    }

    @Test
    void rowsAsArraysGiveTheSameAsTheFlatForm() {
        try (Sequential m = ModelFixtures.mlp(backend, 2, 3, 3, 1)) {
            float[][] rows = {{0.5f, -1}, {2, 0.25f}, {0, 0}};
            float[][] p = new Predictor(m, Task.CLASSIFICATION).predict(rows);
            float[] flat = new Predictor(m, Task.CLASSIFICATION).predict(new float[] {0.5f, -1, 2, 0.25f, 0, 0}, 3);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(flat, 3 * i, 3 * i + 3), p[i]);
            }
            assertEquals(0, new Predictor(m, Task.CLASSIFICATION).predict(new float[0][]).length);
        }
    }

    @Test
    void anEmptyBatchGivesAnEmptyResultInEveryForm() {
        // PyTorch: model(torch.empty(0, 2)) is an empty (0, K) tensor, and argmax of it an empty (0,) one
        try (Sequential m = ModelFixtures.mlp(backend, 2, 3, 3, 1)) {
            Predictor p = new Predictor(m, Task.CLASSIFICATION);
            assertEquals(0, p.predict(new float[0][]).length);
            assertArrayEquals(new float[0], p.predict(new float[0], 0));
            assertArrayEquals(new int[0], p.classify(new float[0], 0));
            Predictor.Decided d = p.decide(new float[0], 0);
            assertArrayEquals(new float[0], d.outputs());
            assertArrayEquals(new int[0], d.classes());
            // rows without values, or values without rows, are still refused
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[0], 2));
            assertEquals("predict: 0 feature values do not make 2 example rows of equal width", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.predict(new float[2], 0));
            // a regression model still has no classes to give, even for no rows
            Predictor r = new Predictor(m, Task.REGRESSION);
            assertArrayEquals(new float[0], r.predict(new float[0], 0));
            assertThrows(IllegalStateException.class, () -> r.classify(new float[0], 0));
            assertThrows(IllegalStateException.class, () -> r.decide(new float[0], 0));
        }
        // an image model given its example shape: no images, no outputs
        try (Sequential cnn = Sequential.builder(backend, DType.FLOAT32).conv2d(Conv2d.options(1, 2, 3)).flatten()
                .dense(8, 3).build()) {
            Predictor p = new Predictor(cnn, Task.CLASSIFICATION, 4, new int[] {1, 4, 4});
            assertArrayEquals(new float[0], p.predict(new float[0], 0));
            assertArrayEquals(new int[0], p.classify(new float[0], 0));
            assertEquals(0, p.predict(new float[0][]).length);
        }
        // a closed model is refused for an empty batch as for any other, in both forms
        Sequential closed = ModelFixtures.mlp(backend, 2, 3, 3, 1);
        closed.close();
        Predictor gone = new Predictor(closed, Task.CLASSIFICATION);
        assertThrows(IllegalStateException.class, () -> gone.predict(new float[0], 0));
        assertThrows(IllegalStateException.class, () -> gone.predict(new float[0][]));
        assertThrows(IllegalStateException.class, () -> gone.classify(new float[0], 0));
        assertEquals(0, backend.memoryStats().liveBuffers());
    }

    @Test
    void badInputIsRejectedClearly() {
        try (Sequential m = ModelFixtures.mlp(backend, 5, 7, 4, 3)) {
            Predictor p = new Predictor(m, Task.CLASSIFICATION);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[7], 2));
            assertTrue(e.getMessage().contains("7 feature values"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.predict(new float[5], 0));
            ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> p.predict(new float[6], 2));
            assertTrue(s.getMessage().contains("3"), s.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new Predictor(m, Task.CLASSIFICATION, 0));
            assertThrows(IllegalArgumentException.class, () -> p.predict(new float[][] {{1, 2, 3, 4, 5}, {1}}));
        }
        assertEquals(0, backend.memoryStats().liveBuffers(), "every batch tensor and parameter is freed");
    }

    @Test
    void nonFiniteFeaturesAreRefusedNamingTheRowAndFeature() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 4, 1, 3)) {
            Predictor p = new Predictor(m, Task.REGRESSION);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.predict(new float[] {0, 1, 2, 3, Float.NaN, 5}, 2));
            assertEquals("predict: row 1 holds NaN in feature 1; the model can only predict from finite features",
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> p.predict(new float[] {Float.NEGATIVE_INFINITY, 1, 2}, 1));
            assertTrue(e.getMessage().contains("row 0 holds -Infinity in feature 0"), e.getMessage());
        }
    }

    @Test
    void aBinaryModelThatEndsWithASigmoidIsRefused() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).dense(3, 4).relu().dense(4, 1).sigmoid()
                .dropout(0.1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Predictor(m, Task.BINARY));
            assertTrue(e.getMessage().contains("already ends with a sigmoid"), e.getMessage());
            assertEquals(4, new Predictor(m, Task.REGRESSION).predict(new float[12], 4).length,
                    "a sigmoid output is a bounded regression");
        }
    }

    @Test
    void aBinaryModelWithSeveralOutputsIsRefused() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 4, 3, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Predictor(m, Task.BINARY));
            assertEquals("task binary takes one output per example (the logit of class 1), but the network's last "
                    + "layer gives 3; use task classification for 3 classes", e.getMessage());
        }
    }

    @Test
    void aNetworkThatTakesImagesGetsFlatRowsAsSquareImages() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(2)
                .conv2d(Conv2d.options(1, 2, 3).padding(1)).relu().flatten().dense(2 * 4 * 4, 3).build()) {
            float[] x = features(ModelFixtures.classification(2, 16, 3, 6));
            float[] shaped = new Predictor(m, Task.CLASSIFICATION, 10, new int[] {1, 4, 4}).predict(x, 2);
            assertArrayEquals(shaped, new Predictor(m, Task.CLASSIFICATION).predict(x, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Predictor(m, Task.CLASSIFICATION).predict(new float[30], 2));
            assertTrue(e.getMessage().startsWith("predict: the network takes images [C, H, W], but the examples are "
                    + "[15]"), e.getMessage());
        }
    }

    @Test
    void aClosedModelIsNamedAsSuch() {
        Sequential m = ModelFixtures.mlp(backend, 3, 4, 1, 1);
        Predictor p = new Predictor(m, Task.REGRESSION);
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.predict(new float[3], 1));
        assertTrue(e.getMessage().startsWith("predict: the model's parameter '0.weight' is closed"), e.getMessage());
    }

    @Test
    void predictorsOfOneModelRunFromSeveralThreadsWithoutChangingItsMode() throws Exception {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(4).dense(4, 32).relu().dropout(0.5)
                .dense(32, 1).build()) {
            float[] row = {0.1f, -0.2f, 0.3f, 0.4f};
            float want = new Predictor(m, Task.REGRESSION).predict(row, 1)[0];
            int threads = 4;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(threads);
            List<Future<Integer>> wrong = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                wrong.add(pool.submit(() -> {
                    Predictor p = new Predictor(m, Task.REGRESSION);
                    start.countDown();
                    start.await();
                    int n = 0;
                    for (int i = 0; i < 300; i++) {
                        n += p.predict(row, 1)[0] == want ? 0 : 1;
                    }
                    return n;
                }));
            }
            pool.shutdown();
            for (Future<Integer> f : wrong) {
                assertEquals(0, f.get(), "predictions made with dropout on (the model left in training mode)");
            }
            assertTrue(m.isTraining(), "the model is back in the mode it had");
        }
    }
}