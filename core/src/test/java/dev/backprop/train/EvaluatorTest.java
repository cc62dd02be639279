package dev.backprop.train;

import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.ModelFixtures;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
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

    /**
     * The report comes from the evaluation's own pass: its figures are {@link Evaluator#evaluate}'s exactly, the
     * matrix's diagonal gives the same accuracy, and neither depends on the batch size.
     */
    @Test
    void classificationReportAgreesWithTheEvaluationWhateverTheBatches() {
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 3, 11)) {
            Dataset d = ModelFixtures.classification(13, 4, 3, 12);
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            EvaluationReport whole = Evaluator.report(m, loss, d, 13);
            ConfusionMatrix matrix = whole.confusion().orElseThrow();
            assertTrue(whole.regression().isEmpty());
            assertEquals(3, matrix.classes());
            assertEquals(13, matrix.total());
            for (int batch : new int[] {1, 7, 13}) {
                EvaluationReport r = Evaluator.report(m, loss, d, batch);
                assertEquals(Evaluator.evaluate(m, loss, d, batch), r.evaluation(), "batch " + batch);
                assertEquals(matrix, r.confusion().orElseThrow(), "batch " + batch);
                assertEquals(r.evaluation().accuracy(), matrix.accuracy(), 0.0, "batch " + batch);
                assertEquals((double) matrix.correct() / d.size(), r.evaluation().accuracy(), 0.0);
            }
            for (int k = 0; k < 3; k++) {
                long support = 0;
                for (int i = 0; i < d.size(); i++) {
                    support += d.label(i) == k ? 1 : 0;
                }
                assertEquals(support, matrix.scores(k).support(), "class " + k);
            }
        }
    }

    /**
     * Tied logits go to the first of them (PyTorch's {@code argmax} on the CPU), in the matrix as in the accuracy:
     * with zero weights and the bias {@code [1, 1, 0]} every example is predicted as class 0.
     */
    @Test
    void tiedLogitsArePredictedAsTheAccuracyCountsThem() {
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(3).dense(4, 3).build()) {
            for (var p : m.parameters().entrySet()) {
                Elementwise.fill(p.getValue().value(), 0);
            }
            Tensor bias = m.parameters().entrySet().stream().filter(e -> e.getKey().endsWith("bias")).findFirst()
                    .orElseThrow().getValue().value();
            try (Tensor tied = Tensor.of(backend, new float[] {1, 1, 0}, 3)) {
                Elementwise.copy(tied, bias);
            }
            Dataset d = ModelFixtures.classification(20, 4, 3, 5);
            EvaluationReport r = Evaluator.report(m, new SoftmaxCrossEntropy(), d, 6);
            ConfusionMatrix matrix = r.confusion().orElseThrow();
            for (int t = 0; t < 3; t++) {
                assertEquals(matrix.scores(t).support(), matrix.count(t, 0), "class " + t);
            }
            assertEquals(r.evaluation().accuracy(), matrix.accuracy(), 0.0);
            assertEquals(Evaluator.evaluate(m, Task.CLASSIFICATION, d, 6).accuracy(), matrix.accuracy(), 0.0);
        }
    }

    /**
     * A loss written before {@link dev.backprop.loss.Loss#classify} existed counts its correct samples only: its
     * report is refused by name rather than scored as a regression with no accuracy.
     */
    @Test
    void aLossThatCountsWithoutClassifyingIsRefusedAReport() {
        SoftmaxCrossEntropy inner = new SoftmaxCrossEntropy();
        dev.backprop.loss.Loss counting = new dev.backprop.loss.Loss() {
            @Override
            public dev.backprop.autograd.Variable compute(dev.backprop.autograd.Variable prediction, Tensor target) {
                return inner.compute(prediction, target);
            }

            @Override
            public dev.backprop.loss.Reduction reduction() {
                return inner.reduction();
            }

            @Override
            public String name() {
                return "counting";
            }

            @Override
            public java.util.OptionalLong countCorrect(Tensor prediction, Tensor target) {
                return inner.countCorrect(prediction, target);
            }
        };
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 3, 11)) {
            Dataset d = ModelFixtures.classification(13, 4, 3, 12);
            assertEquals(Evaluator.evaluate(m, inner, d, 5), Evaluator.evaluate(m, counting, d, 5));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Evaluator.report(m, counting, d, 5));
            assertEquals("loss counting counts correct samples (countCorrect) but does not say their classes "
                    + "(classify), which a report tallies: implement Loss.classify", e.getMessage());
        }
    }

    /** One logit: the 2x2 matrix decides at {@code z ≥ 0}, as the accuracy does. */
    @Test
    void binaryReportUsesTheAccuracysThreshold() {
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 1, 2)) {
            Dataset random = ModelFixtures.regression(17, 4, 1, 9);
            float[] features = new float[17 * 4];
            float[] targets = new float[17];
            for (int i = 0; i < 17; i++) {
                System.arraycopy(random.features(i), 0, features, 4 * i, 4);
                targets[i] = i % 3 == 0 ? 1 : 0;
            }
            Dataset d = Dataset.regression(features, new int[] {4}, targets, 1);
            BinaryCrossEntropyWithLogits loss = new BinaryCrossEntropyWithLogits();
            long[][] want = new long[2][2];
            for (int i = 0; i < 17; i++) {
                want[(int) targets[i]][ModelFixtures.forward(m, d.features(i))[0] >= 0 ? 1 : 0]++;
            }
            for (int batch : new int[] {1, 7, 17}) {
                EvaluationReport r = Evaluator.report(m, loss, d, batch);
                ConfusionMatrix matrix = r.confusion().orElseThrow();
                assertEquals(2, matrix.classes());
                for (int t = 0; t < 2; t++) {
                    for (int p = 0; p < 2; p++) {
                        assertEquals(want[t][p], matrix.count(t, p), "batch " + batch + " [" + t + "][" + p + "]");
                    }
                }
                assertEquals(r.evaluation().accuracy(), matrix.accuracy(), 0.0);
            }
        }
    }

    /**
     * Multi-label binary accuracy is the fraction of elements right, as Keras's {@code binary_accuracy} (the mean over
     * every element): logits {@code x} against 0/1 targets, class 1 where {@code z ≥ 0}. Row 0 (1, -1) vs (1, 0):
     * both right; row 1 (2, 3) vs (0, 1): one right; row 2 (-1, -2) vs (0, 0): both right. So 5 of 6, not 5 of 3
     * examples.
     */
    @Test
    void multiLabelBinaryAccuracyIsTheFractionOfElementsRight() {
        try (Sequential m = identity2(backend)) {
            Dataset d = multiLabel();
            BinaryCrossEntropyWithLogits loss = new BinaryCrossEntropyWithLogits();
            for (int batch : new int[] {1, 2, 3}) {
                Evaluation e = Evaluator.evaluate(m, loss, d, batch);
                assertEquals(5.0 / 6.0, e.accuracy(), 0.0, "batch " + batch);
                EvaluationReport r = Evaluator.report(m, loss, d, batch);
                assertEquals(5.0 / 6.0, r.evaluation().accuracy(), 0.0, "report, batch " + batch);
                assertEquals(r.evaluation().accuracy(), r.confusion().orElseThrow().accuracy(), 0.0);
            }
        }
    }

    /** The three examples of {@link #multiLabelBinaryAccuracyIsTheFractionOfElementsRight}: two 0/1 targets each. */
    static Dataset multiLabel() {
        float[] x = {1, -1, 2, 3, -1, -2};
        float[] y = {1, 0, 0, 1, 0, 0};
        return Dataset.regression(x, new int[] {2}, y, 2);
    }

    /** A 2-to-2 dense layer with the identity as weights and no bias: its outputs are its inputs. */
    static Sequential identity2(ReferenceBackend backend) {
        Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(2, 2, false).build();
        for (var v : m.parameters().values()) {
            try (Tensor eye = Tensor.of(backend, new float[] {1, 0, 0, 1}, 2, 2)) {
                Elementwise.copy(eye, v.value());
            }
        }
        return m;
    }

    /** Per-target MSE, MAE and R² from the host's float64 forward, identical for every batch size. */
    @Test
    void regressionReportMatchesTheHostComputationWhateverTheBatches() {
        try (Sequential m = ModelFixtures.mlp(backend, 4, 6, 2, 4)) {
            Dataset d = ModelFixtures.regression(15, 4, 2, 8);
            float[] targets = new float[30];
            d.gatherTargets(d.identityOrder(), 0, 15, targets);
            double[][] y = new double[15][];
            double[][] p = new double[15][];
            for (int i = 0; i < 15; i++) {
                y[i] = new double[] {targets[2 * i], targets[2 * i + 1]};
                p[i] = ModelFixtures.forward(m, d.features(i));
            }
            RegressionScores want = RegressionScores.of(y, p);
            RegressionScores whole = Evaluator.report(m, Task.REGRESSION.loss(), d, 15).regression().orElseThrow();
            for (int j = 0; j < 2; j++) {
                assertEquals(want.mse(j), whole.mse(j), 1e-5, "mse " + j);
                assertEquals(want.mae(j), whole.mae(j), 1e-5, "mae " + j);
                assertEquals(want.r2(j), whole.r2(j), 1e-5, "r2 " + j);
            }
            for (int batch : new int[] {1, 7}) {
                EvaluationReport r = Evaluator.report(m, Task.REGRESSION.loss(), d, batch);
                assertTrue(r.confusion().isEmpty());
                assertEquals(whole.toString(), r.regression().orElseThrow().toString(), "batch " + batch);
                assertEquals(Evaluator.evaluate(m, Task.REGRESSION.loss(), d, batch), r.evaluation());
            }
            assertEquals(whole.mse(), Evaluator.evaluate(m, Task.REGRESSION, d, 15).loss(), 1e-6);
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
