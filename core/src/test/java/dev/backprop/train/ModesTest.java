package dev.backprop.train;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.BatchNorm;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training runs the model in training mode (batch statistics, running statistics updated, dropout on); the
 * trainer's validation, the {@link Evaluator} and the {@link Predictor} run it in evaluation mode (running
 * statistics, no dropout, nothing updated); and each leaves every layer in the mode it found it in.
 */
class ModesTest {
    private final ReferenceBackend be = new ReferenceBackend();

    @AfterEach
    void close() {
        be.close();
    }

    /** dense, BatchNorm1d, ReLU, dropout 0.5, dense. */
    private Sequential net(long seed) {
        return Sequential.builder(be, DType.FLOAT32).seed(seed).dense(2, 6).batchNorm1d(6).relu().dropout(0.5)
                .dense(6, 3).build();
    }

    private static long[] state(Sequential m) {
        return new long[] {m.counters().get("1.num_batches_tracked")[0], m.trainingState().get("3.dropout_offset")[0]};
    }

    @Test
    void theTrainerTrainsInTrainingModeAndValidatesInEvaluationMode() {
        Dataset data = blobs(30, 1);
        try (Sequential m = net(2); Adam opt = Adam.adam(m.parameters(), 0.02)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(10).seed(3).build();
            List<EpochMetrics> h = tr.fit(data, data, 3, null);
            assertEquals(9, state(m)[0], "9 training steps counted; the 3 validation passes counted none");
            assertTrue(state(m)[1] > 0, "dropout drew masks in training");
            assertFalse(Arrays.equals(new float[6], m.buffers().get("1.running_mean").toFloatArray()),
                    "running statistics moved");
            assertTrue(m.isTraining(), "back in training mode, as it was");
            long[] before = state(m);
            float[] mean = m.buffers().get("1.running_mean").toFloatArray();
            Evaluation e = tr.evaluate(data);
            assertEquals(h.get(2).validation(), e, "validation after the last epoch = evaluation of the final model");
            assertEquals(e, tr.evaluate(data), "no dropout in evaluation: the same figures twice");
            assertArrayEquals(before, state(m), "evaluation counts no batch and draws no mask");
            assertArrayEquals(mean, m.buffers().get("1.running_mean").toFloatArray(), "nor moves the statistics");
            assertEquals(evaluateByHand(m, data), e.loss(), 1e-6, "evaluation normalizes with running statistics");
        }
    }

    /** The mean loss of the whole set in one batch, the model switched to evaluation mode by hand. */
    private double evaluateByHand(Sequential m, Dataset data) {
        float[] x = new float[data.size() * 2];
        int[] y = new int[data.size()];
        data.gatherFeatures(data.identityOrder(), 0, data.size(), x);
        data.gatherLabels(data.identityOrder(), 0, data.size(), y);
        try (NoGrad off = NoGrad.open(); ModeSwitch eval = ModeSwitch.to(m, false);
             Tensor xt = Tensor.of(be, x, data.size(), 2); Tensor yt = Tensor.of(be, y, data.size())) {
            return new SoftmaxCrossEntropy().compute(m.forward(Variable.constant(xt)), yt).value().item();
        }
    }

    @Test
    void eachLayerIsLeftInTheModeItWasIn() {
        Dataset data = blobs(20, 4);
        try (Sequential m = net(5); Adam opt = Adam.adam(m.parameters(), 0.02)) {
            BatchNorm bn = (BatchNorm) m.layers().get(1);
            Dropout drop = (Dropout) m.layers().get(3);
            drop.train(false);
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(10).seed(6).build();
            tr.fit(data, data, 1, null);
            assertEquals(2, state(m)[0], "trained in training mode");
            assertTrue(state(m)[1] > 0, "dropout was on for training, though switched off before");
            assertTrue(bn.isTraining());
            assertFalse(drop.isTraining(), "the dropout layer is back off");
            m.train(false);
            tr.fit(data, null, 1, null);
            assertEquals(4, state(m)[0], "a model left in evaluation mode still trains in training mode");
            assertFalse(bn.isTraining() || drop.isTraining(), "and is left in evaluation mode");
            Evaluator.evaluate(m, Task.CLASSIFICATION, data, 7);
            assertFalse(m.isTraining());
        }
    }

    @Test
    void thePredictorPredictsInEvaluationMode() {
        Dataset data = blobs(12, 7);
        float[] x = new float[24];
        data.gatherFeatures(data.identityOrder(), 0, 12, x);
        try (Sequential m = net(8); Adam opt = Adam.adam(m.parameters(), 0.02)) {
            Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(9).build().fit(data, null, 2, null);
            long[] before = state(m);
            Predictor p = new Predictor(m, Task.CLASSIFICATION, 5);
            float[] first = p.predict(x, 12);
            assertArrayEquals(first, p.predict(x, 12), "no dropout: the same probabilities twice");
            assertArrayEquals(before, state(m), "prediction counts no batch and draws no mask");
            assertTrue(m.isTraining(), "the model is back in training mode");
            float[] training;
            try (Tape t = Tape.open(); Tensor xt = Tensor.of(be, x, 12, 2)) {
                training = dev.backprop.tensor.Softmax.softmax(m.forward(Variable.constant(xt)).value())
                        .toFloatArray();
            }
            assertNotEquals(Arrays.toString(first), Arrays.toString(training), "training mode would differ");
        }
    }
}
