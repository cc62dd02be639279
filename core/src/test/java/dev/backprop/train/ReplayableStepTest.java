package dev.backprop.train;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Augmentation;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.loss.ForwardingLoss;
import dev.backprop.loss.Loss;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.backprop.testing.Blobs.blobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training step handed to a backend that replays steps ({@link ReplayingBackend}: recorded once per key, then
 * replayed without running the step's host code) trains bit for bit as the step run as it comes: with the last,
 * smaller batch, a window read every few steps, a data set on the device gathered inside the replayed part, Adam's
 * per-step bias corrections and a learning-rate schedule outside it. A model with host state per step (dropout) or a
 * trainer with hooks never hands its step over.
 */
class ReplayableStepTest {
    private final ReferenceBackend plain = new ReferenceBackend();
    private final ReferenceBackend wrapped = new ReferenceBackend();
    private final ReplayingBackend replaying = new ReplayingBackend(wrapped);

    @AfterEach
    void close() {
        replaying.backend.close();
        plain.close();
    }

    /** What a run gives: each epoch's loss and accuracy, then the weights. */
    private record Run(List<double[]> metrics, Map<String, double[]> weights) {
    }

    private interface Setup {
        Trainer.Builder configure(Trainer.Builder b, Optimizer o);
    }

    private static Run train(Backend on, boolean dropout, Function<Sequential, Optimizer> opt, Setup setup,
                             int syncEvery) {
        return train(on, dropout, opt, setup, syncEvery, BatchLoader.Placement.HOST);
    }

    private static Run train(Backend on, boolean dropout, Function<Sequential, Optimizer> opt, Setup setup,
                             int syncEvery, BatchLoader.Placement placement) {
        return train(on, dropout, opt, setup, syncEvery, placement, new SoftmaxCrossEntropy());
    }

    private static Run train(Backend on, boolean dropout, Function<Sequential, Optimizer> opt, Setup setup,
                             int syncEvery, BatchLoader.Placement placement, Loss loss) {
        return train(on, be -> {
            Sequential.Builder nb = Sequential.builder(be, DType.FLOAT32).seed(7).dense(2, 6).relu();
            return (dropout ? nb.dropout(0.3) : nb).dense(6, 3).build();
        }, opt, setup, syncEvery, placement, loss);
    }

    private static Run train(Backend on, Function<Backend, Sequential> model, Function<Sequential, Optimizer> opt,
                             Setup setup, int syncEvery, BatchLoader.Placement placement, Loss loss) {
        Dataset data = blobs(23, 4);
        Sequential net = model.apply(on);
        try (net; Optimizer o = opt.apply(net); BatchLoader loader = new BatchLoader(data, on, 5, placement)) {
            Trainer t = setup.configure(Trainer.builder(net, loss, o).batchSize(5).seed(3)
                    .syncEvery(syncEvery), o).build();
            List<double[]> metrics = new ArrayList<>();
            for (EpochMetrics m : t.fit(loader, null, 3, null)) {
                metrics.add(new double[] {m.trainLoss(), m.trainAccuracy(), m.learningRate()});
            }
            Map<String, double[]> w = new LinkedHashMap<>();
            net.parameters().forEach((k, v) -> w.put(k, v.value().toDoubles()));
            return new Run(metrics, w);
        }
    }

    private static void assertSame(Run expected, Run actual) {
        assertEquals(expected.metrics().size(), actual.metrics().size());
        for (int i = 0; i < expected.metrics().size(); i++) {
            assertArrayEquals(expected.metrics().get(i), actual.metrics().get(i), "epoch " + (i + 1));
        }
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        expected.weights().forEach((k, v) -> assertArrayEquals(v, actual.weights().get(k), k));
    }

    @Test
    void sgdStepsReplayedGiveTheBitsOfStepsRunAsTheyCome() {
        for (int syncEvery : new int[] {1, 3}) {
            Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
            int before = replaying.replays;
            assertSame(train(plain, false, sgd, (b, o) -> b, syncEvery),
                    train(replaying.backend, false, sgd, (b, o) -> b, syncEvery));
            // 3 epochs of 5 batches (4 of 5 rows, 1 of 3): the very first step (no prediction tensor yet) is a key
            // of its own; then each shape warms up and is recorded once, and the other 10 steps are replays
            assertEquals(10, replaying.replays - before, "replays with a window of " + syncEvery);
        }
        assertEquals(4, replaying.recorded, "the full and the last batch, once per trainer");
    }

    /**
     * A dense layer used twice (PyTorch's {@code nn.Sequential(d0, relu, lin, relu, lin, relu, d1)}): the replayed
     * step reads and steps the one weight as the step run as it comes does.
     */
    @Test
    void aTiedModelsStepsReplayedGiveTheBitsOfStepsRunAsTheyCome() {
        Function<Backend, Sequential> tied = be -> {
            List<Layer> l = Sequential.builder(be, DType.FLOAT32).seed(7).dense(2, 6).relu().dense(6, 6).relu()
                    .dense(6, 3).build().layers();
            return Sequential.of(l.get(0), l.get(1), l.get(2), l.get(3), l.get(2), l.get(3), l.get(4));
        };
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
        int before = replaying.replays;
        Run plainRun = train(plain, tied, sgd, (b, o) -> b, 1, BatchLoader.Placement.HOST, new SoftmaxCrossEntropy());
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias"),
                List.copyOf(plainRun.weights().keySet()));
        assertSame(plainRun, train(replaying.backend, tied, sgd, (b, o) -> b, 1, BatchLoader.Placement.HOST,
                new SoftmaxCrossEntropy()));
        assertEquals(10, replaying.replays - before);
    }

    @Test
    void aDataSetOnTheDeviceIsGatheredInsideTheReplayedStep() {
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
        assertSame(train(plain, false, sgd, (b, o) -> b, 2, BatchLoader.Placement.DEVICE),
                train(replaying.backend, false, sgd, (b, o) -> b, 2, BatchLoader.Placement.DEVICE));
        assertEquals(10, replaying.replays);
        assertTrue(replaying.recordedOps.containsAll(List.of("gatherRows", "gemm")), replaying.recordedOps.toString());
        assertFalse(replaying.recordedOps.contains("sgdUpdate"), "the update runs after the step");
    }

    @Test
    void aWeightedSmoothedLossIsReplayedToo() {
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
        Loss loss = SoftmaxCrossEntropy.builder().weights(0.5, 2, 1).labelSmoothing(0.1).build();
        Setup none = (b, o) -> b;
        assertSame(train(plain, false, sgd, none, 2, BatchLoader.Placement.DEVICE, loss),
                train(replaying.backend, false, sgd, none, 2, BatchLoader.Placement.DEVICE, loss));
        assertEquals(10, replaying.replays, "the class weights are filled in on the device, not uploaded");
        assertEquals(0, replaying.refusals);
    }

    @Test
    void adamWithAScheduleKeepsItsPerStepScalarsOutsideTheReplay() {
        Function<Sequential, Optimizer> adam = n -> Adam.builder(n.parameters()).lr(0.05).build();
        Setup schedule = (b, o) -> b.schedule(new StepLR(o, 1, 0.5));
        assertSame(train(plain, false, adam, schedule, 2), train(replaying.backend, false, adam, schedule, 2));
        assertTrue(replaying.replays > 0);
    }

    @Test
    void aModelWithDropoutOrATrainerWithHooksRunsItsStepsItself() {
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
        assertSame(train(plain, true, sgd, (b, o) -> b, 1), train(replaying.backend, true, sgd, (b, o) -> b, 1));
        Setup hook = (b, o) -> b.hook(new StepHook() { });
        assertSame(train(plain, false, sgd, hook, 1), train(replaying.backend, false, sgd, hook, 1));
        assertEquals(0, replaying.steps, "no step was handed over");
    }

    /**
     * {@link Trainer.Builder#replaySteps} off: every step runs its host code, the loss's included (each step's
     * compute is counted), and hands nothing to the backend, with the bits of the replayed run.
     */
    @Test
    void aTrainerThatReplaysNoStepsComputesEveryStepItself() {
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.2);
        Run replayed = train(replaying.backend, false, sgd, (b, o) -> b, 1);
        assertTrue(replaying.replays > 0, "sanity: the backend replays steps");
        CountingLoss counting = new CountingLoss(new SoftmaxCrossEntropy());
        int steps = replaying.steps;
        assertSame(replayed, train(replaying.backend, false, sgd, (b, o) -> b.replaySteps(false), 1,
                BatchLoader.Placement.HOST, counting));
        assertEquals(15, counting.computed, "3 epochs of 5 batches, each computed");
        assertEquals(steps, replaying.steps, "no step was handed over");
    }

    /** A loss that counts its computations. */
    private static final class CountingLoss extends ForwardingLoss {
        int computed;

        CountingLoss(Loss loss) {
            super(loss);
        }

        @Override
        public Variable compute(Variable prediction, Tensor target) {
            computed++;
            return super.compute(prediction, target);
        }
    }

    /**
     * Augmentation is done on the host while the batch is staged, into the loader's fixed tensor the replay reads:
     * the replayed steps give the bits of the steps run as they come, which differ from an unaugmented run.
     */
    @Test
    void anAugmentedBatchIsStagedOutsideTheReplayedStep() {
        Augmentation a = Augmentation.parse("crop:1,hflip");
        Run asTheyCome = augmented(plain, a);
        assertSame(asTheyCome, augmented(replaying.backend, a));
        assertEquals(10, replaying.replays);
        assertFalse(java.util.Arrays.equals(asTheyCome.weights().get("1.weight"),
                augmented(plain, Augmentation.NONE).weights().get("1.weight")), "the augmentation changes the run");
    }

    private static Run augmented(Backend on, Augmentation a) {
        Dataset images = blobs(23, 4).withFeatureShape(new int[] {1, 1, 2});
        try (Sequential net = Sequential.builder(on, DType.FLOAT32).seed(7).flatten().dense(2, 6).relu().dense(6, 3)
                .build(); Sgd o = new Sgd(net.parameters(), 0.2)) {
            Trainer t = Trainer.builder(net, new SoftmaxCrossEntropy(), o).batchSize(5).seed(3).syncEvery(2)
                    .augmentation(a).build();
            List<double[]> metrics = new ArrayList<>();
            for (EpochMetrics m : t.fit(images, null, 3, null)) {
                metrics.add(new double[] {m.trainLoss(), m.trainAccuracy()});
            }
            Map<String, double[]> w = new LinkedHashMap<>();
            net.parameters().forEach((k, v) -> w.put(k, v.value().toDoubles()));
            return new Run(metrics, w);
        }
    }

    @Test
    void aReplayedStepRefusesAModelWithFewerOutputsThanClassesBeforeTheUpdate() {
        try (Sequential net = Sequential.builder(replaying.backend, DType.FLOAT32).seed(7).dense(2, 6).relu()
                .dense(6, 2).build(); Sgd o = new Sgd(net.parameters(), 0.2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.builder(net,
                    new SoftmaxCrossEntropy(), o).batchSize(5).syncEvery(2).build().fit(blobs(23, 4), null, 1, null));
            assertTrue(e.getMessage().startsWith("the model gives 2 output(s) per example, but the data has 3 classes"),
                    e.getMessage());
            assertEquals(1, replaying.steps, "the step was handed over");
            assertEquals(0, o.stepCount(), "and not applied");
        }
    }
}
