package dev.backprop.spark.engine;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.SyncMode;
import dev.backprop.spark.TrainingSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine without Spark: ranks as threads, compared with single-JVM runs. */
class RankTrainerTest {
    private static final ModelFactory MLP = ModelFactory.mlp(new Mlp(new int[] {12, 16, 4}, Activation.Kind.RELU,
            Init.PYTORCH_DEFAULT, 7));
    private static final Dataset DATA = TrainingFixtures.clusters(160, 12, 4, 3);

    private static TrainingSpec.Builder spec(OptimizerChoice opt) {
        return TrainingSpec.builder(MLP, opt).batchSize(16).epochs(3).seed(11);
    }

    @Test
    void ranksMatchTheOneJvmRunOverTheSameShardsBitForBit() throws Exception {
        OptimizerChoice[] optimizers = {OptimizerChoice.momentum(0.05, 0.9, 1e-4), OptimizerChoice.adam(0.01, 0),
            OptimizerChoice.adam(0.01, 0).withSchedule("cosine", 1, 1).withWarmup(2, 0.1, "linear")};
        for (OptimizerChoice opt : optimizers) {
            TrainingSpec s = spec(opt).build();
            for (List<Dataset> shards : List.of(TrainingFixtures.shards(DATA, 160),
                    TrainingFixtures.shards(DATA, 70, 53), TrainingFixtures.shards(DATA, 50, 40, 45))) {
                List<ThreadedRanks.Result> results = ThreadedRanks.train(s, shards, 1, null);
                byte[] expected;
                try (Backend b = ThreadedRanks.cpu(1)) {
                    expected = TrainingFixtures.oneJvmDataParallel(s, shards, b);
                }
                assertArrayEquals(expected, results.get(0).outcome().modelFile(), shards.size() + " ranks");
                for (int r = 1; r < results.size(); r++) {
                    assertNull(results.get(r).outcome().modelFile(), "only rank 0 returns the model");
                }
            }
        }
    }

    /**
     * Gradients posted in many small buckets while the backward pass runs (weight gradients computed a row at a
     * time), or in one piece after it: the same bits as the one-JVM run, whatever the buckets.
     */
    @Test
    void bucketsAndOverlapDoNotChangeTheBits() throws Exception {
        TrainingSpec s = spec(OptimizerChoice.momentum(0.05, 0.9, 1e-4)).epochs(2).build();
        for (String buckets : new String[] {"8", "100", "0"}) {
            System.setProperty("backprop.spark.bucketElements", buckets);
            try {
                for (List<Dataset> shards : List.of(TrainingFixtures.shards(DATA, 160),
                        TrainingFixtures.shards(DATA, 70, 53), TrainingFixtures.shards(DATA, 50, 40, 45))) {
                    List<ThreadedRanks.Result> results = ThreadedRanks.train(s, shards, 1, null);
                    byte[] expected;
                    try (Backend b = ThreadedRanks.cpu(1)) {
                        expected = TrainingFixtures.oneJvmDataParallel(s, shards, b);
                    }
                    assertArrayEquals(expected, results.get(0).outcome().modelFile(),
                            shards.size() + " ranks, buckets of " + buckets);
                }
            } finally {
                System.clearProperty("backprop.spark.bucketElements");
            }
        }
    }

    @Test
    void averagedGradientsMatchPlainFullBatchTraining() throws Exception {
        for (OptimizerChoice opt : new OptimizerChoice[] {OptimizerChoice.momentum(0.1, 0.9, 0),
                OptimizerChoice.adam(0.01, 0)}) {
            TrainingSpec s = spec(opt).batchSize(80).epochs(10).build();
            List<ThreadedRanks.Result> results = ThreadedRanks.train(s, TrainingFixtures.shards(DATA, 80, 80), 1,
                    null);
            try (Backend b = ThreadedRanks.cpu(1)) {
                Map<String, float[]> full = TrainingFixtures.fullBatch(s, DATA, b);
                Map<String, float[]> spark = TrainingFixtures.values(results.get(0).outcome().modelFile(), b);
                double rel = TrainingFixtures.maxRelativeDifference(spark, full);
                assertTrue(rel <= 1e-5, "relative difference " + rel);
                Map<String, float[]> start = TrainingFixtures.values(startModel(b), b);
                assertTrue(TrainingFixtures.maxRelativeDifference(start, full) > 1e-2, "sanity: training moved");
            }
        }
    }

