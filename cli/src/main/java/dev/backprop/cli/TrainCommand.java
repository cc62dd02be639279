package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.BatchLoader;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.onnx.OnnxExport;
import dev.backprop.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code backprop train}: trains a multilayer perceptron (by default the main job: Fashion-MNIST, 784-256-128-10
 * ReLU, softmax cross-entropy, SGD lr 0.1, batch 128, 10 epochs, seed 0, the best available backend) or, with
 * {@code --arch cnn}, the convolutional network of PyTorch's reference {@code cnn_fashion.py}, on core's
 * {@link dev.backprop.train.Trainer}, prints one line per epoch and a parseable summary, and saves the model (and
 * optionally a checkpoint and a plot). With {@code --spark MASTER} the same options train data-parallel on Spark
 * ({@link SparkRun}), plus the ones in {@link SparkOptions}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a network and saves it. Default: Fashion-MNIST, 784-256-128-10 ReLU, softmax "
                + "cross-entropy, SGD lr 0.1, batch 128, 10 epochs, seed 0, best available backend; --arch cnn "
                + "trains the CNN of PyTorch's reference cnn_fashion.py instead.",
                "Epoch time = shuffle + batch gather + forward + loss + backward + step, ended by a host sync "
                        + "(data loading and evaluation excluded); the summary gives the median over epochs 2..N."})
public final class TrainCommand implements Callable<Integer> {
    /** Options of training on this machine, refused with {@code --spark}. */
    static final List<String> LOCAL_ONLY = List.of("--init", "--resume", "--checkpoint", "--plot", "--no-progress",
            "--test-csv", "--test-limit", "--positive-class");

    @Spec
    CommandSpec spec;

