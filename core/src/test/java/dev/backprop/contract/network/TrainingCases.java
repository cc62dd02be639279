package dev.backprop.contract.network;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.MemoryStats;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFileException;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Init;
import dev.backprop.nn.ParameterRole;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import dev.backprop.testing.Blobs;
import dev.backprop.train.EarlyStopping;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingStoppedException;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer end to end on small seeded problems: it learns; the same seeds give bit-identical runs; a
 * checkpoint saved mid-training and restored into fresh objects continues bit-identically to an uninterrupted
 * run; a checkpoint that does not fit is refused; memory is flat across epochs; divergence is reported; batches
 * gathered on the device equal the host's.
 */
final class TrainingCases {
    private TrainingCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        t.add(DynamicTest.dynamicTest("learns three blobs (cross-entropy, Adam)", () -> learns(be)));
        t.add(DynamicTest.dynamicTest("learns a line (squared error, SGD) and one-vs-rest (BCE)", () -> others(be)));
        t.add(DynamicTest.dynamicTest("same seed twice gives identical runs", () -> reproducible(be)));
        t.add(DynamicTest.dynamicTest("initial weights are the host's seeded draws", () -> hostInit(be)));
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (boolean adam : new boolean[] {true, false}) {
                t.add(DynamicTest.dynamicTest(dt + " checkpoint resume is bit-exact ("
                        + (adam ? "Adam" : "SGD momentum")
                        + ", StepLR, clipping)", () -> ModelFileCases.inDir(d -> resume(be, dt, adam, d))));
            }
        }
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            t.add(DynamicTest.dynamicTest(dt + " checkpoint resume of a CNN with batch norm and dropout is bit-exact",
                    () -> ModelFileCases.inDir(d -> resumeImages(be, dt, d))));
        }
        t.add(DynamicTest.dynamicTest("memory is flat across epochs of a CNN with batch norm and dropout",
                () -> flatMemoryImages(be)));
        t.add(DynamicTest.dynamicTest("memory is flat across epochs while early stopping keeps the best weights",
                () -> flatMemoryKeepingBest(be)));
        t.add(DynamicTest.dynamicTest("a checkpoint that does not fit is refused", () ->
                ModelFileCases.inDir(d -> refused(be, d))));
        t.add(DynamicTest.dynamicTest("memory is flat across epochs", () -> flatMemory(be)));
        t.add(DynamicTest.dynamicTest("divergence is reported", () -> divergence(be, 1)));
        t.add(DynamicTest.dynamicTest("batches gathered on the device equal the host's", () -> deviceBatches(be)));
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            t.add(DynamicTest.dynamicTest(dt + " reading results every 3 steps changes nothing",
                    () -> windowedReads(be, dt)));
        }
        t.add(DynamicTest.dynamicTest("divergence is reported when results are read every 4 steps",
                () -> divergence(be, 4)));
        return t.stream();
    }

    /** What the listener and the metrics saw, and the final weights, for one run. */
    private record Seen(List<String> batches, List<String> epochs, double[] weights) {
    }

    /**
     * Softmax cross-entropy (labels), BCE with logits (0/1 float targets) and squared error (no accuracy), each
     * trained with results read every step and every 3 steps: the same onBatch calls, epoch metrics and weights,
     * bit for bit. 29 examples in batches of 4: windows end mid-epoch, and the last batch is partial.
     */
    private static void windowedReads(Backend be, DType dt) {
        Net.assumeSupported(be, dt);
        Dataset blobs = blobs(10, 71).head(29);
        for (int kind = 0; kind < 3; kind++) {
            Dataset data = kind == 1 ? blobs.oneVsRest(1) : blobs;
            if (kind == 2) {
                float[] x = new float[58], y = new float[29];
                for (int i = 0; i < 29; i++) {
                    x[2 * i] = i / 29f;
                    x[2 * i + 1] = (i % 5) / 5f;
                    y[i] = x[2 * i] - x[2 * i + 1];
                }
                data = Dataset.regression(x, new int[] {2}, y, 1);
            }
            Seen every = windowedRun(be, dt, kind, data, 1), third = windowedRun(be, dt, kind, data, 3);
            assertEquals(every.batches(), third.batches(), "onBatch calls, loss kind " + kind);
            assertEquals(every.epochs(), third.epochs(), "epoch metrics, loss kind " + kind);
            Net.assertIdentical("weights, loss kind " + kind, every.weights(), third.weights());
        }
    }

    private static Seen windowedRun(Backend be, DType dt, int kind, Dataset data, int syncEvery) {
        List<String> batches = new ArrayList<>(), epochs = new ArrayList<>();
        int outputs = kind == 0 ? 3 : 1;
        try (Sequential m = Sequential.builder(be, dt).seed(72).dense(2, 6).relu().dense(6, outputs).build();
             Adam opt = Adam.adam(m.parameters(), 0.02)) {
            dev.backprop.loss.Loss loss = kind == 0 ? new SoftmaxCrossEntropy()
                    : kind == 1 ? new BinaryCrossEntropyWithLogits() : new SquaredError();
            Trainer tr = Trainer.builder(m, loss, opt).batchSize(4).seed(73).syncEvery(syncEvery).build();
            tr.fit(data, null, 3, new dev.backprop.train.EpochListener() {
                @Override
                public void onEpoch(EpochMetrics e) {
                    epochs.add(e.epoch() + " " + e.trainLoss() + " " + e.trainAccuracy() + " " + e.examples());
                }

                @Override
                public void onBatch(dev.backprop.train.BatchResult b) {
                    batches.add(b.position().epoch() + "/" + b.position().batch() + "/" + b.position().batches() + " "
                            + b.loss());
                }
            });
            return new Seen(batches, epochs, m.parameters().get("0.weight").value().toDoubles());
        }
    }

    /** An epoch of shuffled batches (the last one partial) through both placements of a BatchLoader, bit for bit. */
    private static void deviceBatches(Backend be) {
        Dataset data = blobs(67, 61);
        int[] order = data.identityOrder();
        Dataset.shuffle(order, new Random(62));
        try (BatchLoader host = new BatchLoader(data, be, 16);
             BatchLoader device = new BatchLoader(data, be, 16, BatchLoader.Placement.DEVICE)) {
            assertTrue(device.resident());
            for (int from = 0; from < data.size(); from += 16) {
                int to = Math.min(data.size(), from + 16);
                BatchLoader.Batch h = host.load(order, from, to), d = device.load(order, from, to);
                assertArrayEquals(h.features().toFloatArray(), d.features().toFloatArray(), "features from " + from);
                assertArrayEquals(h.targets().toIntArray(), d.targets().toIntArray(), "labels from " + from);
            }
        }
    }

    /** Three Gaussian blobs in the plane, {@code perClass} points each. */
    static Dataset blobs(int perClass, long seed) {
        return Blobs.blobs(3 * perClass, seed);
    }

    private static Sequential net(Backend be, DType dt, long seed) {
        return Sequential.builder(be, dt).seed(seed).dense(2, 8).tanh().dense(8, 3).build();
    }

    private static void learns(Backend be) {
        Dataset data = blobs(30, 1);
        try (Sequential m = net(be, DType.FLOAT32, 2); Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(16).seed(3).build();
            List<EpochMetrics> h = tr.fit(data, data, 12, null);
            assertEquals(12, h.size());
            assertEquals(12, tr.epoch());
            EpochMetrics last = h.get(h.size() - 1);
            assertTrue(last.trainLoss() < h.get(0).trainLoss() / 2, "loss fell: " + h.get(0) + " -> " + last);
            assertTrue(last.validation().accuracy() >= 0.95, "accuracy " + last.validation());
            Evaluation e = tr.evaluate(data);
            assertEquals(last.validation(), e, "evaluation is deterministic");
            assertEquals(90, e.examples());
        }
    }

    private static void others(Backend be) {
        Random r = new Random(4);
        float[] x = new float[80], y = new float[40];
        for (int i = 0; i < 40; i++) {
            x[2 * i] = (float) r.nextGaussian();
            x[2 * i + 1] = (float) r.nextGaussian();
            y[i] = 2 * x[2 * i] - x[2 * i + 1] + 0.5f;
        }
        Dataset line = Dataset.regression(x, new int[] {2}, y, 1);
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(5).dense(2, 1).build();
             Sgd opt = new Sgd(m.parameters(), 0.1)) {
            Trainer tr = Trainer.builder(m, new SquaredError(), opt).batchSize(8).seed(6).build();
            tr.fit(line, null, 40, null);
            Evaluation e = tr.evaluate(line);
            assertTrue(e.loss() < 1e-4, "a line is fitted: " + e);
            assertTrue(Double.isNaN(e.accuracy()), "squared error does not classify");
        }
        Dataset binary = blobs(20, 7).oneVsRest(2);
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(8).dense(2, 4).relu().dense(4, 1).build();
             Adam opt = Adam.adam(m.parameters(), 0.05)) {
            Trainer tr = Trainer.builder(m, new BinaryCrossEntropyWithLogits(), opt).batchSize(10).seed(9).build();
            tr.fit(binary, null, 25, null);
            assertTrue(tr.evaluate(binary).accuracy() >= 0.95, "one-vs-rest accuracy " + tr.evaluate(binary));
        }
    }

    private static double[][] train(Backend be, long initSeed, long shuffleSeed, int epochs) {
        Dataset data = blobs(10, 10);
        try (Sequential m = net(be, DType.FLOAT32, initSeed); Adam opt = Adam.adam(m.parameters(), 0.02)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(shuffleSeed).build();
            List<EpochMetrics> h = tr.fit(data, null, epochs, null);
            double[][] out = new double[m.parameters().size() + 1][];
            int i = 0;
            for (Variable v : m.parameters().values()) {
                out[i++] = v.value().toDoubles();
            }
            out[i] = h.stream().mapToDouble(EpochMetrics::trainLoss).toArray();
            return out;
        }
    }

    private static void reproducible(Backend be) {
        double[][] a = train(be, 11, 12, 3), b = train(be, 11, 12, 3), c = train(be, 11, 13, 3);
        for (int i = 0; i < a.length; i++) {
            Net.assertIdentical("run twice, array " + i, a[i], b[i]);
        }
        assertFalse(java.util.Arrays.equals(a[0], c[0]), "another shuffling seed gives another run");
    }

    /** Weight then bias, layer after layer, from one torch-compatible generator: the same numbers on every backend. */
    private static void hostInit(Backend be) {
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(5).dense(3, 4).relu().dense(4, 2).build()) {
            Random r = new dev.backprop.random.TorchGenerator(5);
            int[][] fans = {{3, 4}, {3, 4}, {4, 2}, {4, 2}};
            int i = 0;
            for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                ParameterRole role = e.getKey().endsWith("weight") ? ParameterRole.WEIGHT : ParameterRole.BIAS;
                double[] want = Init.PYTORCH_DEFAULT.sample(role, Math.toIntExact(e.getValue().shape().size()),
                        fans[i][0], fans[i][1], r);
                for (int k = 0; k < want.length; k++) {
                    want[k] = (float) want[k];
                }
                Net.assertIdentical("initial " + e.getKey(), want, e.getValue().value().toDoubles());
                i++;
            }
        }
    }

    private static Trainer trainer(Sequential m, boolean adam, Dataset data) {
        Optimizer opt = adam
                ? Adam.builder(m.parameters()).lr(0.03).betas(0.9, 0.99).eps(1e-7).weightDecay(0.01).decoupled(true)
                        .build()
                : Sgd.builder(m.parameters()).lr(0.1).momentum(0.9).weightDecay(0.001).build();
        return Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(7).seed(21).clipGradNorm(1.0)
                .schedule(new StepLR(opt, 1, 0.7)).build();
    }

    private static void resume(Backend be, DType dt, boolean adam, java.nio.file.Path dir) throws java.io.IOException {
        Net.assumeSupported(be, dt);
        Dataset data = blobs(10, 20);
        java.nio.file.Path ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential straight = net(be, dt, 22); Sequential first = net(be, dt, 22);
             Sequential resumed = net(be, dt, 99)) {
            Trainer a = trainer(straight, adam, data), b = trainer(first, adam, data), c = trainer(resumed, adam, data);
            try {
                List<EpochMetrics> all = a.fit(data, null, 4, null);
                b.fit(data, null, 2, null);
                b.saveCheckpoint(ckpt);
                c.restoreCheckpoint(ckpt);
                assertEquals(2, c.epoch(), "epochs restored");
                assertEquals(b.optimizer().stepCount(), c.optimizer().stepCount(), "optimizer steps restored");
                assertEquals(b.optimizer().learningRate(), c.optimizer().learningRate(), "learning rate restored");
                List<EpochMetrics> rest = c.fit(data, null, 2, null);
                ModelFileCases.assertSameParameters(straight, resumed);
                for (Map.Entry<String, dev.backprop.tensor.Tensor> e : a.optimizer().state().entrySet()) {
                    Net.assertIdentical("optimizer state " + e.getKey(), e.getValue().toDoubles(),
                            c.optimizer().state().get(e.getKey()).toDoubles());
                }
                assertEquals(all.get(3).trainLoss(), rest.get(1).trainLoss(), "epoch 4 loss");
                assertEquals(all.get(3).learningRate(), rest.get(1).learningRate(), "epoch 4 learning rate");
                assertEquals(4, rest.get(1).epoch());
            } finally {
                a.optimizer().close();
                b.optimizer().close();
                c.optimizer().close();
            }
        }
    }

    /** Seeded 2-channel 6x6 "images" of three classes (a bright quadrant per class, in noise). */
    static Dataset images(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 72];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int c = 0; c < 2; c++) {
                for (int h = 0; h < 6; h++) {
                    for (int w = 0; w < 6; w++) {
                        boolean lit = y[i] == 0 ? h < 3 && w < 3 : y[i] == 1 ? h >= 3 && w >= 3 : c == 1;
                        x[i * 72 + c * 36 + h * 6 + w] = (float) ((lit ? 1 : 0) + 0.3 * r.nextGaussian());
                    }
                }
            }
        }
        return Dataset.classification(x, new int[] {2, 6, 6}, y, 3, null);
    }

    /**
     * A small CNN with both batch norms and two dropouts: every kind of state a layer keeps. Each batch norm follows
     * a ReLU: straight after a convolution or dense layer it would cancel that layer's bias, whose gradient is then
     * rounding noise that Adam turns into steps of full size, different on every backend.
     */
    static Sequential imageNet(Backend be, DType dt, long seed) {
        return Sequential.builder(be, dt).seed(seed).conv2d(Conv2d.options(2, 4, 3).padding(1)).relu().batchNorm2d(4)
                .maxPool2d(2)
                .dropout(0.25).flatten().dense(36, 8).relu().batchNorm1d(8).dropout(0.5).dense(8, 3).build();
    }

    /**
     * Four epochs of {@code a} on {@code data} (validated on it), against two of {@code b}, a checkpoint at
     * {@code ckpt} and two more of {@code c} restored from it: the epochs of {@code a}, then those of {@code c}.
     */
    static List<List<EpochMetrics>> straightAndResumed(Trainer a, Trainer b, Trainer c, Dataset data,
                                                       java.nio.file.Path ckpt) throws java.io.IOException {
        List<EpochMetrics> all = a.fit(data, data, 4, null);
        b.fit(data, data, 2, null);
        b.saveCheckpoint(ckpt);
        c.restoreCheckpoint(ckpt);
        return List.of(all, c.fit(data, data, 2, null));
    }

    private static Trainer imageTrainer(Sequential m, Dataset data) {
        Adam opt = Adam.adam(m.parameters(), 0.01);
        return Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(8).seed(23).build();
    }

    /**
     * Four epochs straight, against two, a checkpoint, and two more in fresh objects: the same parameters, batch norm
     * buffers and counters, dropout streams, optimizer state and epoch-4 loss, bit for bit.
     */
    private static void resumeImages(Backend be, DType dt, java.nio.file.Path dir) throws java.io.IOException {
        Net.assumeSupported(be, dt);
        Dataset data = images(37, 24);
        java.nio.file.Path ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential straight = imageNet(be, dt, 25); Sequential first = imageNet(be, dt, 25);
             Sequential resumed = imageNet(be, dt, 26)) {
            Trainer a = imageTrainer(straight, data), b = imageTrainer(first, data), c = imageTrainer(resumed, data);
            try {
                List<List<EpochMetrics>> runs = straightAndResumed(a, b, c, data, ckpt);
                List<EpochMetrics> all = runs.get(0), rest = runs.get(1);
                ModelFileCases.assertSameParameters(straight, resumed);
                for (Map.Entry<String, dev.backprop.tensor.Tensor> e : straight.buffers().entrySet()) {
                    Net.assertIdentical("buffer " + e.getKey(), e.getValue().toDoubles(),
                            resumed.buffers().get(e.getKey()).toDoubles());
                }
                assertEquals(4L * 5, straight.counters().get("2.num_batches_tracked")[0], "one count per step");
                straight.counters().forEach((k, v) -> assertEquals(v[0], resumed.counters().get(k)[0], k));
                straight.trainingState().forEach((k, v) -> assertEquals(v[0], resumed.trainingState().get(k)[0], k));
                for (Map.Entry<String, dev.backprop.tensor.Tensor> e : a.optimizer().state().entrySet()) {
                    Net.assertIdentical("optimizer state " + e.getKey(), e.getValue().toDoubles(),
                            c.optimizer().state().get(e.getKey()).toDoubles());
                }
                assertEquals(all.get(3).trainLoss(), rest.get(1).trainLoss(), "epoch 4 loss");
                assertEquals(all.get(3).validation(), rest.get(1).validation(), "epoch 4 evaluation");
            } finally {
                a.optimizer().close();
                b.optimizer().close();
                c.optimizer().close();
            }
        }
    }

    /** Live buffers and bytes after every epoch of the CNN, with validation, are those after the first. */
    private static void flatMemoryImages(Backend be) {
        flatOverFit(be, null);
    }

    /** Early stopping's copies of the best weights are made once, written in place after, and freed by fit's end. */
    private static void flatMemoryKeepingBest(Backend be) {
        flatOverFit(be, tr -> new EarlyStopping(tr, EarlyStopping.Monitor.LOSS, 100, 0, true));
    }

    /**
     * Six epochs of the CNN with validation, told to the listener {@code watch} makes (null: none) before the
     * memory is read: live buffers and bytes after every epoch equal those after the first, and after fit those
     * before it.
     */
    private static void flatOverFit(Backend be, java.util.function.Function<Trainer, EpochListener> watch) {
        Dataset data = images(30, 43);
        try (Sequential m = imageNet(be, DType.FLOAT32, 44)) {
            Trainer tr = imageTrainer(m, data);
            try {
                MemoryStats start = be.memoryStats();
                List<MemoryStats> after = new ArrayList<>();
                EpochListener record = metrics -> after.add(be.memoryStats());
                tr.fit(data, data, 6, watch == null ? record : watch.apply(tr).andThen(record));
                for (MemoryStats s : after) {
                    assertEquals(after.get(0).liveBuffers(), s.liveBuffers(), "live buffers after an epoch");
                    assertEquals(after.get(0).liveBytes(), s.liveBytes(), "live bytes after an epoch");
                }
                assertEquals(start.liveBuffers(), be.memoryStats().liveBuffers(), "live buffers after fit");
                assertEquals(start.liveBytes(), be.memoryStats().liveBytes(), "live bytes after fit");
            } finally {
                tr.optimizer().close();
            }
        }
    }

    private static void refused(Backend be, java.nio.file.Path dir) throws java.io.IOException {
        Dataset data = blobs(5, 30);
        java.nio.file.Path ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential m = net(be, DType.FLOAT32, 31); Sequential other = net(be, DType.FLOAT32, 32);
             Adam opt = Adam.adam(m.parameters(), 0.01); Adam otherOpt = Adam.adam(other.parameters(), 0.01);
             Sgd sgd = new Sgd(other.parameters(), 0.01)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(4).seed(1).build();
            tr.fit(data, null, 1, null);
            tr.saveCheckpoint(ckpt);
            double[] before = other.parameters().get("0.weight").value().toDoubles();
            Trainer seed = Trainer.builder(other, new SoftmaxCrossEntropy(), otherOpt).batchSize(4).seed(2).build();
            ModelFileException e = assertThrows(ModelFileException.class, () -> seed.restoreCheckpoint(ckpt));
            assertTrue(e.getMessage().contains("seed 1"), e.getMessage());
            Trainer kind = Trainer.builder(other, new SoftmaxCrossEntropy(), sgd).batchSize(4).seed(1).build();
            e = assertThrows(ModelFileException.class, () -> kind.restoreCheckpoint(ckpt));
            assertTrue(e.getMessage().contains("optimizer type is adam in the checkpoint but sgd"), e.getMessage());
            Trainer sched = Trainer.builder(other, new SoftmaxCrossEntropy(), otherOpt).batchSize(4).seed(1)
                    .schedule(new StepLR(otherOpt, 1, 0.5)).build();
            e = assertThrows(ModelFileException.class, () -> sched.restoreCheckpoint(ckpt));
            assertTrue(e.getMessage().contains("backprop.schedule"), e.getMessage());
            Net.assertIdentical("refused restores change nothing", before,
                    other.parameters().get("0.weight").value().toDoubles());
            assertEquals(0, otherOpt.stepCount());
        }
    }

    private static void flatMemory(Backend be) {
        Dataset data = blobs(20, 40);
        try (Sequential m = net(be, DType.FLOAT32, 41); Adam opt = Adam.adam(m.parameters(), 0.01)) {
            Trainer tr = Trainer.builder(m, new SoftmaxCrossEntropy(), opt).batchSize(5).seed(42).clipGradNorm(5)
                    .build();
            MemoryStats start = be.memoryStats();
            List<MemoryStats> after = new ArrayList<>();
            tr.fit(data, data, 8, metrics -> after.add(be.memoryStats()));
            // The batch loader lives for the whole fit call: flat from the first epoch on, and gone at the end.
            for (MemoryStats s : after) {
                assertEquals(after.get(0).liveBuffers(), s.liveBuffers(), "live buffers after an epoch of 12 steps");
                assertEquals(after.get(0).liveBytes(), s.liveBytes(), "live bytes after an epoch");
            }
            assertEquals(start.liveBuffers(), be.memoryStats().liveBuffers(), "live buffers after fit");
            assertEquals(start.liveBytes(), be.memoryStats().liveBytes(), "live bytes after fit");
        }
    }

    /**
     * A learning rate of 1e25 diverges within an epoch. Reading every step, the diverging step is not applied;
     * reading every 4, the message says where the loss went bad and that later steps were applied.
     */
    private static void divergence(Backend be, int syncEvery) {
        Dataset data = blobs(5, 50).oneVsRest(0);
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(51).dense(2, 1).build();
             Sgd opt = new Sgd(m.parameters(), 1e25)) {
            Trainer tr = Trainer.builder(m, new SquaredError(), opt).batchSize(5).seed(52).syncEvery(syncEvery)
                    .build();
            TrainingStoppedException e = assertThrows(TrainingStoppedException.class,
                    () -> tr.fit(data, null, 5, null));
            assertEquals(TrainingStoppedException.Reason.LEARNING_RATE, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("training stopped: the " + new SquaredError().name() + " loss is "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("the learning rate 1E+25 is probably too high"), e.getMessage());
            if (syncEvery == 1) {
                for (double w : m.parameters().get("0.weight").value().toDoubles()) {
                    assertTrue(Double.isFinite(w), "reading every step, the diverging step is not applied: " + w);
                }
            } else {
                assertTrue(e.getMessage().contains("read every " + syncEvery + " steps"), e.getMessage());
            }
        }
    }
}
