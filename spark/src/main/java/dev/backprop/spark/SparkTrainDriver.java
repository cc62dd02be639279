package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.LabelColumn;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.runtime.Backends;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The driver side of {@code backprop train --spark MASTER} (the command line parses the options and calls
 * {@link #run}): starts Spark, reads the data into an RDD of one partition per rank, builds the spec for the data's
 * shape, trains with {@link SparkTrainer}, then scores the model on the driver and saves it as {@code train} does.
 */
public final class SparkTrainDriver {
    /** Examples per batch when scoring on the driver (not timed; large batches keep it quick). */
    private static final int EVAL_BATCH = 1000;

    private SparkTrainDriver() {
    }

    /**
     * Where the training examples come from: Fashion-MNIST read on the driver, or a CSV read by the executors.
     *
     * @param fashionDir    the Fashion-MNIST directory (used when {@code csv} is null)
     * @param csv           a numeric CSV at any path Spark reads, or null
     * @param targetColumns target columns of a regression CSV
     * @param labelColumn   the CSV's label column (the first of the target columns), {@link LabelColumn#LAST} for
     *                      the last
     * @param trainLimit    Fashion-MNIST: the first N examples only, or null for all
     * @param checkpointDir the run's checkpoint directory, or null: a CSV without a header line is refused before it
     *                      is read when the newest checkpoint there records {@code labelColumn}, a header name
     *                      ({@link SavedModel#headerlessCsv}, as {@code train --resume} refuses it)
     */
    public record Data(Path fashionDir, String csv, int targetColumns, LabelColumn labelColumn, Integer trainLimit,
                       String checkpointDir) {
        /**
         * Checks the label column is given.
         *
         * @throws NullPointerException when {@code labelColumn} is null (give {@link LabelColumn#LAST} for the last)
         */
        public Data {
            Objects.requireNonNull(labelColumn, "labelColumn: give LabelColumn.LAST for the last column");
        }

        /** The data in words, for the output and the model's metadata. */
        public String describe() {
            return csv != null ? "CSV " + csv : "Fashion-MNIST " + fashionDir
                    + (trainLimit != null ? ", first " + trainLimit + " training examples" : "");
        }
    }

    /** The training spec for data of {@code inputs} features that needs {@code outputs} network outputs. */
    @FunctionalInterface
    public interface SpecForData {
        /**
         * @throws IllegalArgumentException when the requested network does not fit the data
         */
        TrainingSpec create(int inputs, int outputs);
    }

    /** What the caller adds to the saved model's metadata, given the spec the ranks trained with. */
    @FunctionalInterface
    public interface ModelFacts {
        /**
         * @param facts   the metadata the model file will hold, to add to
         * @param trained the spec as the ranks trained with it ({@link SparkTrainingResult#spec})
         */
        void put(Map<String, String> facts, TrainingSpec trained);
    }

    /**
     * Trains and saves the model at {@code out}, printing progress to {@code stdout}. The start lines come once the
     * data, the class weights and any checkpoint have passed their checks, so a refusal prints nothing before it.
     * The live per-epoch lines come from rank 0 on its executor, so they go to that JVM's standard output (the
     * driver's own in {@code local} mode).
     *
     * @param master the Spark master (as {@code spark-submit --master} takes it)
     * @param ranks  the number of ranks, or null for the task slots Spark offers
     * @param facts  adds the caller's entries (the loss settings) to the model's metadata
     */
    public static void run(String master, Integer ranks, Data data, Task task, SpecForData specs, ModelFacts facts,
                           Path out, PrintWriter stdout) throws IOException {
        SparkConf conf = new SparkConf().setAppName("backprop-train").setMaster(master);
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            // One rank per task slot: a barrier stage needs all its tasks running at once.
            int slots = sc.defaultParallelism() / sc.getConf().getInt("spark.task.cpus", 1);
            int n = ranks != null ? ranks : Math.max(1, slots);
            if (data.csv() != null) {
                SparkTrainer.checkHeaderForCheckpoint(sc, data.checkpointDir(), data.csv(), data.labelColumn());
            }
            List<String> names = data.csv() != null && task == Task.CLASSIFICATION
                    ? SparkData.csvClassNames(sc, data.csv(), data.labelColumn()) : List.of();
            JavaRDD<Example> rdd = data.csv() != null
                    ? SparkData.csv(sc, data.csv(), task, data.targetColumns(), n, names, data.labelColumn())
                    : SparkData.fashionMnist(sc, data.fashionDir(), data.trainLimit(), n);
            Example first = rdd.first();
            int outputs = !names.isEmpty() ? names.size()
                    : task == Task.CLASSIFICATION ? rdd.map(Example::label).reduce(Math::max) + 1
                    : first.targets().length;
            TrainingSpec spec = specs.create(first.features().length, outputs);
            TrainingSpec.Builder b = spec.toBuilder().listener(new EpochLines(spec.epochs()))
                    .labelColumn(data.csv() != null && !data.labelColumn().isLast() ? data.labelColumn().toString()
                            : null);
            if (task == Task.CLASSIFICATION) {
                b.classes(outputs);
            }
            TrainingSpec requested = b.build();
            SparkTrainingResult result = new SparkTrainer(requested).fit(rdd, names.isEmpty() ? null : names, () -> {
                stdout.println(startLines(sc.master(), n, requested, data));
                stdout.flush();
            });
            stdout.print(escaped(result.describe()));
            finish(data, task, n, first.features().length, names, result, facts, out, stdout);
        } catch (Exception e) {
            // Spark's SparkException is checked, but Scala declares it nowhere; "throw e" rethrows it as it came.
            RuntimeException explained = explained(e);
            if (explained != null) {
                throw explained;
            }
            throw e;
        }
    }

    /**
     * What a task threw when that ended a Spark job with a {@code SparkException}, if it is an explained problem
     * (bad data found by the stages that read and check it: its message says what is wrong), else null. The job's
     * own message repeats the cause after Spark's stage and task ids and host, on many lines. A job whose barrier
     * training stage failed too often carries no cause, only that text: {@link SparkTrainer#fit(JavaRDD, List)}
     * reads a lost or stalled rank from the tasks' end events instead, and a diverging loss or a backend that will
     * not open does not fail the stage (fit throws them).
     */
    static RuntimeException explained(Exception e) {
        if (!(e instanceof SparkException)) {
            return null;
        }
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof BackpropException || t instanceof IllegalArgumentException) {
                return (RuntimeException) t;
            }
        }
        return null;
    }

    /**
     * Scores the trained model on the driver (Fashion-MNIST's test split, for classification on it, with the loss
     * it was trained with), saves it as {@code backprop train} does (task, class names, what it was trained on, the
     * input shape, the caller's facts) and prints the result line.
     *
     * @param features the length of each example's flat feature row
     * @param csvNames the class names a CSV's label column holds, or empty
     */
    private static void finish(Data data, Task task, int n, int features, List<String> csvNames,
                               SparkTrainingResult result, ModelFacts caller, Path out, PrintWriter stdout)
            throws IOException {
        TrainingSpec spec = result.spec();
        boolean fashion = data.csv() == null && task == Task.CLASSIFICATION;
        try (Backend backend = Backends.create(null, BackendOptions.defaults());
             Layer model = result.loadModel(backend)) {
            Evaluation test = null;
            if (fashion) {
                Dataset images = FashionMnist.split(data.fashionDir(), "t10k");
                Dataset shaped = spec.inputShape() == null ? images.flatten()
                        : images.withFeatureShape(spec.inputShape());
                task.check(shaped);
                test = Evaluator.evaluate(model, spec.loss(), shaped, EVAL_BATCH);
                stdout.printf(Locale.ROOT, "test:    loss %.4f, %s %.4f (%d Fashion-MNIST test examples, %s on the "
                        + "driver)%n", test.loss(), task.metricName(), task.metric(test), test.examples(),
                        backend.name());
            }
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("backprop.trained_on", data.describe());
            if (spec.labelColumn() != null) {
                facts.put(SavedModel.LABEL_COLUMN_KEY, spec.labelColumn());
            }
            SavedModel.putInputShape(facts, spec.inputShape() != null ? spec.inputShape() : new int[] {features});
            facts.put("backprop.training", "Spark, " + ranks(n) + ", " + spec.describe());
            caller.put(facts, spec);
            SavedModel.save(out, model, task, fashion ? FashionMnist.CLASS_NAMES : csvNames.isEmpty() ? null : csvNames,
                    facts);
            String saved = DataFormatException.oneLine(out.toString());
            stdout.println("saved:   " + saved);
            List<EpochResult> epochs = result.epochs();
            RankReport r0 = result.reports().get(0);
            stdout.printf(Locale.ROOT, "result: ranks=%d steps=%d final_loss=%.6f%s allreduce_ms=%.3f model=%s%n",
                    n, r0.totalSteps(), epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).loss(),
                    test == null ? "" : String.format(Locale.ROOT, " test_%s=%.4f", task.metricName(),
                            task.metric(test)), r0.meanAllReduceMillis(), saved);
            stdout.flush();
        }
    }

    /**
     * Prints one line when rank 0 finishes an epoch, on its executor: live progress in {@code local} mode, a
     * line in rank 0's executor log on a cluster. The loss is that of the epoch's last step (the epoch's mean
     * comes with the result).
     */
    private record EpochLines(int epochs) implements StepListener {
        @Override
        public void onStep(StepEvent e) {
            long perEpoch = Math.max(1, e.totalSteps() / epochs);
            if (e.rank() == 0 && e.stepsDone() % perEpoch == 0) {
                System.out.printf(Locale.ROOT, "epoch %d/%d trained (rank 0, step %d of %d, last step's loss %.4f)%n",
                        e.epoch() + 1, epochs, e.stepsDone(), e.totalSteps(), e.loss());
                System.out.flush();
            }
        }
    }

    /**
     * The {@code spark:} and {@code data:} lines: the master, the ranks, the optimizer with its schedule and warmup
     * (worded by {@link dev.backprop.optim.OptimizerChoice#describe}, as the one-machine {@code train:} line words
     * them) and the spec, then the data. Paths (the data's, a checkpoint directory's) are the user's and may hold
     * anything, so both lines print through {@link DataFormatException#oneLine}: an escape sequence or a
     * right-to-left override in a name shows as text. The model file's {@code backprop.training} takes the spec's words
     * alone, so a model file's bytes do not depend on how this line words the optimizer.
     */
    static String startLines(String master, int n, TrainingSpec spec, Data data) {
        return DataFormatException.oneLine("spark:   " + master + ", " + ranks(n) + ", "
                + spec.optimizer().describe() + ", " + spec.describe())
                + System.lineSeparator() + "data:    " + DataFormatException.oneLine(data.describe());
    }

    /**
     * {@code text}'s lines each through {@link DataFormatException#oneLine}: the result's rank lines quote the hosts,
     * executors and backend reasons the cluster reported.
     */
    static String escaped(String text) {
        return text.lines().map(line -> DataFormatException.oneLine(line) + System.lineSeparator())
                .collect(Collectors.joining());
    }

    private static String ranks(int n) {
        return n + (n == 1 ? " rank" : " ranks");
    }
}
