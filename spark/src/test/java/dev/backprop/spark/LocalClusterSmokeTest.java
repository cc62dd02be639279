package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import dev.backprop.spark.placement.Shards;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two executors in separate JVMs ({@code local-cluster[2,1,1024]}: two standalone workers with one core and 1 GB
 * each, started by Spark without a Spark distribution), each told by a fake discovery script that it has GPU 0.
 * {@code auto} asks core's selection for the best backend with that GPU as its device; only cpu is on this class
 * path, so the ranks run cpu, and their reports say what Spark assigned and what was chosen. Then one executor JVM
 * dies mid-training, and the rerun resumes from the checkpoint. Needs {@code SPARK_HOME} (a folder with an empty
 * {@code jars/}) and {@code SPARK_SCALA_VERSION=2.13} in the environment: the module's surefire configuration sets
 * both.
 */
class LocalClusterSmokeTest {
    @Test
    void ranksInSeparateExecutorJvmsTrainAndAutoChoosesTheAssignedGpu(@TempDir Path tmp) throws Exception {
        String home = System.getenv("SPARK_HOME");
        assertTrue(home != null && "2.13".equals(System.getenv("SPARK_SCALA_VERSION")),
                "SPARK_HOME and SPARK_SCALA_VERSION=2.13 must be set (spark/pom.xml's surefire configuration does)");
        Files.createDirectories(Path.of(home, "jars"));
        Path script = tmp.resolve("gpus.sh");
        Files.writeString(script, "#!/bin/sh\necho '{\"name\":\"gpu\",\"addresses\":[\"0\"]}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("backprop-cluster-test")
                .set("spark.ui.enabled", "false")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.worker.resource.gpu.amount", "1")
                .set("spark.worker.resource.gpu.discoveryScript", script.toString())
                .set("spark.executor.resource.gpu.amount", "1")
                .set("spark.task.resource.gpu.amount", "1")
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            awaitExecutors(sc, 2);
            Dataset data = TrainingFixtures.clusters(96, 12, 4, 5);
            JavaRDD<Example> rdd = SparkTrainer.parallelize(sc, data, 2);
            TrainingSpec spec = TrainingSpec.builder(ModelFactory.mlp(new Mlp(new int[] {12, 16, 4},
                    Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 7)), OptimizerChoice.adam(0.01, 0)).batchSize(16)
                    .epochs(2).seed(3).build();
            SparkTrainingResult r = new SparkTrainer(spec).fit(rdd);
            List<Dataset> shards = new ArrayList<>();
            for (List<Example> part : rdd.glom().collect()) {
                shards.add(Shards.toDataset(part.iterator(), Task.CLASSIFICATION, 4));
            }
            try (Backend b = ThreadedRanks.cpu(1)) {
                assertArrayEquals(TrainingFixtures.oneJvmDataParallel(spec, shards, b), r.modelFile(),
                        "executors in other JVMs compute the same bits");
            }
            assertEquals(2, r.reports().size());
            assertNotEquals(r.reports().get(0).executorId(), r.reports().get(1).executorId(),
                    "one rank per executor");
            for (RankReport rep : r.reports()) {
                assertNotEquals("driver", rep.executorId());
                assertEquals("auto requested; Spark assigned GPU 0 to this task (device 0); cpu threads 1 "
                        + "(spark.task.cpus=1); cpu chosen", rep.backendReason());
                assertEquals("cpu", rep.backend());
            }
            killedExecutorResumesFromTheCheckpoint(sc, rdd, spec, r.modelFile(), tmp.resolve("ckpt"));
        }
    }

    /**
     * Rank 1's executor JVM dies at step 3 (as under {@code kill -9}); the worker starts a new executor, Spark reruns
     * the barrier stage, and rank 0 of the rerun resumes from its checkpoint after step 2: same final bits.
     */
    private static void killedExecutorResumesFromTheCheckpoint(JavaSparkContext sc, JavaRDD<Example> rdd,
                                                               TrainingSpec spec, byte[] uninterrupted, Path ckpt) {
        TrainingSpec dying = spec.toBuilder().checkpoints(ckpt.toString(), 2).listener(e -> {
            if (e.rank() == 1 && e.attempt() == 0 && e.stepsDone() == 3) {
                Runtime.getRuntime().halt(137);
            }
        }).build();
        SparkTrainingResult r = new SparkTrainer(dying).fit(rdd);
        for (RankReport rep : r.reports()) {
            assertTrue(rep.attempt() >= 1, "the stage was rerun: " + rep.describe());
            assertEquals(2, rep.resumedFromStep(), rep.describe());
        }
        assertArrayEquals(uninterrupted, r.modelFile(), "resumed training ends with the same bits");
    }

    private static void awaitExecutors(JavaSparkContext sc, int n) throws InterruptedException {
        long end = System.nanoTime() + 120_000_000_000L;
        // The driver counts as one entry of getExecutorInfos.
        while (sc.sc().statusTracker().getExecutorInfos().length < n + 1) {
            if (System.nanoTime() > end) {
                throw new AssertionError("executors did not register within 120 s");
            }
            Thread.sleep(100);
        }
    }
}
