package dev.backprop.spark;

import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.data.Dataset;
import dev.backprop.data.LabelColumn;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.SavedModel;
import dev.backprop.spark.engine.PeerStoppedException;
import dev.backprop.spark.engine.RankTrainer;
import dev.backprop.spark.engine.ShardPlan;
import dev.backprop.spark.placement.BarrierTrainingTask;
import dev.backprop.spark.placement.DataSummary;
import dev.backprop.spark.placement.HadoopCheckpointStore;
import dev.backprop.spark.placement.RankResult;
import dev.backprop.spark.placement.Shards;
import dev.backprop.spark.placement.TransportSecret;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.train.TrainingStoppedException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Data-parallel training on Apache Spark: one rank per partition of the data, placed by one barrier stage, each
 * rank on its executor's backend; ranks keep in step over their own TCP connections (see
 * {@link dev.backprop.spark.transport.RankTransport}).
 *
 * <pre>{@code
 * TrainingSpec spec = TrainingSpec.builder(
 *         ModelFactory.mlp(new Mlp(new int[] {784, 256, 128, 10}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 0)),
 *         OptimizerChoice.adam(1e-3, 0))
 *     .batchSize(128).epochs(5).checkpoints("hdfs:///user/me/ckpt", 0).build();
 * SparkTrainingResult r = new SparkTrainer(spec).fit(examples.repartition(4));   // 4 ranks
 * r.saveModel(Path.of("model.safetensors"));
 * }</pre>
 *
 * <p>The cluster must be able to run all partitions at once (a barrier stage needs one free task slot per
 * partition). The global batch is {@code batchSize × partitions}.
 */
public final class SparkTrainer {
    private static final Logger LOG = Logger.getLogger(SparkTrainer.class.getName());
    private static final ClassTag<RankResult> RESULT = ClassTag$.MODULE$.apply(RankResult.class);

    private final TrainingSpec spec;

    /** A trainer for {@code spec}. */
    public SparkTrainer(TrainingSpec spec) {
        this.spec = spec;
    }

    /**
     * Trains on {@code data}, one rank per partition. First one pass over the data checks it (every partition
     * non-empty, every example of one shape, labels or targets as the task needs, at least 2 classes to train),
     * infers the number of classes when the spec leaves it at 0 and counts the classes for balanced class weights;
     * cache the RDD to avoid computing it twice.
     *
     * <p>A stage that fails more often than Spark retries it ends the run with Spark's
     * {@code org.apache.spark.SparkException} (checked in Java, but undeclared by Scala), whose message names the
     * failing rank; when a rank was lost or stalled in the last attempt of the barrier stage (each of its failed
     * tasks lost its executor or met a {@link TransportException}: not a bug), a {@link TransportException} instead,
     * in one line that says so and what to check, caused by it (fit reads the failed tasks' reasons from the
     * listener bus, for the job it marks with the local property {@code backprop.training.job}, whose stage that
     * Spark reports failed is the barrier stage: other jobs in the same SparkContext, and a failure of the job's
     * stage that reads the data or collects the results, do not count). Two failures end every rank at once and
     * are not retried by Spark, since a rerun would meet them again: a backend a rank cannot open, even on its one
     * retry 5 s later in the same task when its probe finds it ({@link BackendUnavailableException} naming the rank
     * and its host), and a loss that diverges (the {@link TrainingStoppedException} of the lowest rank whose loss
     * did: under gradient averaging every rank judges the global loss, under parameter averaging each its own and
     * tells the others at the next average).
     *
     * @throws IllegalArgumentException for data that does not suit the spec, a checkpoint directory that is not
     *                                  one and cannot be made one, or whose newest checkpoint was written with
     *                                  other settings or loss settings (before any training)
     * @throws BackendUnavailableException when a rank cannot open the spec's backend on its executor
     * @throws TrainingStoppedException when the loss diverges (the rank's message)
     * @throws TransportException       when the training stage failed too often because a rank was lost or stalled
     */
    public SparkTrainingResult fit(JavaRDD<Example> data) {
        return fit(data, null);
    }

