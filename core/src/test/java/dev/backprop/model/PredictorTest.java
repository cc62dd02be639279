package dev.backprop.model;

import dev.backprop.data.Dataset;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.ShapeMismatchException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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

    @Test
    void binaryGivesTheSigmoidOfTheLogitAndRegressionTheRawValues() {
        try (Sequential b = ModelFixtures.mlp(backend, 3, 4, 1, 7); Sequential r = ModelFixtures.mlp(backend, 3, 4, 2, 8)) {
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
}
