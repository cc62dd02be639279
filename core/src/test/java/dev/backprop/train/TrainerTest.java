package dev.backprop.train;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The epoch loop's hooks, its shortened and resumed epochs, and the one divergence check saying which input is not
 * finite: the batch's data, the weights, the optimizer state, another rank, or else the learning rate.
 */
class TrainerTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    private Sequential net(long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(2, 5).relu().dense(5, 3).build();
    }

    private static Map<String, double[]> weights(Sequential m) {
        Map<String, double[]> w = new LinkedHashMap<>();
        m.parameters().forEach((k, v) -> w.put(k, v.value().toDoubles()));
        return w;
    }

    private static void assertSameWeights(Map<String, double[]> a, Map<String, double[]> b, String what) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), what + ": " + k));
    }

    /** Records the order of hook calls and the gradients a watcher was told of. */
    private static final class Recorder implements StepHook {
        final List<String> calls = new ArrayList<>();
        final Map<Variable, Integer> ready = new IdentityHashMap<>();

        @Override
        public GradientListener beforeBackward(StepPosition step, Variable loss) {
            calls.add("before-backward " + step.globalStep());
            return leaf -> ready.merge(leaf, 1, Integer::sum);
        }

        @Override
        public OptionalDouble afterBackward(StepPosition step) {
            calls.add("after-backward " + step.globalStep());
            return OptionalDouble.empty();
        }

        @Override
        public void beforeUpdate(StepPosition step) {
            calls.add("before-update " + step.globalStep());
        }
    }

    /**
     * The per-epoch train accuracy of a multi-label binary model counts elements, as the evaluation does: with a
     * learning rate of 0 the weights stay the identity, so every epoch scores 5 of 6 elements
     * ({@link EvaluatorTest#multiLabelBinaryAccuracyIsTheFractionOfElementsRight}), read at once or in a window.
     */
    @Test
    void multiLabelTrainAccuracyIsTheFractionOfElementsRight() {
        Dataset data = EvaluatorTest.multiLabel();
        for (int sync : new int[] {1, 2}) {
            try (Sequential m = EvaluatorTest.identity2(backend); Sgd opt = new Sgd(m.parameters(), 0.0)) {
                List<Long> decisions = new ArrayList<>();
                List<EpochMetrics> h = Trainer.builder(m, new BinaryCrossEntropyWithLogits(), opt).batchSize(2)
                        .syncEvery(sync).shuffle(false).build().fit(data, null, 2, new EpochListener() {
                            @Override
                            public void onEpoch(EpochMetrics metrics) {
                            }

                            @Override
                            public void onBatch(BatchResult b) {
                                decisions.add(b.decisions());
                            }
                        });
                assertEquals(List.of(4L, 2L, 4L, 2L), decisions, "syncEvery " + sync);
                for (EpochMetrics e : h) {
                    assertEquals(5.0 / 6.0, e.trainAccuracy(), 0.0, "syncEvery " + sync + ", epoch " + e.epoch());
                }
            }
        }
    }

    @Test
    void hooksJoinEveryStepInOrderAndSeeEveryGradient() {
        Dataset data = blobs(10, 1);
        try (Sequential m = net(2); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Recorder rec = new Recorder();
            List<String> batches = new ArrayList<>();
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(3).hook(rec).build();
            tr.fit(data, null, 2, new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                    batches.add("epoch " + metrics.epoch());
                }

                @Override
                public void onBatch(BatchResult b) {
                    batches.add(b.position().toString() + " rows " + b.position().rows());
                }
            });
            assertEquals(List.of("before-backward 1", "after-backward 1", "before-update 1", "before-backward 2",
                    "after-backward 2", "before-update 2"), rec.calls.subList(0, 6));
            assertEquals(18, rec.calls.size(), "three calls for each of 2 x 3 steps");
            assertEquals(4, rec.ready.size(), "every parameter's gradient announced");
            rec.ready.values().forEach(n -> assertEquals(6, n, "once per step"));
            assertEquals(List.of("step 1 (epoch 1, batch 1 of 3) rows 4", "step 2 (epoch 1, batch 2 of 3) rows 4",
                    "step 3 (epoch 1, batch 3 of 3) rows 2", "epoch 1"), batches.subList(0, 4));
        }
    }

    /** A hook that replaces every gradient by zero: plain SGD then leaves the weights as they were. */
    @Test
    void aHookAfterBackwardMayReplaceTheGradients() {
        Dataset data = blobs(9, 4);
        try (Sequential m = net(5); Sgd opt = new Sgd(m.parameters(), 0.5)) {
            Map<String, double[]> before = weights(m);
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(3).hook(new StepHook() {
                @Override
                public OptionalDouble afterBackward(StepPosition step) {
                    m.parameters().values().forEach(v -> Elementwise.fill(v.grad(), 0));
                    return OptionalDouble.empty();
                }
            }).build();
            tr.fit(data, null, 1, null);
            assertSameWeights(before, weights(m), "zero gradients");
        }
    }

    /**
     * Epochs of 2 of their 4 batches; a run interrupted after the first batch of epoch 2 and continued with
     * {@link Trainer#resumeAt} ends with the bits of an uninterrupted one, and reports only the batches it ran.
     */
    @Test
    void shortEpochsAndAResumedHalfEpochGiveTheUninterruptedBits() {
        Dataset data = blobs(15, 6);
        Map<String, double[]> straight;
        try (Sequential m = net(7); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            List<EpochMetrics> h = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(8)
                    .stepsPerEpoch(2).build().fit(data, null, 3, null);
            assertEquals(8, h.get(0).examples(), "2 batches of 4");
            straight = weights(m);
        }
        try (Sequential m = net(7); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer first = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(8).stepsPerEpoch(2)
                    .build();
            RuntimeException stop = new IllegalStateException("interrupted");
            assertThrows(IllegalStateException.class, () -> first.fit(data, null, 3, new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onBatch(BatchResult b) {
                    if (b.position().globalStep() == 3) {
                        throw stop;
                    }
                }
            }));
            Trainer rest = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(8).stepsPerEpoch(2)
                    .build();
            rest.resumeAt(1, 1);
            List<Long> steps = new ArrayList<>();
            List<EpochMetrics> h = rest.fit(data, null, 2, new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onBatch(BatchResult b) {
                    steps.add(b.position().globalStep());
                }
            });
            assertEquals(List.of(4L, 5L, 6L), steps);
            assertEquals(4, h.get(0).examples(), "the half epoch reports the batch it ran");
            assertEquals(3, rest.epoch());
            assertSameWeights(straight, weights(m), "resumed");
        }
    }

    @Test
    void withoutAccuracyTrackingNoPredictionIsCounted() {
        Dataset data = blobs(12, 9);
        try (Sequential m = net(10); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            List<BatchResult> seen = new ArrayList<>();
            List<EpochMetrics> h = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(5)
                    .trackAccuracy(false).build().fit(data, null, 1, new EpochListener() {
                        @Override
                        public void onEpoch(EpochMetrics metrics) {
                        }

                        @Override
                        public void onBatch(BatchResult b) {
                            seen.add(b);
                        }
                    });
            assertTrue(Double.isNaN(h.get(0).trainAccuracy()));
            assertEquals(3, seen.size());
            seen.forEach(b -> assertTrue(b.correct().isEmpty()));
            assertTrue(h.get(0).trainSeconds() > 0 && h.get(0).trainSeconds() * 1000 <= h.get(0).millis() + 1);
        }
    }

    @Test
    void aNonFiniteExampleIsNamedAndItsStepIsNotApplied() {
        float[] x = new float[2 * 9];
        int[] y = new int[9];
        Random r = new Random(11);
        for (int i = 0; i < 9; i++) {
            x[2 * i] = (float) r.nextGaussian();
            x[2 * i + 1] = (float) r.nextGaussian();
            y[i] = i % 3;
        }
        x[2 * 7 + 1] = Float.NaN;
        Dataset data = Dataset.classification(x, new int[] {2}, y, 3, null);
        try (Sequential m = net(12); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Map<String, double[]> applied = new LinkedHashMap<>();
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(3).shuffle(false).build();
            TrainingStoppedException e = assertThrows(TrainingStoppedException.class,
                    () -> tr.fit(data, null, 1, new EpochListener() {
                        @Override
                        public void onEpoch(EpochMetrics metrics) {
                        }

                        @Override
                        public void onBatch(BatchResult b) {
                            applied.clear();
                            applied.putAll(weights(m));
                        }
                    }));
            assertEquals(TrainingStoppedException.Reason.DATA, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith("training stopped: the cross_entropy loss is NaN at step 3 (epoch 1, "
                    + "batch 3 of 3). The batch holds NaN in feature 1 of example 7; fix the data"), e.getMessage());
            assertSameWeights(applied, weights(m), "the diverging step is not applied");
        }
    }

    @Test
    void nonFiniteWeightsOrOptimizerStateStopTrainingBeforeTheFirstStep() {
        Dataset data = blobs(6, 13);
        try (Sequential m = net(14); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Tensor w = m.parameters().get("2.weight").value();
            float[] v = w.toFloatArray();
            v[4] = Float.POSITIVE_INFINITY;
            backend.upload(v, 0, w.buffer(), w.offset(), v.length);
            TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> Trainer.builder(m,
                    new SoftmaxCrossEntropy(), opt).label("rank 2").build().fit(data, null, 1, null));
            assertEquals(TrainingStoppedException.Reason.WEIGHTS, e.reason());
            assertEquals("training cannot start on rank 2: the weights hold Infinity at element 4 in '2.weight' before "
                    + "the first step; the starting weights are broken (load them from another file, or draw fresh "
                    + "ones)", e.getMessage());
        }
        try (Sequential m = net(14); Adam opt = Adam.adam(m.parameters(), 0.1)) {
            Elementwise.fill(opt.state().get("0.bias.exp_avg_sq"), Double.NaN);
            TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> Trainer.builder(m,
                    new SoftmaxCrossEntropy(), opt).build().fit(data, null, 1, null));
            assertEquals(TrainingStoppedException.Reason.OPTIMIZER_STATE, e.reason());
            assertTrue(e.getMessage().contains("the optimizer state holds NaN at element 0 in '0.bias.exp_avg_sq'"),
                    e.getMessage());
            assertEquals(0, opt.stepCount(), "no step was taken");
        }
    }

    /**
     * A hook that judges a step by another loss (a data-parallel rank's global batch): a non-finite global loss
     * stops training at that step even though this batch's own loss is finite, and says so.
     */
    @Test
    void aStepJudgedByAnotherRanksLossStopsAndSaysWhose() {
        Dataset data = blobs(8, 15);
        try (Sequential m = net(16); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).hook(new StepHook() {
                @Override
                public OptionalDouble afterBackward(StepPosition step) {
                    return OptionalDouble.of(step.batch() == 2 ? Double.NaN : 0.5);
                }
            }).build();
            TrainingStoppedException e = assertThrows(TrainingStoppedException.class,
                    () -> tr.fit(data, null, 1, null));
            assertEquals(TrainingStoppedException.Reason.OTHER_RANK, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith("training stopped: the global batch's cross_entropy loss is NaN at "
                    + "step 2 (epoch 1, batch 2 of 2). This batch's own loss is "), e.getMessage());
            assertEquals(1, opt.stepCount(), "the second step is not applied");
        }
    }

    @Test
    void aLoaderForOtherBatchesIsRefused() {
        Dataset data = blobs(6, 17);
        try (Sequential m = net(18); Sgd opt = new Sgd(m.parameters(), 0.1);
             dev.backprop.data.BatchLoader loader = new dev.backprop.data.BatchLoader(data, backend, 3)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> tr.fit(loader, null, 1, null));
            assertTrue(e.getMessage().contains("(3 examples, FLOAT32) differ from this trainer's (4, FLOAT32)"),
                    e.getMessage());
        }
    }

    /** A last layer narrower than the data's classes makes the loss NaN; that is a model error, not a learning rate. */
    @Test
    void aModelWithFewerOutputsThanTheDataHasClassesIsRefusedBeforeAnyStep() {
        Dataset data = blobs(6, 19);
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(20).dense(2, 5).relu().dense(5, 2).build();
             Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Map<String, double[]> before = weights(m);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(3).build().fit(data, data, 1,
                            null));
            assertEquals("the model gives 2 output(s) per example, but the data has 3 classes (labels in [0, 3)): "
                    + "its last layer needs 3 outputs, one per class", e.getMessage());
            assertEquals(0, opt.stepCount(), "no step was taken");
            assertSameWeights(before, weights(m), "the weights are unchanged");
        }
    }

    @Test
    void aValidationSetOfOtherFeaturesIsRefusedBeforeTraining() {
        Dataset data = blobs(6, 21);
        Dataset wide = Dataset.classification(new float[6], new int[] {3}, new int[] {0, 1}, 3, null);
        try (Sequential m = net(22); Sgd opt = new Sgd(m.parameters(), 0.1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(3).build().fit(data, wide, 1,
                            null));
            assertEquals("the validation set has 3 features per example [3], the training set 2 [2]", e.getMessage());
            assertEquals(0, opt.stepCount(), "no step was taken");
        }
    }

    /**
     * A stop requested between runs makes the next fit, from a loader as from a data set, train no epoch and end
     * normally; that fit clears the request, so the one after trains.
     */
    @Test
    void aStopRequestedBeforeFitEndsItWithNoEpoch() {
        Dataset data = blobs(24, 1);
        try (Sequential m = net(3); Sgd opt = new Sgd(m.parameters(), 0.1);
             dev.backprop.data.BatchLoader loader = new dev.backprop.data.BatchLoader(data, backend, 8)) {
            Trainer t = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(8).build();
            Map<String, double[]> before = weights(m);
            List<Boolean> ends = new ArrayList<>();
            EpochListener listener = new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onFitEnd(boolean completed) {
                    ends.add(completed);
                }
            };
            t.requestStop();
            assertEquals(List.of(), t.fit(loader, null, 3, listener));
            t.requestStop();
            assertEquals(List.of(), t.fit(data, null, 3, listener));
            assertEquals(List.of(true, true), ends);
            assertEquals(0, t.epoch());
            assertSameWeights(before, weights(m), "nothing trained");
            assertEquals(1, t.fit(loader, null, 1, null).size(), "the request was used up");
        }
    }
}