    @Mixin
    BackendSelectionOption selection;

    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the cpu backend (backprop.cpu.threads). Default: the backend's own; "
                    + "with --spark, spark.task.cpus per rank.")
    Integer threads;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = "classification",
            description = "classification (softmax cross-entropy), binary (BCE on one logit) or regression (mean "
                    + "squared error; needs --csv) (default: ${DEFAULT-VALUE}).")
    String task;

    @Mixin
    DataOptions data;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    OptimizerOptions optimizerOptions;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "128",
            description = "Examples per step (with --spark, per rank); the last, partial batch is kept (default: "
                    + "${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10",
            description = "Epochs in total, counting those already in a --resume checkpoint (default: "
                    + "${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the initial weights, the shuffles and a CSV hold-out split (default: "
                    + "${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0",
            description = "Clip the gradient (with --spark, the averaged one) to this global norm before each step; "
                    + "0: off (default: ${DEFAULT-VALUE}).")
    double clipNorm;

    @Option(names = "--init", paramLabel = "FILE", description = "Start from the weights of a saved model.")
    Path init;

    @Option(names = "--resume", paramLabel = "CHECKPOINT",
            description = "Continue a run from a checkpoint written by --checkpoint (give the same settings).")
    Path resume;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Write a checkpoint (weights, optimizer state, epoch) here after every epoch.")
    Path checkpoint;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "model.safetensors",
            description = "Where the trained model goes (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write loss and accuracy per epoch as a PNG.")
    Path plot;

    @Option(names = "--no-progress", description = "No progress bar (it is shown only on a terminal anyway).")
    boolean noProgress;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = {"Train data-parallel on Apache Spark at this master: local[2], local-cluster[2,1,1024], "
                    + "spark://host:7077, yarn. One rank per partition, gradients averaged every step (= batch "
                    + "--batch-size x ranks on one machine). Takes the options above except --init, --resume, "
                    + "--checkpoint, --plot, --no-progress, --test-csv, --test-limit and --positive-class, plus the "
                    + "--spark options below. Needs Spark's jars on the class path: bin/backprop adds them."})
    String spark;

    @Mixin
    SparkOptions sparkOptions;

    @Override
    public Integer call() {
        Task t = Task.parse(task);
        checkSettings();
        try {
            if (spark != null) {
                refuseGiven(LOCAL_ONLY, given -> "--spark runs do not take " + given + ": "
                        + (given.contains(",") ? "they apply" : "it applies") + " to training on this machine");
                sparkOptions.check();
                return SparkTraining.run(spec.commandLine().getErr(), () -> SparkRun.run(this, t,
                        spec.commandLine().getOut()));
            }
            refuseGiven(SparkOptions.NAMES, given -> given + (given.contains(",") ? " apply" : " applies")
                    + " only with --spark MASTER");
            trainHere(t);
            return 0;
        } catch (IOException e) {
            throw new BackpropException(e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new BackpropException(e.getCause().getMessage(), e);
        }
    }

    private void trainHere(Task t) throws IOException {
        if (init != null && resume != null) {
            throw new IllegalArgumentException("--init and --resume exclude each other: --resume already holds the "
                    + "weights (and the optimizer state)");
        }
        if (plot != null && !plot.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--plot " + plot + ": the plot is a PNG; give a file name ending in "
                    + ".png");
        }
        DataOptions.Loaded d = data.load(t, seed);
        PrintWriter o = spec.commandLine().getOut();
        try (Backend backend = Backends.create(selection.commandLineName(), backendOptions())) {
            o.println("backend: " + backend.name() + " on " + backend.device().describe());
            o.printf(Locale.ROOT, "data:    %s: %d train, %d test, %d features%s%n", d.description(), d.train().size(),
                    d.test().size(), d.train().featureSize(), t == Task.CLASSIFICATION
                            ? ", " + d.train().numClasses() + " classes" : "");
            o.flush();
            try (TrainingSetup setup = TrainingSetup.create(this, t, d, backend)) {
                TrainingHistory history = run(setup, t, setup.data(), backend, o);
                finish(setup, history, t, setup.data(), backend, o);
            }
        }
    }

    /** The checks of settings that mean the same with and without {@code --spark}. */
    private void checkSettings() {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) {
            throw new IllegalArgumentException("--clip-norm must be a finite number >= 0, got " + clipNorm);
        }
        optimizerOptions.name();
        optimizerOptions.learningRate();
        modelOptions.check();
    }

    /** A usage error, worded by {@code message}, when any of {@code names} was given (they are listed to it). */
    private void refuseGiven(List<String> names, Function<String, String> message) {
        List<String> given = names.stream().filter(n -> spec.commandLine().getParseResult().hasMatchedOption(n))
                .toList();
        if (!given.isEmpty()) {
            throw new ParameterException(spec.commandLine(), message.apply(String.join(", ", given)));
        }
    }

    private BackendOptions backendOptions() {
        return threads == null ? BackendOptions.defaults() : BackendOptions.of(Map.of("threads",
                Integer.toString(threads)));
    }

    private TrainingHistory run(TrainingSetup s, Task t, DataOptions.Loaded d, Backend backend, PrintWriter o) {
        TrainingHistory history = new TrainingHistory(t.scoredByAccuracy() ? "test_acc" : "test_rmse");
        int done = s.trainer().epoch();
        o.printf(Locale.ROOT, "model:   %s, %d parameters, loss %s, %s%n", s.description(),
                s.model().parameterCount(), t.loss().name(), resume != null ? "resumed from " + resume
                        + " after epoch " + done : init != null ? "weights from " + init
                        : "weights seed " + seed + " (" + modelOptions.init().id() + " init)");
        try (BatchLoader loader = new BatchLoader(d.train(), backend, batchSize, BatchLoader.Placement.AUTO)) {
            int steps = loader.batchesPerEpoch();
            int last = d.train().size() - (steps - 1) * batchSize;
            o.printf(Locale.ROOT, "train:   %s, batch %d (%d steps per epoch%s), epochs %d..%d, seed %d%n",
                    optimizerOptions.describe(), batchSize, steps, (last == batchSize ? "" : ", last batch " + last)
                            + (loader.resident() ? ", data on the device" : ""), done + 1, epochs, seed);
            o.println(history.header());
            o.flush();
            EpochProgress bars = new EpochProgress(!noProgress && EpochProgress.isInteractive(), epochs, System.err);
            try (EpochLines lines = new EpochLines(this, s, t, d, history, o, bars)) {
                s.trainer().fit(loader, d.test(), epochs - done, lines);
            }
        }
        return history;
    }

    private void finish(TrainingSetup s, TrainingHistory history, Task t, DataOptions.Loaded d, Backend backend,
                        PrintWriter o) throws IOException {
        o.println(history.medianLine());
        o.println(history.summaryLine(backend.name(), backend.device().name(), optimizerOptions.name()));
        SavedModel.save(out, s.model(), t, d.classNames(), runFacts(s, d, t));
        TrainingHistory.Epoch last = history.epochs().get(history.epochs().size() - 1);
        o.printf(Locale.ROOT, "saved:   %s (%s %.4f after epoch %d)%n", out, history.metricName(), last.testMetric(),
                last.epoch());
        if (checkpoint != null) {
            o.println("saved:   checkpoint " + checkpoint + " (resume with --resume " + checkpoint + ")");
        }
        if (plot != null) {
            TrainingPlot.write(plot, history, s.description() + ", " + optimizerOptions.describe());
            o.println("plot:    " + plot);
        }
        o.flush();
    }

    /**
     * What the model file (and a checkpoint) says about this run, besides the task and class names: the data, the
     * training and the input's dimensions after the batch.
     */
    Map<String, String> runFacts(TrainingSetup s, DataOptions.Loaded d, Task t) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("backprop.trained_on", d.description());
        // What the network takes, which a CNN's layers leave open: export declares it as the ONNX input.
        m.put(OnnxExport.INPUT_SHAPE_KEY, Arrays.stream(d.test().featureShape()).mapToObj(Integer::toString)
                .collect(Collectors.joining(",")));
        m.put("backprop.training", s.description() + ", " + optimizerOptions.describe() + ", batch " + batchSize
                + ", epochs " + epochs + ", seed " + seed);
        if (t == Task.BINARY && data.csv == null) {
            m.put(ModelSession.POSITIVE_CLASS_KEY, Integer.toString(data.positiveClass(0)));
        }
        return m;
    }
}
