package dev.backprop.train;

import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.ModelFixtures;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one evaluation: loss and accuracy against host computations in float64, and data the task refuses. */
class EvaluatorTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void classificationLossAndAccuracyMatchTheHostComputation() {
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 3, 11)) {
            Dataset d = ModelFixtures.classification(13, 4, 3, 12);
            double loss = 0;
            int correct = 0;
            for (int i = 0; i < d.size(); i++) {
                double[] z = ModelFixtures.forward(m, d.features(i));
                double[] p = ModelFixtures.softmax(z);
                loss -= Math.log(p[d.label(i)]);
                int best = 0;
                for (int k = 1; k < z.length; k++) {
                    best = z[k] > z[best] ? k : best;
                }
                correct += best == d.label(i) ? 1 : 0;
            }
            for (int batch : new int[] {1, 5, 13, 100}) {
                Evaluation e = Evaluator.evaluate(m, Task.CLASSIFICATION, d, batch);
                assertEquals(loss / d.size(), e.loss(), 1e-5, "batch " + batch);
                assertEquals((double) correct / d.size(), e.accuracy(), 0.0, "batch " + batch);
                assertEquals(e.accuracy(), Task.CLASSIFICATION.metric(e), 0.0, "batch " + batch);
                assertEquals(13, e.examples());
            }
        }
    }

    /**
     * With class weights the loss over the set is PyTorch's {@code CrossEntropyLoss(weight=w)} on all of it at once,
     * {@code Σ w[y]·l / Σ w[y]}, whatever the batches: skewed classes make each batch's weight sum differ from its
     * share of the rows, so a mean of batch means weighted by rows would not give it.
     */
    @Test
    void weightedLossIsTheWholeSetValue() {
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 3, 11)) {
            Dataset random = ModelFixtures.classification(13, 4, 3, 12);
            int[] labels = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 1};
            float[] features = new float[13 * 4];
            for (int i = 0; i < 13; i++) {
                System.arraycopy(random.features(i), 0, features, 4 * i, 4);
            }
            Dataset d = Dataset.classification(features, new int[] {4}, labels, 3, null);
            double[] w = {0.2, 5, 1.5};
            for (double eps : new double[] {0, 0.3}) {
                double sum = 0, weights = 0;
                for (int i = 0; i < d.size(); i++) {
                    double[] p = ModelFixtures.softmax(ModelFixtures.forward(m, d.features(i)));
                    double smooth = 0;
                    for (int c = 0; c < 3; c++) {
                        smooth -= w[c] * Math.log(p[c]);
                    }
                    sum += (1 - eps) * w[labels[i]] * -Math.log(p[labels[i]]) + eps / 3 * smooth;
                    weights += w[labels[i]];
                }
                SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().weights(w).labelSmoothing(eps).build();
                for (int batch : new int[] {1, 4, 5, 13}) {
                    Evaluation e = Evaluator.evaluate(m, loss, d, batch);
                    assertEquals(sum / weights, e.loss(), 1e-5, "eps " + eps + ", batch " + batch);
                    assertEquals(13, e.examples());
                }
            }
        }
    }

    @Test
    void regressionGivesMeanSquaredErrorAndItsRoot() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 5, 2, 4)) {
            Dataset d = ModelFixtures.regression(7, 3, 2, 5);
            float[] y = new float[14];
            d.gatherTargets(d.identityOrder(), 0, 7, y);
            double se = 0;
            for (int i = 0; i < 7; i++) {
                double[] z = ModelFixtures.forward(m, d.features(i));
                for (int k = 0; k < 2; k++) {
                    se += (z[k] - y[2 * i + k]) * (z[k] - y[2 * i + k]);
                }
            }
            Evaluation e = Evaluator.evaluate(m, Task.REGRESSION, d, 3);
            assertEquals(se / 14, e.loss(), 1e-5);
            assertEquals(Math.sqrt(se / 14), Task.REGRESSION.metric(e), 1e-5);
            assertEquals(Double.NaN, e.accuracy(), "squared error does not classify");
        }
    }

    @Test
    void binaryAccuracyUsesTheZeroLogitThreshold() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 5, 1, 6)) {
            Dataset labels = ModelFixtures.classification(20, 3, 2, 7);
            Dataset d = labels.oneVsRest(1);
            int correct = 0;
            double loss = 0;
            for (int i = 0; i < 20; i++) {
                double z = ModelFixtures.forward(m, d.features(i))[0];
                int y = labels.label(i);
                correct += (z >= 0 ? 1 : 0) == y ? 1 : 0;
                loss += Math.max(z, 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)));
            }
            Evaluation e = Evaluator.evaluate(m, Task.BINARY, d, 6);
            assertEquals(correct / 20.0, Task.BINARY.metric(e), 0.0);
            assertEquals(loss / 20, e.loss(), 1e-5);
        }
    }

    @Test
    void dataThatDoesNotSuitTheTaskIsRejected() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 5, 1, 6)) {
            Dataset reg = ModelFixtures.regression(4, 3, 1, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluator.evaluate(m, Task.CLASSIFICATION, reg, 2));
            assertEquals(true, e.getMessage().contains("class labels"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Evaluator.evaluate(m, Task.BINARY, reg, 2),
                    "Gaussian targets are not 0/1");
        }
    }

    @Test
    void aModelWithFewerOutputsThanTheDataHasClassesIsRefused() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 5, 2, 6)) {
            Dataset three = ModelFixtures.classification(4, 3, 3, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluator.evaluate(m, Task.CLASSIFICATION, three, 2));
            assertEquals("the model gives 2 output(s) per example, but the data has 3 classes (labels in [0, 3)): "
                    + "its last layer needs 3 outputs, one per class", e.getMessage());
        }
    }

    @Test
    void classLabelsGivenToALossOfFloatTargetsAreNamedAsSuch() {
        try (Sequential m = ModelFixtures.mlp(backend, 3, 5, 3, 6)) {
            Dataset labelled = ModelFixtures.classification(4, 3, 3, 1);
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> Evaluator.evaluate(m, new dev.backprop.loss.SquaredError(), labelled, 4));
            assertEquals("squared_error: the targets are INT32 class labels [4], but this loss takes float targets "
                    + "of the prediction's shape [4, 3]; for class labels use cross_entropy (SoftmaxCrossEntropy), or "
                    + "read the data as float targets", e.getMessage());
        }
    }

    @Test
    void evaluationsAndPredictionsOnOneModelTakeTurns() throws Exception {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(5).dense(4, 32).relu().dropout(0.5)
                .dense(32, 1).build()) {
            Dataset d = ModelFixtures.regression(40, 4, 1, 3);
            float[] row = d.features(0);
            Evaluation want = Evaluator.evaluate(m, Task.REGRESSION, d, 8);
            float wantRow = new Predictor(m, Task.REGRESSION).predict(row, 1)[0];
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                CountDownLatch start = new CountDownLatch(2);
                Future<Integer> evaluations = pool.submit(() -> {
                    start.countDown();
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < 150; i++) {
                        wrong += Evaluator.evaluate(m, Task.REGRESSION, d, 8).equals(want) ? 0 : 1;
                    }
                    return wrong;
                });
                Future<Integer> predictions = pool.submit(() -> {
                    Predictor p = new Predictor(m, Task.REGRESSION);
                    start.countDown();
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < 1500; i++) {
                        wrong += p.predict(row, 1)[0] == wantRow ? 0 : 1;
                    }
                    return wrong;
                });
                assertEquals(0, evaluations.get(), "evaluations made with dropout on");
                assertEquals(0, predictions.get(), "predictions made with dropout on");
            } finally {
                pool.shutdown();
            }
            assertTrue(m.isTraining(), "the model is back in the mode it had");
        }
    }
}
