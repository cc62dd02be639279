package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import dev.backprop.spark.placement.Shards;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.spark.transport.TransportOptions;
import dev.backprop.train.TrainingStoppedException;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Training through Spark in local mode: two ranks as two task threads of this JVM, one barrier stage. */
class LocalSparkTrainingTest {
    private static final ModelFactory MLP = ModelFactory.mlp(new Mlp(new int[] {12, 16, 4}, Activation.Kind.RELU,
            Init.PYTORCH_DEFAULT, 7));
    private static final Dataset DATA = TrainingFixtures.clusters(160, 12, 4, 3);
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        // Two task slots; a failed barrier stage runs at most twice, which bounds the stalled-peer test.
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("backprop-spark-test")
                .set("spark.ui.enabled", "false").set("spark.stage.maxConsecutiveAttempts", "2"));
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static TrainingSpec.Builder spec(OptimizerChoice opt) {
        return TrainingSpec.builder(MLP, opt).batchSize(16).epochs(3).seed(11);
    }

    /** The shards exactly as Spark cut them. */
    private static List<Dataset> shardsOf(JavaRDD<Example> rdd) {
        List<Dataset> out = new ArrayList<>();
        for (List<Example> part : rdd.glom().collect()) {
            out.add(Shards.toDataset(part.iterator(), Task.CLASSIFICATION, 4));
        }
        return out;
    }

    @Test
    void twoRanksAreBitIdenticalToAOneJvmRunOverTheSameShards() throws Exception {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, TrainingFixtures.slice(DATA, 0, 141), 2);
        for (OptimizerChoice opt : new OptimizerChoice[] {OptimizerChoice.momentum(0.05, 0.9, 1e-4),
                OptimizerChoice.adam(0.01, 0)}) {
            TrainingSpec s = spec(opt).build();
            SparkTrainingResult r = new SparkTrainer(s).fit(rdd);
            byte[] expected;
            try (Backend b = ThreadedRanks.cpu(1)) {
                expected = TrainingFixtures.oneJvmDataParallel(s, shardsOf(rdd), b);
            }
            assertArrayEquals(expected, r.modelFile());
            assertEquals(2, r.reports().size());
            for (RankReport rep : r.reports()) {
                assertEquals("cpu", rep.backend());
                assertEquals(1, rep.threads());
                assertEquals("auto requested; no GPU assigned to this task by Spark; cpu threads 1 "
                        + "(spark.task.cpus=1); cpu chosen", rep.backendReason());
                assertEquals(0, rep.attempt());
                assertEquals(3 * 5, rep.totalSteps(), "min(ceil(70/16), ceil(71/16)) = 5 steps per epoch");
            }
            assertEquals(3, r.epochs().size());
        }
    }

    @Test
    void averagedGradientsStayWithin1e5OfPlainFullBatchTraining() throws Exception {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec s = spec(OptimizerChoice.adam(0.01, 0)).batchSize(80).epochs(10).build();
        SparkTrainingResult r = new SparkTrainer(s).fit(rdd);
        try (Backend b = ThreadedRanks.cpu(1)) {
            Map<String, float[]> full = TrainingFixtures.fullBatch(s, DATA, b);
            double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(r.modelFile(), b), full);
            assertTrue(rel <= 1e-5, "relative difference " + rel);
        }
    }

    /**
     * Class weights on two Spark ranks whose partitions hold different classes (the data sorted by label): the
     * global batch's weighted mean (PyTorch's {@code CrossEntropyLoss(weight=w)} divides by the batch's sum of
     * label weights) matches full-batch training on one machine within 1e-5, where combining the ranks' own
     * weighted means would differ by more than 1e-2; balanced weights are counted over both partitions.
     */
    @Test
    void classWeightsOnTwoRanksMatchFullBatchTrainingOnTheGlobalBatch() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, sorted, 2);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.5)).batchSize(80).epochs(10).classWeights(0.25, 0.5, 3, 4)
                .build();
        SparkTrainingResult r = new SparkTrainer(s).fit(rdd);
        SparkTrainingResult balanced = new SparkTrainer(s.toBuilder().balancedClassWeights().build()).fit(rdd);
        double[] counted = SoftmaxCrossEntropy.builder().balancedWeights(sorted).build().weights();
        assertArrayEquals(counted, balanced.spec().classWeights(), "scikit-learn's n / (K count_k) over all data");
        try (Backend b = ThreadedRanks.cpu(1)) {
            Map<String, float[]> full = TrainingFixtures.fullBatch(s, sorted, b);
            double naive = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(
                    TrainingFixtures.oneJvmDataParallel(s, shardsOf(rdd), b), b), full);
            assertTrue(naive > 1e-2, "sanity: per-rank weighted means differ from the global one by " + naive);
            double rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(r.modelFile(), b), full);
            assertTrue(rel <= 1e-5, "relative difference " + rel);
            rel = TrainingFixtures.maxRelativeDifference(TrainingFixtures.values(balanced.modelFile(), b),
                    TrainingFixtures.fullBatch(balanced.spec(), sorted, b));
            assertTrue(rel <= 1e-5, "balanced: relative difference " + rel);
        }
        TrainingFixtures.assertLosses(TrainingFixtures.localEpochLosses(s.toBuilder().batchSize(160).build(),
                sorted), r.epochs(), "the global batch's weighted mean, as local training's batch of 160");
    }

    /**
     * One rank (one partition, as {@code local[1]} makes) with class weights reports local training's per-epoch
     * losses for the same batches (its shard's shuffle), in both sync modes.
     */
    @Test
    void oneRankWithClassWeightsReportsLocalTrainingsEpochLosses() throws Exception {
        Dataset sorted = TrainingFixtures.sortedByLabel(DATA);
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, sorted, 1);
        TrainingSpec s = spec(OptimizerChoice.adam(0.01, 0)).classWeights(0.25, 0.5, 3, 4).build();
        double[] local = TrainingFixtures.localEpochLosses(s, sorted);
        TrainingFixtures.assertLosses(local, new SparkTrainer(s).fit(rdd).epochs(), "sync gradients");
        TrainingFixtures.assertLosses(local, new SparkTrainer(s.toBuilder().sync(SyncMode.parameters(3)).build())
                .fit(rdd).epochs(), "sync parameters:3");
    }

    /** Label smoothing, a mean over the examples: the same bits as the one-JVM run over the same shards. */
    @Test
    void labelSmoothingOnTwoRanksIsBitIdenticalToAOneJvmRun() throws Exception {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, TrainingFixtures.slice(DATA, 0, 141), 2);
        TrainingSpec s = spec(OptimizerChoice.adam(0.01, 0)).labelSmoothing(0.1).build();
        SparkTrainingResult r = new SparkTrainer(s).fit(rdd);
        try (Backend b = ThreadedRanks.cpu(1)) {
            assertArrayEquals(TrainingFixtures.oneJvmDataParallel(s, shardsOf(rdd), b), r.modelFile());
        }
    }

    @Test
    void balancedWeightsForAClassWithoutExamplesAreRefusedBeforeTheStage() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).classes(5).balancedClassWeights().build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SparkTrainer(s).fit(rdd));
        assertEquals("cross_entropy: balanced class weights: class 4 has no example among the 160 training examples",
                e.getMessage());
        List<String> names = List.of("a", "b", "c", "d", "e");
        assertEquals("cross_entropy: balanced class weights: class 4 (e) has no example among the 160 training "
                + "examples", assertThrows(IllegalArgumentException.class, () -> new SparkTrainer(s).fit(rdd, names))
                .getMessage(), "named as local training names it");
    }

    @Test
    void aKilledTaskMakesSparkRerunTheStageWhichResumesFromTheCheckpoint(@TempDir Path dir) throws Exception {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec plain = spec(OptimizerChoice.adam(0.01, 0)).build();
        byte[] uninterrupted = new SparkTrainer(plain).fit(rdd).modelFile();
        String ckpt = dir.resolve("ckpt").toString();
        TrainingSpec failing = plain.toBuilder().checkpoints(ckpt, 4).listener(e -> {
            if (e.rank() == 1 && e.attempt() == 0 && e.stepsDone() == 7) {
                throw new IllegalStateException("planted failure of rank 1 at step 7");
            }
        }).build();
        SparkTrainingResult r = new SparkTrainer(failing).fit(rdd);
        for (RankReport rep : r.reports()) {
            assertEquals(1, rep.attempt(), "the stage ran a second time");
            assertEquals(4, rep.resumedFromStep(), "from rank 0's checkpoint after step 4");
            assertEquals(15 - 4, rep.stepsRun());
        }
        assertArrayEquals(uninterrupted, r.modelFile(), "resumed training ends with the same bits");
        assertTrue(Files.exists(dir.resolve("ckpt").resolve("checkpoint-000000000015.safetensors")));
    }

    /** The stage attempts whose ranks reported a step, in this JVM (the listener runs in local mode's executor). */
    private static final Set<Integer> ATTEMPTS = ConcurrentHashMap.newKeySet();

    /**
     * A loss that diverges under gradient averaging (SGD at lr 1e30) stops every rank at the same step, judged by
     * the same global loss: fit throws rank 0's {@link TrainingStoppedException} after one attempt of the stage, as
     * local training stops, where a rerun would diverge again (and its failure reached the driver only as text).
     */
    @Test
    void aDivergingLossEndsTheRunAfterOneAttemptWithRankZerosException() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        ATTEMPTS.clear();
        TrainingSpec s = spec(OptimizerChoice.sgd(1e30)).listener(e -> ATTEMPTS.add(e.attempt())).build();
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> new SparkTrainer(s).fit(rdd));
        assertTrue(e.getMessage().startsWith("training stopped on rank 0: the global batch's cross_entropy loss is "),
                e.getMessage());
        assertEquals(TrainingStoppedException.Reason.LEARNING_RATE, e.reason(), e.getMessage());
        assertEquals(Set.of(0), ATTEMPTS, "the ranks stepped in the first attempt only");
    }

    /**
     * Under parameter averaging each rank judges its own loss: rank 1's features are 1e30 times larger, so its loss
     * diverges at its second step and rank 0's does not. Rank 1 tells rank 0 in the next parameter average, where
     * both stop: fit throws rank 1's {@link TrainingStoppedException} after one attempt of the stage, where rank 0
     * would wait for rank 1 on the transport, fail, and the stage would run again.
     */
    @Test
    void aLossThatDivergesOnOneRankUnderParameterAveragingEndsTheRunWithThatRanksException() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, TrainingFixtures.scaledFrom(DATA, 80, 1e30f), 2);
        ATTEMPTS.clear();
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).sync(SyncMode.parameters(2))
                .listener(e -> ATTEMPTS.add(e.attempt())).build();
        TrainingStoppedException e = assertThrows(TrainingStoppedException.class, () -> new SparkTrainer(s).fit(rdd));
        assertTrue(e.getMessage().startsWith("training stopped on rank 1: "), e.getMessage());
        assertEquals(Set.of(0), ATTEMPTS, "the ranks stepped in the first attempt only");
    }

    /**
     * A backend the ranks cannot open on their executor ends the run with the lowest such rank's reason, as
     * {@code Backends} gives it on one machine, after one attempt of the stage instead of Spark's reruns.
     */
    @Test
    void aBackendThatWillNotOpenEndsTheRunWithTheRanksReason() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).backend("nonsense").build();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> new SparkTrainer(s).fit(rdd));
        assertTrue(e.getMessage().startsWith("rank 0 on 127.0.0.1: nonsense requested; ")
                && e.getMessage().contains(", but: unknown backend 'nonsense'; known backends: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aStalledPeerFailsTheJobWithItsRankNamedInsteadOfHanging() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1))
                .transport(TransportOptions.defaults().withIoTimeout(Duration.ofSeconds(2))).listener(e -> {
                    if (e.rank() == 1 && e.stepsDone() == 3) {
                        stallUntilKilled();
                    }
                }).build();
        TransportException e = assertThrows(TransportException.class, () -> new SparkTrainer(s).fit(rdd));
        // Both attempts of the stage (spark.stage.maxConsecutiveAttempts is 2 here) met the stall: one line that says
        // a rank was lost, quotes what rank 0 saw and says what to check, where Spark's SparkException has many.
        assertTrue(e.getMessage().startsWith("a rank was lost or stalled, and the training stage failed 2 times "
                + "(rank 0: no REDUCE #5 from rank 1 within PT2S; rank 1 is stalled or unreachable (/127.0.0.1:"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("); check that every executor is still running (its log says why one "
                + "stopped) and that the executors reach each other on the ranks' ports"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertEquals(1, e.peerRank(), "the peer rank 0 waited for");
        assertInstanceOf(SparkException.class, e.getCause());
    }

    /**
     * A task that fails for another reason (here a planted bug in rank 1's step listener) keeps Spark's report: it
     * is not a lost rank, even though rank 0 then loses its connection to rank 1 (and Spark's message may quote
     * rank 0's TransportException as the most recent failure, when its report reaches the driver first).
     */
    @Test
    void aTaskThatFailsForAnotherReasonIsNotReportedAsALostRank() {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).listener(e -> {
            if (e.rank() == 1 && e.stepsDone() == 3) {
                throw new IllegalStateException("planted failure at step 3");
            }
        }).build();
        assertThrows(SparkException.class, () -> new SparkTrainer(s).fit(rdd));
    }

    /** A rank that stops answering (as a frozen machine would) until Spark kills its task. */
    private static void stallUntilKilled() {
        long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < end && !org.apache.spark.TaskContext.get().isInterrupted()) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A mistyped checkpoint directory fails the run at once, before the data is read, and grows no tree. */
    @Test
    void aCheckpointDirectoryWhoseParentIsMissingIsRefusedBeforeTheStage(@TempDir Path dir) {
        JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, DATA, 2);
        String typo = dir.toUri() + "no/such/ckpt";
        TrainingSpec s = spec(OptimizerChoice.sgd(0.1)).checkpoints(typo, 0).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SparkTrainer(s).fit(rdd));
        assertEquals("checkpoint directory " + typo + ": the directory file:" + dir.resolve("no/such") + " does not "
                + "exist (it is not created: make it first)", e.getMessage());
        assertTrue(Files.notExists(dir.resolve("no")));
    }

    @Test
    void dataThatCannotBeTrainedIsRejectedBeforeTheStage() {
        JavaRDD<Example> mixed = sc.parallelize(List.of(Example.labelled(new float[] {1, 2}, 0),
                Example.labelled(new float[] {1, 2, 3}, 1)), 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SparkTrainer(spec(OptimizerChoice.sgd(0.1)).build()).fit(mixed));
        assertTrue(e.getMessage().contains("partition 1 holds examples with 3 features"), e.getMessage());
        JavaRDD<Example> oneEmpty = sc.parallelize(List.of(Example.labelled(new float[] {1, 2}, 0)), 2);
        e = assertThrows(IllegalArgumentException.class,
                () -> new SparkTrainer(spec(OptimizerChoice.sgd(0.1)).build()).fit(oneEmpty));
        assertTrue(e.getMessage().contains("rank 0's partition is empty"), e.getMessage());
    }
}
