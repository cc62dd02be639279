package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.data.FashionMnist;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.transport.NetworkDelay;
import dev.backprop.spark.transport.TransportOptions;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The {@code spark-submit} entry point: data-parallel training of a multilayer perceptron with the flags of
 * {@code backprop train} (where they apply) plus the Spark ones. {@code --batch-size} is per rank.
 *
 * <pre>
 * spark-submit --class dev.backprop.spark.SparkTrainMain --master spark://host:7077 \
 *     --conf spark.task.cpus=4 app.jar --ranks 4 --data /data/fashion-mnist --epochs 5 --out model.safetensors
 * </pre>
 */
@Command(name = "backprop-spark-train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trains an MLP data-parallel on Apache Spark: one rank per partition, gradients averaged "
                + "every step (= single-machine training with batch --batch-size x ranks).")
public final class SparkTrainMain implements Callable<Integer> {
    @Option(names = "--master", paramLabel = "URL", description = "Spark master when not set by spark-submit, "
            + "e.g. local[2].")
    String master;

    @Option(names = "--ranks", paramLabel = "N", description = "Ranks (partitions); default: Spark's default "
            + "parallelism / spark.task.cpus (the task slots). The cluster must run N tasks at once.")
    Integer ranks;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST directory, read on the driver "
            + "(default: $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist).")
    Path dataDir;

    @Option(names = "--csv", paramLabel = "PATH", description = "Numeric CSV read by the executors (any Hadoop "
            + "path): features, then the label or --targets target columns.")
    String csv;

    @Option(names = "--targets", paramLabel = "N", defaultValue = "1", description = "Target columns of a "
            + "regression CSV (default: ${DEFAULT-VALUE}).")
    int targets;

    @Option(names = "--train-limit", paramLabel = "N", description = "Fashion-MNIST: the first N examples only.")
    Integer trainLimit;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = "classification",
            description = "classification, binary or regression (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--layers", paramLabel = "SIZES", description = "Layer sizes, e.g. 784-256-128-10 "
            + "(default: features-256-128-outputs).")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "relu",
            description = "relu, sigmoid or tanh (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--initializer", paramLabel = "NAME", defaultValue = "pytorch",
            description = "pytorch, xavier, xavier-normal, he or he-normal (default: ${DEFAULT-VALUE}).")
    String initializer;

    @CommandLine.Mixin
    SparkOptimizerOptions optimizer;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "128",
            description = "Examples per rank per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10", description = "Epochs (default: "
            + "${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the initial weights "
            + "and the shuffles (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--sync", paramLabel = "MODE", defaultValue = "gradients", description = "gradients (every "
            + "step; the maths of single-machine training) or parameters:K (average parameters and optimizer state "
            + "every K steps; changes the maths) (default: ${DEFAULT-VALUE}).")
    String sync;

    @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0", description = "Clip the averaged "
            + "gradient to this global norm; 0: off (default: ${DEFAULT-VALUE}).")
    double clipNorm;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Checkpoints (rank 0) in this "
            + "directory every executor can reach (hdfs://, s3a://, shared path); a rerun resumes from the newest.")
    String checkpointDir;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0", description = "Steps between "
            + "checkpoints; 0: every epoch (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto", description = "Per executor: auto "
            + "(the GPU Spark assigned, else cpu), cpu, cuda or opencl (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--threads", paramLabel = "N", description = "cpu threads per rank (default: "
            + "spark.task.cpus).")
    Integer threads;

    @Option(names = "--port", paramLabel = "N", defaultValue = "0", description = "Port the ranks listen on: the "
            + "first free one of N..N+31; 0: any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--io-timeout", paramLabel = "SECONDS", defaultValue = "300", description = "How long a rank "
            + "waits for a peer in one step before failing (default: ${DEFAULT-VALUE}).")
    long ioTimeout;

    @Option(names = "--net-delay", paramLabel = "LATENCY[,BANDWIDTH]", defaultValue = "none",
            description = "Simulated network delay per message, e.g. 200us,10Gbit (default: ${DEFAULT-VALUE}).")
    String netDelay;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "model.safetensors",
            description = "Where the driver writes the trained model (default: ${DEFAULT-VALUE}).")
    Path out;

    private PrintWriter stdout = new PrintWriter(System.out, true);

    /** Runs the command line; returns the exit code (0 on success). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8), args);
    }

    /**
     * Runs the command line with its normal output (and {@code --help}) on {@code out} and error messages on
     * {@code err}; returns the exit code (0 on success, 1 for a failed run, 2 for bad flags). The live per-epoch
     * lines come from rank 0 on its executor, so they go to that JVM's standard output (the driver's own in
     * {@code local} mode).
     */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        SparkTrainMain main = new SparkTrainMain();
        main.stdout = out;
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parse) -> {
            line.getErr().println("error: " + e.getMessage());
            return 1;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * The hook for {@code backprop train --spark MASTER ...}: the train command's arguments, with
     * {@code --spark MASTER} (or {@code --spark=MASTER}) standing for {@code --master MASTER}. Flags of
     * {@code train} that have no meaning here ({@code --plot}, {@code --resume}, ...) are rejected by name, as
     * unknown options. Spark must be on the class path.
     *
     * @return the exit code (0 on success)
     */
    public static int runTrainArguments(String... trainArgs) {
        return run(toMainArguments(trainArgs));
    }

    /** {@link #runTrainArguments(String...)} writing to {@code out} and {@code err} as
     *  {@link #run(PrintWriter, PrintWriter, String...)} does. */
    public static int runTrainArguments(PrintWriter out, PrintWriter err, String... trainArgs) {
        return run(out, err, toMainArguments(trainArgs));
    }

    /** {@code train}'s arguments with {@code --spark X} / {@code --spark=X} turned into {@code --master X}. */
    static String[] toMainArguments(String... trainArgs) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < trainArgs.length; i++) {
            String a = trainArgs[i];
            if (a.equals("--spark")) {
                if (i + 1 == trainArgs.length) {
                    throw new IllegalArgumentException("--spark needs a Spark master, e.g. --spark local[2]");
                }
                out.add("--master");
                out.add(trainArgs[++i]);
            } else if (a.startsWith("--spark=")) {
                out.add("--master");
                out.add(a.substring("--spark=".length()));
            } else {
                out.add(a);
            }
        }
        return out.toArray(String[]::new);
    }

    /** {@code spark-submit}'s entry point. */
    public static void main(String[] args) {
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        Task t = Task.parse(task);
        SparkConf conf = new SparkConf().setAppName("backprop-train");
        if (master != null) {
            conf.setMaster(master);
        }
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            // One rank per task slot: a barrier stage needs all its tasks running at once.
            int slots = sc.defaultParallelism() / sc.getConf().getInt("spark.task.cpus", 1);
            int n = ranks != null ? ranks : Math.max(1, slots);
            JavaRDD<Example> data = csv != null ? SparkData.csv(sc, csv, t, targets, n)
                    : SparkData.fashionMnist(sc, fashionDir(), trainLimit, n);
            TrainingSpec spec = spec(t, data);
            stdout.println("spark:   " + sc.master() + ", " + n + " ranks, " + spec.describe());
            stdout.println("data:    " + dataDescription());
            stdout.flush();
            SparkTrainingResult result = new SparkTrainer(spec).fit(data);
            stdout.print(result.describe());
            finish(t, n, spec, result);
        }
        return 0;
    }

    /**
     * Scores the trained model on the driver (Fashion-MNIST's test split, for classification on it), saves it as
     * {@code backprop train} does (task, class names, what it was trained on) and prints the result line.
     */
    private void finish(Task t, int n, TrainingSpec spec, SparkTrainingResult result) throws IOException {
        boolean fashion = csv == null && t == Task.CLASSIFICATION;
        try (Backend cpu = Backends.get("cpu"); Layer model = result.loadModel(cpu)) {
            Evaluation test = null;
            if (fashion) {
                test = Evaluator.evaluate(model, t, FashionMnist.split(fashionDir(), "t10k"), EVAL_BATCH);
                stdout.printf(Locale.ROOT, "test:    loss %.4f, %s %.4f (%d Fashion-MNIST test examples, cpu on the "
                        + "driver)%n", test.loss(), t.metricName(), t.metric(test), test.examples());
            }
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("backprop.trained_on", dataDescription());
            facts.put("backprop.training", "Spark, " + n + " ranks, " + spec.describe());
            SavedModel.save(out, model, t, fashion ? FashionMnist.CLASS_NAMES : null, facts);
            stdout.println("saved:   " + out);
            List<EpochResult> epochs = result.epochs();
            RankReport r0 = result.reports().get(0);
            stdout.printf(Locale.ROOT, "result: ranks=%d steps=%d final_loss=%.6f%s allreduce_ms=%.3f model=%s%n",
                    n, r0.totalSteps(), epochs.isEmpty() ? Double.NaN : epochs.get(epochs.size() - 1).loss(),
                    test == null ? "" : String.format(Locale.ROOT, " test_%s=%.4f", t.metricName(),
                            t.metric(test)), r0.meanAllReduceMillis(), out);
        }
    }

    /** Examples per batch when scoring on the driver (not timed; large batches keep it quick). */
    private static final int EVAL_BATCH = 1000;

    private Path fashionDir() {
        return dataDir != null ? dataDir : FashionMnist.defaultDir();
    }

    private String dataDescription() {
        return csv != null ? "CSV " + csv : "Fashion-MNIST " + fashionDir()
                + (trainLimit != null ? ", first " + trainLimit + " training examples" : "");
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
            if (e.rank() == 0 && e.step() % perEpoch == 0) {
                System.out.printf(Locale.ROOT, "epoch %d/%d trained (rank 0, step %d of %d, last step's loss %.4f)%n",
                        e.epoch() + 1, epochs, e.step(), e.totalSteps(), e.loss());
                System.out.flush();
            }
        }
    }

    private TrainingSpec spec(Task t, JavaRDD<Example> data) {
        Example first = data.first();
        int inputs = first.features().length;
        int outputs = t == Task.CLASSIFICATION ? (int) data.map(Example::label).reduce(Math::max) + 1
                : first.targets().length;
        int[] sizes = layers == null ? new int[] {inputs, 256, 128, outputs} : parseSizes(layers);
        if (sizes[0] != inputs || sizes[sizes.length - 1] != outputs) {
            throw new IllegalArgumentException("--layers " + layers + ": the data has " + inputs + " features and "
                    + outputs + " output(s), so the layers must run " + inputs + "-...-" + outputs);
        }
        ModelFactory model = ModelFactory.mlp(sizes, activation(), init(), seed);
        TrainingSpec.Builder b = TrainingSpec.builder(model, optimizer.factory())
                .schedule(optimizer.schedule()).task(t).batchSize(batchSize).epochs(epochs).seed(seed)
                .clipNorm(clipNorm).sync(syncMode()).backend(backend).listen("0.0.0.0", port)
                .listener(new EpochLines(epochs))
                .transport(TransportOptions.defaults().withIoTimeout(Duration.ofSeconds(ioTimeout))
                        .withDelay(NetworkDelay.parse(netDelay)));
        if (t == Task.CLASSIFICATION) {
            b.classes(outputs);
        }
        if (threads != null) {
            b.threads(threads);
        }
        if (checkpointDir != null) {
            b.checkpoints(checkpointDir, checkpointEvery);
        }
        return b.build();
    }

    private SyncMode syncMode() {
        String s = sync.trim().toLowerCase(Locale.ROOT);
        if (s.equals("gradients")) {
            return SyncMode.gradients();
        }
        if (s.startsWith("parameters:")) {
            try {
                return SyncMode.parameters(Integer.parseInt(s.substring("parameters:".length())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--sync " + sync + ": K must be a whole number");
            }
        }
        throw new IllegalArgumentException("--sync " + sync + ": choose gradients or parameters:K");
    }

    private static int[] parseSizes(String text) {
        String[] parts = text.trim().split("[-,x ]+");
        int[] s = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                s[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--layers " + text + ": '" + parts[i] + "' is not a size");
            }
        }
        if (s.length < 2) {
            throw new IllegalArgumentException("--layers " + text + ": give at least an input and an output size");
        }
        return s;
    }

    private Activation.Kind activation() {
        return switch (activation.trim().toLowerCase(Locale.ROOT)) {
            case "relu" -> Activation.Kind.RELU;
            case "sigmoid" -> Activation.Kind.SIGMOID;
            case "tanh" -> Activation.Kind.TANH;
            default -> throw new IllegalArgumentException("--activation " + activation + ": choose relu, sigmoid or "
                    + "tanh");
        };
    }

    private Init init() {
        return switch (initializer.trim().toLowerCase(Locale.ROOT)) {
            case "pytorch" -> Init.PYTORCH_DEFAULT;
            case "xavier" -> Init.XAVIER_UNIFORM;
            case "xavier-normal" -> Init.XAVIER_NORMAL;
            case "he" -> Init.HE_UNIFORM;
            case "he-normal" -> Init.HE_NORMAL;
            default -> throw new IllegalArgumentException("--initializer " + initializer + ": choose pytorch, "
                    + "xavier, xavier-normal, he or he-normal");
        };
    }
}