    /**
     * As {@link #fit(JavaRDD)}, for data whose labels index {@code classNames}: a refusal of balanced class weights
     * for a class without examples names it as local training does
     * ({@link SoftmaxCrossEntropy.Builder#balancedWeights(long[], List)}).
     *
     * @param data       the examples, one rank per partition
     * @param classNames the classes' names in label order, or null
     * @throws IllegalArgumentException as {@link #fit(JavaRDD)}
     */
    public SparkTrainingResult fit(JavaRDD<Example> data, List<String> classNames) {
        return fit(data, classNames, () -> { });
    }

    /**
     * As {@link #fit(JavaRDD, List)}, running {@code checked} once the data, the class weights and the checkpoint
     * directory have passed their checks, just before the ranks start: the command line prints its start lines
     * there, so that every refusal comes before them.
     */
    SparkTrainingResult fit(JavaRDD<Example> data, List<String> classNames, Runnable checked) {
        checkCheckpointDirectory(data.context());
        List<DataSummary> parts = data.mapPartitionsWithIndex(
                (i, it) -> List.of(DataSummary.of(it, i)).iterator(), false).collect();
        DataSummary all = DataSummary.merge(parts);
        int[] sizes = DataSummary.sizes(parts);
        ShardPlan plan = new ShardPlan(sizes, spec.batchSize());
        int classes = all.classes(spec.task(), spec.classes(), classNames);
        TrainingSpec.Builder b = spec.toBuilder().classes(classes);
        if (spec.balancedClassWeights()) {
            b.countedClassWeights(SoftmaxCrossEntropy.builder().balancedWeights(all.classCounts(classes), classNames)
                    .build().weights());
        }
        if (data.context().isLocal() && spec.bindHost() == null && spec.advertiseHost() == null) {
            // Every rank is a thread of this JVM: nothing needs to reach them from another machine.
            b.advertiseHost("127.0.0.1");
        }
        TrainingSpec s = b.build();
        checkResumable(data.context(), s, plan);
        checked.run();
        LOG.info("training on " + sizes.length + " ranks, shards " + Arrays.toString(sizes) + ", "
                + plan.stepsPerEpoch() + " steps per epoch: " + s.describe());
        RDD<RankResult> stage = data.rdd().barrier().mapPartitions(
                new BarrierTrainingTask(s, TransportSecret.forJob(data.context().getConf())), false, RESULT);
        // The shuffle makes the barrier stage a shuffle-map stage: Spark reruns a failed one (up to
        // spark.stage.maxConsecutiveAttempts times), while a failed barrier result stage aborts the job.
        StageFailures failures = new StageFailures();
        SparkContext sc = data.context();
        String job = sc.getLocalProperty(StageFailures.JOB_PROPERTY);
        sc.setLocalProperty(StageFailures.JOB_PROPERTY, failures.tag());
        sc.addSparkListener(failures);
        List<RankResult> results;
        try {
            results = JavaRDD.fromRDD(stage, RESULT).repartition(1).collect();
        } catch (Exception e) {
            // Spark's SparkException is checked, but Scala declares it nowhere; "throw e" rethrows it as it came.
            TransportException lost = failures.lostRank(e);
            if (lost != null) {
                throw lost;
            }
            throw e;
        } finally {
            sc.removeSparkListener(failures);
            sc.setLocalProperty(StageFailures.JOB_PROPERTY, job);
        }
        // The reason of the lowest rank that stopped on its own, before those that stopped because it did.
        Optional<RankResult> stopped = results.stream().filter(r -> r.stopped() != null)
                .min(Comparator.comparing((RankResult r) -> r.stopped() instanceof PeerStoppedException)
                        .thenComparingInt(RankResult::rank));
        if (stopped.isPresent()) {
            throw stopped.get().stopped();
        }
        List<RankReport> reports = new ArrayList<>();
        byte[] model = null;
        for (RankResult r : results) {
            reports.add(r.report());
            if (r.report().rank() == 0) {
                model = r.modelFile();
            }
        }
        return new SparkTrainingResult(reports, model, s);
    }