    /**
     * Class weights, PyTorch's {@code CrossEntropyLoss(weight=w)}: the global batch's loss divides by the global
     * sum of its labels' weights. Ranks holding different classes (the data sorted by label, so rank 0 has classes
     * 0 and 1, rank 1 classes 2 and 3) with weights 0.25, 0.5, 3, 4 have very different weight sums: combining
     * each rank's own weighted mean by example count, {@code Σ_r (n_r/N)·g_r}, trains a measurably different
     * model, while the ranks' all-reduce of {@code W_r·g_r} and {@code W_r} matches full-batch training on one
     * machine, in both sync modes (parameter averaging every step with plain SGD is gradient averaging) and
     * whatever the buckets (the same bits with or without them).
     */
    @Test
    void classWeightsDivideByTheGlobalBatchsWeightSumNotEachRanks() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        List<Dataset> shards = TrainingFixtures.shards(sorted, 80, 80);
        double[] w = {0.25, 0.5, 3, 4};
        TrainingSpec grads = spec(OptimizerChoice.sgd(0.5)).batchSize(80).epochs(10).classWeights(w).build();
        TrainingSpec params = grads.toBuilder().sync(SyncMode.parameters(1)).build();
        try (Backend b = ThreadedRanks.cpu(1)) {
            Map<String, float[]> full = TrainingFixtures.fullBatch(grads, sorted, b);
            Map<String, float[]> perRank = TrainingFixtures.values(
                    TrainingFixtures.oneJvmDataParallel(grads, shards, b), b);
            double naive = TrainingFixtures.maxRelativeDifference(perRank, full);
            assertTrue(naive > 1e-2, "sanity: per-rank weighted means differ from the global one by " + naive);
            byte[] unbucketed = null;
            for (String buckets : new String[] {"0", "8", "100"}) {
                System.setProperty("backprop.spark.bucketElements", buckets);
                try {
                    byte[] model = ThreadedRanks.train(grads, shards, 1, null).get(0).outcome().modelFile();
                    double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(model, b), full);
                    assertTrue(rel <= 1e-5, "buckets of " + buckets + ": relative difference " + rel);
                    if (unbucketed == null) {
                        unbucketed = model;
                    } else {
                        assertArrayEquals(unbucketed, model, "buckets of " + buckets);
                    }
                } finally {
                    System.clearProperty("backprop.spark.bucketElements");
                }
            }
            byte[] averaged = ThreadedRanks.train(params, shards, 1, null).get(0).outcome().modelFile();
            double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(averaged, b), full);
            assertTrue(rel <= 1e-5, "parameter averaging: relative difference " + rel);
        }
    }

    /**
     * The per-epoch loss is local training's ({@link dev.backprop.train.EpochMetrics#trainLoss}: each batch's loss
     * weighted by its rows) for the same batches. With class weights 0.25, 0.5, 3, 4 over label-sorted shards, 2
     * ranks of 80 under gradient averaging make one global batch of 160 per epoch, whose loss is PyTorch's weighted
     * mean over all 160 ({@code Σ w_y·l / Σ w_y}), not the mean of the two ranks' weighted means (the sanity check:
     * here they differ by more than 1e-2); 1 rank in either sync mode trains local training's batches of 16 in its
     * order.
     */
    @Test
    void theEpochLossIsLocalTrainingsForTheSameBatchesWithClassWeights() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        TrainingSpec full = spec(OptimizerChoice.sgd(0.5)).batchSize(80).classWeights(0.25, 0.5, 3, 4).build();
        double[] local = TrainingFixtures.localEpochLosses(full.toBuilder().batchSize(160).build(), sorted);
        List<EpochResult> spark = ThreadedRanks.train(full, TrainingFixtures.shards(sorted, 80, 80), 1, null).get(0)
                .outcome().epochs();
        TrainingFixtures.assertLosses(local, spark, "2 ranks, one global batch per epoch");
        double[] perRank;
        try (Backend b = ThreadedRanks.cpu(1)) {
            perRank = new double[] {rankLoss(full, TrainingFixtures.slice(sorted, 0, 80), b),
                rankLoss(full, TrainingFixtures.slice(sorted, 80, 160), b)};
        }
        assertTrue(Math.abs((perRank[0] + perRank[1]) / 2 - local[0]) > 1e-2, "sanity: the ranks' mean of weighted "
                + "means " + (perRank[0] + perRank[1]) / 2 + " differs from the global batch's " + local[0]);

        TrainingSpec batches = spec(OptimizerChoice.momentum(0.05, 0.9, 0)).classWeights(0.25, 0.5, 3, 4).build();
        double[] oneMachine = TrainingFixtures.localEpochLosses(batches, sorted);
        for (TrainingSpec s : new TrainingSpec[] {batches, batches.toBuilder().sync(SyncMode.parameters(2)).build()}) {
            TrainingFixtures.assertLosses(oneMachine, ThreadedRanks.train(s, List.of(sorted), 1, null).get(0)
                    .outcome().epochs(), "1 rank, sync " + s.sync());
        }
    }

    /**
     * Parameter averaging reports the epoch loss gradient averaging does: each step's global batch loss, the
     * weighted mean over all ranks' batches ({@code Σ_r W_r·L_r / Σ_r W_r}), weighted by its rows, not the mean of
     * the ranks' own weighted means. With plain SGD averaged every step both modes train the same model (within
     * float rounding), so they see the same losses: here 2 label-sorted ranks of 80 with class weights 0.25, 0.5, 3,
     * 4, in one global batch of 160 per epoch (local training's loss for that batch) and in batches of 16 per rank
     * (5 steps per epoch, against the gradient-averaging run's epochs). The ranks' own weighted means differ from
     * the global one by more than 1e-2 here (the sanity check of the test above).
     */
    @Test
    void parameterAveragingReportsTheGlobalBatchsWeightedEpochLoss() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        List<Dataset> shards = TrainingFixtures.shards(sorted, 80, 80);
        TrainingSpec full = spec(OptimizerChoice.sgd(0.5)).batchSize(80).classWeights(0.25, 0.5, 3, 4)
                .sync(SyncMode.parameters(1)).build();
        double[] local = TrainingFixtures.localEpochLosses(full.toBuilder().batchSize(160).build(), sorted);
        TrainingFixtures.assertLosses(local, ThreadedRanks.train(full, shards, 1, null).get(0).outcome().epochs(),
                "parameter averaging, one global batch per epoch");

        TrainingSpec grads = spec(OptimizerChoice.sgd(0.5)).classWeights(0.25, 0.5, 3, 4).build();
        double[] averaged = ThreadedRanks.train(grads, shards, 1, null).get(0).outcome().epochs().stream()
                .mapToDouble(EpochResult::loss).toArray();
        List<EpochResult> params = ThreadedRanks.train(grads.toBuilder().sync(SyncMode.parameters(1)).build(), shards,
                1, null).get(0).outcome().epochs();
        TrainingFixtures.assertLosses(averaged, params, "parameter averaging, batches of 16 per rank");
    }

    /**
     * The same holds for uneven shards and a smaller last batch. Ranks of 100 and 60 with batches of 100 make one
     * global batch of 160 per epoch, to which the ranks add 100 and 60 rows: its loss is a local batch of 160's.
     * One rank with batches of 24 trains 6 of 24 and one of 16 per epoch, and local training's epoch mean weights
     * that last one by its 16 rows, in either sync mode.
     */
    @Test
    void theWeightedEpochLossHoldsForUnevenShardsAndASmallerLastBatch() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        TrainingSpec uneven = spec(OptimizerChoice.sgd(0.5)).batchSize(100).classWeights(0.25, 0.5, 3, 4).build();
        double[] local = TrainingFixtures.localEpochLosses(uneven.toBuilder().batchSize(160).build(), sorted);
        TrainingFixtures.assertLosses(local, ThreadedRanks.train(uneven, TrainingFixtures.shards(sorted, 100, 60), 1,
                null).get(0).outcome().epochs(), "2 ranks of 100 and 60 examples");

        TrainingSpec partial = spec(OptimizerChoice.momentum(0.05, 0.9, 0)).batchSize(24)
                .classWeights(0.25, 0.5, 3, 4).build();
        double[] oneMachine = TrainingFixtures.localEpochLosses(partial, sorted);
        for (TrainingSpec s : new TrainingSpec[] {partial, partial.toBuilder().sync(SyncMode.parameters(2)).build()}) {
            TrainingFixtures.assertLosses(oneMachine, ThreadedRanks.train(s, List.of(sorted), 1, null).get(0)
                    .outcome().epochs(), "1 rank, batches of 24 and 16, sync " + s.sync());
        }
    }

    /** The loss of {@code s}'s untrained model on all of {@code data} as one batch. */
    private static double rankLoss(TrainingSpec s, Dataset data, Backend b) throws Exception {
        try (dev.backprop.nn.Layer model = s.model().create(b)) {
            return dev.backprop.train.Evaluator.evaluate(model, s.loss(), data, data.size()).loss();
        }
    }

    /**
     * Label smoothing is a mean over the examples, so the ranks' gradients combine as without it: the same bits as
     * the one-JVM run over the same shards, and full-batch training within 1e-5, with class weights too.
     */
    @Test
    void labelSmoothingRanksMatchTheOneJvmRunAndFullBatchTraining() throws Exception {
        TrainingSpec s = spec(OptimizerChoice.adam(0.01, 0)).labelSmoothing(0.2).build();
        List<Dataset> shards = TrainingFixtures.shards(DATA, 70, 53);
        try (Backend b = ThreadedRanks.cpu(1)) {
            assertArrayEquals(TrainingFixtures.oneJvmDataParallel(s, shards, b),
                    ThreadedRanks.train(s, shards, 1, null).get(0).outcome().modelFile());
            for (TrainingSpec full : new TrainingSpec[] {s.toBuilder().batchSize(80).epochs(10).build(),
                    s.toBuilder().batchSize(80).epochs(10).classWeights(0.25, 0.5, 3, 4).build()}) {
                byte[] model = ThreadedRanks.train(full, TrainingFixtures.shards(DATA, 80, 80), 1, null).get(0)
                        .outcome().modelFile();
                double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(model, b),
                        TrainingFixtures.fullBatch(full, DATA, b));
                assertTrue(rel <= 1e-5, full.describe() + ": relative difference " + rel);
                Map<String, float[]> plain = TrainingFixtures.fullBatch(full.toBuilder().labelSmoothing(0)
                        .classWeights((double[]) null).build(), DATA, b);
                assertTrue(TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(model, b), plain) > 1e-3,
                        "sanity: the loss settings change training");
            }
        }
    }

    private static byte[] startModel(Backend b) throws Exception {
        try (dev.backprop.nn.Layer m = MLP.create(b)) {
            return TrainingFixtures.modelFile(m);
        }
    }

    @Test
    void everyRankRunsTheSameStepsOverUnevenShardsAndReportsEpochs() throws Exception {
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).build();
        List<ThreadedRanks.Result> results = ThreadedRanks.train(s, TrainingFixtures.shards(DATA, 100, 33), 1, null);
        for (ThreadedRanks.Result r : results) {
            assertEquals(9, r.outcome().totalSteps(), "3 epochs of min(ceil(100/16), ceil(33/16)) = 3 steps");
            assertEquals(9, r.outcome().stepsRun());
            assertEquals(3, r.outcome().epochs().size());
            assertEquals(48 + 33, r.outcome().epochs().get(0).examples());
            assertEquals(results.get(0).outcome().epochs(), r.outcome().epochs().stream()
                    .map(e -> new dev.backprop.spark.EpochResult(e.epoch(), e.loss(), e.accuracy(), e.examples(),
                            results.get(0).outcome().epochs().get(e.epoch() - 1).millis())).toList());
        }
        assertEquals(48 * 3, results.get(0).outcome().examples());
        assertEquals(33 * 3, results.get(1).outcome().examples());
        assertEquals(9 + 3, results.get(0).stats().allReduces(), "one all-reduce per step and one per epoch");
    }

    @Test
    void parameterAveragingEveryStepWithPlainSgdIsGradientAveraging() throws Exception {
        TrainingSpec grads = spec(OptimizerChoice.sgd(0.1)).build();
        TrainingSpec params = spec(OptimizerChoice.sgd(0.1)).sync(SyncMode.parameters(1)).build();
        List<Dataset> shards = TrainingFixtures.shards(DATA, 80, 80);
        byte[] a = ThreadedRanks.train(grads, shards, 1, null).get(0).outcome().modelFile();
        byte[] p = ThreadedRanks.train(params, shards, 1, null).get(0).outcome().modelFile();
        try (Backend b = ThreadedRanks.cpu(1)) {
            double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(p, b),
                    TrainingFixtures.values(a, b));
            assertTrue(rel < 1e-5, "relative difference " + rel);
        }
    }

    @Test
    void aFailedRunResumesFromRankZerosCheckpointToTheSameBits() throws Exception {
        List<Dataset> shards = TrainingFixtures.shards(DATA, 80, 80);
        TrainingSpec plain = spec(OptimizerChoice.adam(0.01, 0)).build();
        byte[] uninterrupted = ThreadedRanks.train(plain, shards, 1, null).get(0).outcome().modelFile();
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        TrainingSpec failing = plain.toBuilder().checkpoints("memory", 4).listener(e -> {
            if (e.rank() == 1 && e.stepsDone() == 7) {
                throw new IllegalStateException("planted failure at step 7");
            }
        }).build();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> ThreadedRanks.train(failing, shards, 1, store));
        assertTrue(String.valueOf(e.getCause().getMessage()).contains("planted failure")
                || String.valueOf(e.getCause().getMessage()).contains("rank 1"), e.getCause().toString());
        assertEquals(4L, store.saved.lastKey(), "rank 0 checkpointed after step 4 only");
        TrainingSpec resumed = plain.toBuilder().checkpoints("memory", 4).build();
        List<ThreadedRanks.Result> results = ThreadedRanks.train(resumed, shards, 1, store);
        assertEquals(4, results.get(0).outcome().resumedFromStep());
        assertEquals(11, results.get(0).outcome().stepsRun());
        assertArrayEquals(uninterrupted, results.get(0).outcome().modelFile());
    }

    /**
     * Under parameter averaging each rank judges its own loss. Rank 1's features are 1e30 times rank 0's: its first
     * SGD step (lr 0.1) moves the weights by about 1e29, so its second step's activations overflow and its loss is
     * not finite, while rank 0's stays finite. Rank 1 stops and sets the stop flag in the average after step 2, which
     * rank 0 would otherwise wait in for rank 1 until the transport's timeout: rank 0 stops there too, saying so.
     */
    @Test
    void aRankWhoseLossDivergesUnderParameterAveragingStopsItsPeersAtTheNextAverage() {
        List<Dataset> shards = TrainingFixtures.shards(TrainingFixtures.scaledFrom(DATA, 80, 1e30f), 80, 80);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).sync(SyncMode.parameters(2)).build();
        ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(s, shards, 1, null));
        assertInstanceOf(PeerStoppedException.class, e.getCause(), String.valueOf(e.getCause()));
        assertEquals("rank 0: training stopped on another rank before the parameter average after step 2",
                e.getCause().getMessage());
    }

    /**
     * The same divergence on the last step of an epoch (batch 40: two steps per epoch; K = 4, so the epoch's end
     * is the first average), with class weights, whose weight-sum slot sits before the stop flag: rank 0 meets the
     * flag in the epoch-end average, before the epoch's loss all-reduce, and writes no checkpoint of that epoch.
     */
    @Test
    void aRankWhoseLossDivergesOnAnEpochsLastStepStopsItsPeersAtTheEpochEndAverage() {
        List<Dataset> shards = TrainingFixtures.shards(TrainingFixtures.scaledFrom(DATA, 80, 1e30f), 80, 80);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).batchSize(40).classWeights(new double[] {0.25, 0.5, 3, 4})
                .sync(SyncMode.parameters(4)).checkpoints("memory", 0).build();
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(s, shards, 1, store));
        assertInstanceOf(PeerStoppedException.class, e.getCause(), String.valueOf(e.getCause()));
        assertEquals("rank 0: training stopped on another rank before the parameter average after step 2",
                e.getCause().getMessage());
        assertTrue(store.saved.isEmpty(), "checkpoints at steps " + store.saved.keySet());
    }

    @Test
    void aModelWithFloat64ParametersIsRefusedClearly() {
        ModelFactory f64 = backend -> dev.backprop.nn.Sequential.builder(backend, dev.backprop.backend.DType.FLOAT64)
                .dense(12, 4).build();
        TrainingSpec s = TrainingSpec.builder(f64, OptimizerChoice.sgd(0.1)).build();
        try (var t = dev.backprop.spark.transport.RankTransport.listen("127.0.0.1", 0,
                dev.backprop.spark.transport.TransportOptions.defaults()); Backend b = ThreadedRanks.cpu(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new RankTrainer(s, new ShardPlan(new int[] {10}, 4), 0, 0, t, b, null));
            assertEquals("distributed training needs contiguous FLOAT32 parameters; '0.weight' is FLOAT64 [4, 12]",
                    e.getMessage());
            assertEquals(0, b.memoryStats().liveBuffers(), "the model and optimizer were freed");
        }
    }

    /**
     * A layer used twice ({@code Sequential.of(lin, tanh, lin, out)}): its parameter is one entry of the all-reduce
     * (listed once by {@code parameters()}), so the ranks give the one-JVM run's bits, with gradients averaged in
     * buckets as the backward pass completes them (the tape announces the tied weight's gradient after its last use)
     * or in one piece, and the model file they hand back rebuilds the tie.
     */
    @Test
    void aModelThatUsesALayerTwiceTrainsAsOneJvmAndComesBackTied() throws Exception {
        ModelFactory tied = backend -> {
            dev.backprop.nn.Sequential built = dev.backprop.nn.Sequential.builder(backend,
                    dev.backprop.backend.DType.FLOAT32).seed(5).dense(12, 12).dense(12, 4).build();
            dev.backprop.nn.Layer lin = built.layers().get(0);
            return dev.backprop.nn.Sequential.of(lin, dev.backprop.nn.Activation.tanh(), lin, built.layers().get(1));
        };
        TrainingSpec s = TrainingSpec.builder(tied, OptimizerChoice.momentum(0.05, 0.9, 1e-4)).batchSize(16)
                .epochs(2).seed(11).build();
        List<Dataset> shards = TrainingFixtures.shards(DATA, 70, 53);
        byte[] expected;
        try (Backend b = ThreadedRanks.cpu(1)) {
            expected = TrainingFixtures.oneJvmDataParallel(s, shards, b);
        }
        for (String buckets : new String[] {"8", "0"}) {
            System.setProperty("backprop.spark.bucketElements", buckets);
            try {
                byte[] model = ThreadedRanks.train(s, shards, 1, null).get(0).outcome().modelFile();
                assertArrayEquals(expected, model, "buckets of " + buckets);
            } finally {
                System.clearProperty("backprop.spark.bucketElements");
            }
        }
        java.nio.file.Path p = java.nio.file.Files.createTempFile("tied", ".safetensors");
        try (Backend b = ThreadedRanks.cpu(1)) {
            java.nio.file.Files.write(p, expected);
            try (dev.backprop.nn.Sequential m = (dev.backprop.nn.Sequential) dev.backprop.io.ModelFile.load(p, b)) {
                assertTrue(m.layers().get(0) == m.layers().get(2), "the rebuilt model is tied");
            }
        } finally {
            java.nio.file.Files.deleteIfExists(p);
        }
    }

    @Test
    void aCheckpointFromOtherSettingsIsRefused() throws Exception {
        List<Dataset> shards = TrainingFixtures.shards(DATA, 80, 80);
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        ThreadedRanks.train(spec(OptimizerChoice.sgd(0.1)).checkpoints("memory", 0).build(), shards, 1, store);
        ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(
                spec(OptimizerChoice.sgd(0.1)).batchSize(8).checkpoints("memory", 0).build(), shards, 1, store));
        assertTrue(e.getCause().getMessage().contains("batch_per_rank = 16, this run has 8"),
                e.getCause().getMessage());
    }

    /**
     * The loss settings shape the optimizer state, so a checkpoint records them under {@code backprop.loss} (the
     * form local checkpoints have) and a run with other class weights or label smoothing, or with none where the
     * checkpoint has some (or the other way round), is refused in one line naming both; the same settings resume.
     */
    @Test
    void aCheckpointOfOtherLossSettingsIsRefusedAndTheSameResume(@TempDir Path dir) throws Exception {
        List<Dataset> shards = TrainingFixtures.shards(DATA, 80, 80);
        TrainingSpec weighted = spec(OptimizerChoice.adam(0.01, 0)).classWeights(0.25, 0.5, 3, 4)
                .labelSmoothing(0.1).build();
        byte[] uninterrupted = ThreadedRanks.train(weighted, shards, 1, null).get(0).outcome().modelFile();
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        TrainingSpec failing = weighted.toBuilder().checkpoints("memory", 4).listener(e -> {
            if (e.rank() == 1 && e.stepsDone() == 7) {
                throw new IllegalStateException("planted failure at step 7");
            }
        }).build();
        assertThrows(ExecutionException.class, () -> ThreadedRanks.train(failing, shards, 1, store));
        assertEquals(4L, store.saved.lastKey(), "rank 0 checkpointed after step 4 only");
        String recorded = "{\"class_weights\":\"0.25,0.5,3,4\",\"weight\":[0.25,0.5,3.0,4.0],"
                + "\"label_smoothing\":0.1}";
        Path checkpoint = Files.write(dir.resolve("step4.safetensors"), store.saved.get(4L));
        try (SafeTensorsFile f = SafeTensorsFile.open(checkpoint)) {
            assertEquals(recorded, f.metadata().get("backprop.loss"));
        }
        TrainingSpec resumable = weighted.toBuilder().checkpoints("memory", 4).build();
        for (TrainingSpec other : new TrainingSpec[] {resumable.toBuilder().classWeights(1, 1, 1, 1).build(),
                resumable.toBuilder().labelSmoothing(0).build(),
                resumable.toBuilder().classWeights((double[]) null).labelSmoothing(0).build()}) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> ThreadedRanks.train(other, shards, 1, store));
            String m = e.getCause().getMessage();
            assertTrue(m.contains("the checkpoint was written by a run with loss settings " + recorded
                    + ", this run has " + (other.lossSettings() == null ? "none" : other.lossSettings())), m);
            assertEquals(1, m.lines().count(), m);
        }
        assertEquals(4L, store.saved.lastKey(), "a refused run wrote no checkpoint");
        ShardPlan plan = new ShardPlan(new int[] {80, 80}, 16);
        RankTrainer.checkResumable(resumable, plan, store);
        IllegalArgumentException driver = assertThrows(IllegalArgumentException.class,
                () -> RankTrainer.checkResumable(resumable.toBuilder().labelSmoothing(0.2).build(), plan, store));
        assertEquals("cannot resume from memory@4: the checkpoint was written by a run with loss settings " + recorded
                + ", this run has {\"class_weights\":\"0.25,0.5,3,4\",\"weight\":[0.25,0.5,3.0,4.0],"
                + "\"label_smoothing\":0.2}; resume with the same class weights and label smoothing (use a new "
                + "checkpoint directory to start afresh)", driver.getMessage(), "the driver refuses before any rank");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankTrainer.checkResumable(resumable,
                new ShardPlan(new int[] {80, 80}, 8), store)).getMessage().contains("batch_per_rank = 16, this run "
                + "has 8"));
        List<ThreadedRanks.Result> results = ThreadedRanks.train(resumable, shards, 1, store);
        assertEquals(4, results.get(0).outcome().resumedFromStep());
        assertArrayEquals(uninterrupted, results.get(0).outcome().modelFile());

        MemoryCheckpointStore plain = new MemoryCheckpointStore();
        ThreadedRanks.train(spec(OptimizerChoice.sgd(0.1)).checkpoints("memory", 0).build(), shards, 1, plain);
        ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(
                spec(OptimizerChoice.sgd(0.1)).labelSmoothing(0.1).checkpoints("memory", 0).build(), shards, 1,
                plain));
        assertTrue(e.getCause().getMessage().contains("loss settings none, this run has {\"label_smoothing\":0.1}"),
                e.getCause().getMessage());
    }

    /**
     * The label column decides which CSV column each feature is, so a checkpoint records it under
     * {@code backprop.label_column} (as local checkpoints do) and a run reading another column, or the last where the
     * checkpoint has one (or the other way round), is refused in one line naming both, by the driver and by the
     * ranks; the same column resumes. A checkpoint of the last column records no key.
     */
    @Test
    void aCheckpointOfAnotherLabelColumnIsRefusedAndTheSameResumes(@TempDir Path dir) throws Exception {
        List<Dataset> shards = TrainingFixtures.shards(DATA, 80, 80);
        TrainingSpec byName = spec(OptimizerChoice.sgd(0.1)).labelColumn("label").checkpoints("memory", 4).build();
        MemoryCheckpointStore store = new MemoryCheckpointStore();
        ThreadedRanks.train(byName, shards, 1, store);
        try (SafeTensorsFile f = SafeTensorsFile.open(Files.write(dir.resolve("c.safetensors"),
                store.saved.lastEntry().getValue()))) {
            assertEquals("label", f.metadata().get("backprop.label_column"));
        }
        ShardPlan plan = new ShardPlan(new int[] {80, 80}, 16);
        RankTrainer.checkResumable(byName, plan, store);
        String where = "cannot resume from memory@" + store.saved.lastKey() + ": ";
        for (String other : new String[] {"0", null}) {
            TrainingSpec s = byName.toBuilder().labelColumn(other).build();
            IllegalArgumentException driver = assertThrows(IllegalArgumentException.class,
                    () -> RankTrainer.checkResumable(s, plan, store));
            assertEquals(where + "the checkpoint was written by a run reading the label from CSV column label, this "
                    + "run from " + (other == null ? "last" : other) + "; resume with the same --label-column (use a "
                    + "new checkpoint directory to start afresh)", driver.getMessage());
            ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(s, shards, 1,
                    store));
            assertTrue(e.getCause().getMessage().contains("CSV column label, this run from "
                    + (other == null ? "last" : other)), e.getCause().getMessage());
        }
        MemoryCheckpointStore last = new MemoryCheckpointStore();
        TrainingSpec plain = spec(OptimizerChoice.sgd(0.1)).checkpoints("memory", 4).build();
        ThreadedRanks.train(plain, shards, 1, last);
        try (SafeTensorsFile f = SafeTensorsFile.open(Files.write(dir.resolve("l.safetensors"),
                last.saved.lastEntry().getValue()))) {
            assertNull(f.metadata().get("backprop.label_column"));
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RankTrainer.checkResumable(
                plain.toBuilder().labelColumn("3").build(), plan, last)).getMessage()
                .contains("CSV column last, this run from 3;"));
        RankTrainer.checkResumable(plain, plan, last);
    }

    @Test
    void aCheckpointThatCannotBeWrittenStopsRankZeroNamingTheFileAndTheReason() {
        CheckpointStore full = new CheckpointStore() {
            @Override
            public java.util.Optional<Stored> latest() {
                return java.util.Optional.empty();
            }

            @Override
            public void save(long step, byte[] bytes) throws java.io.IOException {
                throw new java.nio.file.FileSystemException("/ckpt/checkpoint-" + step + ".safetensors", null,
                        "No space left on device");
            }

            @Override
            public String describe() {
                return "/ckpt";
            }
        };
        ExecutionException e = assertThrows(ExecutionException.class, () -> ThreadedRanks.train(
                spec(OptimizerChoice.sgd(0.1)).checkpoints("memory", 2).build(),
                TrainingFixtures.shards(DATA, 80), 1, full));
        assertEquals("rank 0 cannot write a checkpoint to /ckpt: /ckpt/checkpoint-2.safetensors: No space left on "
                + "device", e.getCause().getMessage());
    }
}