    /**
     * Refuses, before any rank starts, a newest checkpoint written with other settings or loss settings than
     * {@code s} over {@code plan} ({@link RankTrainer#checkResumable}), where the driver sees the directory as the
     * ranks will (as {@link #checkCheckpointDirectory}; else rank 0 refuses it when it starts).
     */
    private static void checkResumable(SparkContext sc, TrainingSpec s, ShardPlan plan) {
        String dir = s.checkpointDir();
        if (!seenAsRanksSee(sc, dir)) {
            return;
        }
        try {
            RankTrainer.checkResumable(s, plan, new HadoopCheckpointStore(dir, sc.hadoopConfiguration()));
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint directory " + dir + ": cannot read it: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses {@code csv}, before it is read, when it has no header line and the newest checkpoint in {@code dir}
     * records {@code column}, a header name, as its label column: the refusal {@code train --resume} gives for such a
     * checkpoint ({@link SavedModel#headerlessCsv}), where the driver sees the directory as the ranks will (as
     * {@link #checkCheckpointDirectory}). A name with no such checkpoint is left to the reading, which refuses it
     * for a CSV without a header as local training does.
     *
     * @param dir the checkpoint directory, or null for none
     */
    static void checkHeaderForCheckpoint(JavaSparkContext sc, String dir, String csv, LabelColumn column) {
        if (column.name() == null || !seenAsRanksSee(sc.sc(), dir) || SparkData.hasHeader(sc, csv)) {
            return;
        }
        String recorded;
        try {
            Path d = new Path(dir);
            if (!d.getFileSystem(sc.hadoopConfiguration()).exists(d)) {
                return;  // no checkpoint yet, and a refused run makes no directory
            }
            recorded = RankTrainer.checkpointRecording(new HadoopCheckpointStore(dir, sc.hadoopConfiguration()),
                    column.name());
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint directory " + dir + ": cannot read it: " + e.getMessage(), e);
        }
        if (recorded != null) {
            throw SavedModel.headerlessCsv("--csv", csv, recorded, column.name());
        }
    }

    /**
     * Checks the checkpoint directory (creating it, not its parent) before any work, where the driver sees what the
     * ranks will: a path of any shared file system, and a local one when the ranks are threads of this JVM. On a
     * cluster a local path is rank 0's to check, when it starts.
     */
    private void checkCheckpointDirectory(SparkContext sc) {
        String dir = spec.checkpointDir();
        if (!seenAsRanksSee(sc, dir)) {
            return;
        }
        try {
            HadoopCheckpointStore.prepare(dir, sc.hadoopConfiguration());
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint directory " + dir + ": cannot check it: " + e.getMessage(), e);
        }
    }

    /**
     * Whether the driver sees the checkpoint directory {@code dir} (null: none) as the ranks will: a path of any
     * shared file system, and a local one when the ranks are threads of this JVM.
     */
    private static boolean seenAsRanksSee(SparkContext sc, String dir) {
        if (dir == null) {
            return false;
        }
        String scheme = new Path(dir).toUri().getScheme();
        return sc.isLocal() || scheme != null && !scheme.equals("file");
    }

    /**
     * A host data set as an RDD of {@code ranks} partitions of consecutive examples (for data that fits the
     * driver; larger data should be read by the executors).
     */
    public static JavaRDD<Example> parallelize(JavaSparkContext sc, Dataset data, int ranks) {
        if (ranks < 1 || ranks > data.size()) {
            throw new IllegalArgumentException("cannot split " + data.size() + " examples into " + ranks + " ranks");
        }
        return sc.parallelize(Shards.toExamples(data), ranks);
    }
}
