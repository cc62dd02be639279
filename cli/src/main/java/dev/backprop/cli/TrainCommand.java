package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.io.IoErrors;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.onnx.ModelFormats;
import dev.backprop.runtime.Backends;
import dev.backprop.train.EarlyStopping;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code backprop train}: trains a multilayer perceptron (by default the main job: Fashion-MNIST, 784-256-128-10
 * ReLU, softmax cross-entropy, SGD lr 0.1, batch 128, 10 epochs, seed 0, the best available backend) or, with
 * {@code --arch cnn}, the convolutional network of PyTorch's reference {@code cnn_fashion.py}, on core's
 * {@link dev.backprop.train.Trainer}, prints one line per epoch and a parseable summary, and saves the model (and
 * optionally a checkpoint and a plot). With {@code --spark MASTER} the same options train data-parallel on Spark
 * ({@link SparkRun}), plus the ones in {@link SparkOptions}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "dev.backprop.cli.Train",
        description = {"Trains a network and saves it. Default: Fashion-MNIST, 784-256-128-10 ReLU, softmax "
                + "cross-entropy, SGD lr 0.1, batch 128, 10 epochs, seed 0, best available backend; --arch cnn "
                + "trains the CNN of PyTorch's reference cnn_fashion.py instead.",
                "Epoch time = shuffle + batch gather + forward + loss + backward + step, ended by a host sync "
                        + "(data loading and evaluation excluded); the summary gives the median over epochs 2..N."})
public final class TrainCommand implements Callable<Integer> {
    /** Options of training on this machine, refused with {@code --spark}. */
    static final List<String> LOCAL_ONLY = List.of("--init", "--resume", "--checkpoint", "--plot", "--no-progress",
            "--test-csv", "--test-limit", "--positive-class", "--precision", "--images", "--test-images",
            "--channels", "--resize", "--center-crop", AugmentOptions.NAME, "--validation", "--patience",
            "--min-delta", "--keep-best", "--monitor", SplitSeedOption.NAME);
    /** The values of {@code --precision}; the cuda backend's {@code precision} option. */
    static final List<String> PRECISIONS = List.of("fp32", "tf32", "bf16");

    @Spec
    CommandSpec spec;

    @Mixin
    BackendSelectionOption selection;

    @Mixin
    CpuThreadsOption threads;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "fp32",
            description = "Float32 GEMM precision: fp32 (exact), or on the cuda backend tf32 or bf16 (tensor cores, "
                    + "float32 accumulation and weights); other backends refuse tf32 and bf16 (default: "
                    + "${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = "classification",
            description = "classification (softmax cross-entropy; at least 2 classes), binary (BCE on one logit) or "
                    + "regression (mean squared error; needs --csv) (default: ${DEFAULT-VALUE}).")
    String task;

    @Mixin
    DataOptions data;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    OptimizerOptions optimizerOptions;

    @Mixin
    LossOptions lossOptions;

    @Mixin
    AugmentOptions augmentOptions;

    @Mixin
    ValidationOptions validationOptions;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "128",
            description = "Examples per step (with --spark, per rank); the last, partial batch is kept (default: "
                    + "${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10",
            description = "Epochs in total, counting those already in a --resume checkpoint (default: "
                    + "${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the initial weights, the shuffles, the dropout masks, the --validation split and "
                    + "(unless --split-seed gives another) the hold-out split of a single --csv or --images, which "
                    + "the model records for eval and predict (default: ${DEFAULT-VALUE}; with --init, the seed of "
                    + "the split the model records, if any).")
    long seed;

    @Mixin
    SplitSeedOption splitSeed;

    @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0",
            description = "Clip the gradient (with --spark, the averaged one) to this global norm before each step; "
                    + "0: off (default: ${DEFAULT-VALUE}).")
    double clipNorm;

    @Option(names = "--init", paramLabel = "FILE",
            description = "Start from the weights of a saved model. --seed defaults to the seed of the hold-out "
                    + "split it records; when that split is of the same --csv or --images, the run's split takes its "
                    + "seed and another --split-seed is refused, so the test examples are ones it never trained on "
                    + "(--seed alone changes the shuffles).")
    Path init;

    @Option(names = "--resume", paramLabel = "CHECKPOINT",
            description = "Continue a run from a checkpoint written by --checkpoint: options left out take the "
                    + "checkpoint's values; --lr (without --schedule) sets a new rate; other settings must match.")
    Path resume;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Write a checkpoint (weights, optimizer state, epoch) here after every epoch.")
    Path checkpoint;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "model.safetensors",
            description = "Where the trained model goes (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write loss and accuracy per epoch as a PNG.")
    Path plot;

    @Option(names = "--overwrite",
            description = "Replace --out, --checkpoint or --plot when the file exists (only a Backprop model or "
                    + "checkpoint, or a PNG for --plot, is ever replaced).")
    boolean overwrite;

    @Option(names = "--no-progress", description = "No progress bar (it is shown only on a terminal anyway).")
    boolean noProgress;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = {"Train data-parallel on Apache Spark at this master: local[2], local-cluster[2,1,1024], "
                    + "spark://host:7077, yarn, k8s://host:443 (yarn and k8s:// under spark-submit, whose Spark has "
                    + "their modules). One rank per partition, gradients averaged every step (= batch "
                    + "--batch-size x ranks on one machine). Takes the options above except --init, --resume, "
                    + "--checkpoint, --plot, --no-progress, --test-csv, --test-limit, --positive-class, "
                    + "--precision, --images, --test-images, --channels, --resize, --center-crop, --augment, "
                    + "--validation, --patience, --min-delta, --keep-best, --monitor, --split-seed and --schedule "
                    + "plateau, plus the --spark options below (--class-weights divides by the global batch's weight "
                    + "sum, as on one machine). Needs Spark's jars on the class path: bin/backprop adds them."})
    String spark;

    @Mixin
    SparkOptions sparkOptions;

    /** Where a resumed run's early stopping stood, or null. */
    EarlyStopping.State resumedState;
    /** Whether a resumed checkpoint's settings have been taken in (until then, options may lack theirs). */
    private boolean settled;

    @Override
    public Integer call() {
        Task t = Task.parse(task);
        if (spark != null) {
            checkSparkMaster();
        }
        checkSettings();
        lossOptions.check(t, spec);
        try {
            if (spark != null) {
                sparkOptions.check(spec.commandLine().getParseResult()::hasMatchedOption);
                if (selection.commandLineName() != null && SparkMaster.inThisJvm(spark)) {
                    // The ranks open it from this class path; an executor elsewhere may hold a backend this JVM
                    // lacks, and its rank refuses a name it does not know.
                    Backends.checkKnown(selection.commandLineName());
                }
                if (SparkMaster.onThisMachine(spark)) {
                    // The ranks count this machine's processors, as training here does.
                    threads.backendOptions();
                    SparkMaster.checkRanks(spark, sparkOptions.ranks, Integer.getInteger("spark.task.cpus", 1));
                }
                OutputFiles.check(List.of(new OutputFiles.Target("--out", out, OutputFiles.Kind.MODEL)), List.of(),
                        overwrite);
                OutputFiles.checkSparkCheckpointDir(spark, sparkOptions.checkpointDir);
                return SparkTraining.run(spec.commandLine().getErr(), spark, () -> SparkRun.run(this, t,
                        spec.commandLine().getOut()));
            }
            refuseGiven(SparkOptions.NAMES, given -> given + (given.contains(",") ? " apply" : " applies")
                    + " only with --spark MASTER");
            trainHere(t);
            return 0;
        } catch (IOException e) {
            throw new BackpropException(IoErrors.message(e), e);
        } catch (UncheckedIOException e) {
            throw new BackpropException(IoErrors.message(e.getCause()), e);
        }
    }

    private void trainHere(Task t) throws IOException {
        threads.backendOptions();  // the bound of this machine's processors, before the data loads
        augmentOptions.check(data, modelOptions, resume != null);
        if (init != null && resume != null) {
            throw new IllegalArgumentException("--init and --resume exclude each other: --resume already holds the "
                    + "weights (and the optimizer state)");
        }
        if (spec.commandLine().getParseResult().hasMatchedOption(SplitSeedOption.NAME)) {
            SplitSeedOption.checkHeldOut(data, SplitSeedOption.NAME, splitSeed.value);
        }
        if (plot != null && !plot.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--plot " + plot + ": the plot is a PNG; give a file name ending in "
                    + ".png");
        }
        // One open per resume: the settings, the network, its task and the restored state all come from the file
        // opened here, so a file written to the path while the data loads is not resumed in its place.
        try (SafeTensorsFile resumed = openResume()) {
            String resumeNote = "";
            if (resumed != null) {
                checkResumedTask(t, resumed.metadata().get(SavedModel.TASK_KEY));
                resumeNote = ResumedRun.reconcile(this, resumed.metadata());
                resumedState = validationOptions.reconcile(resumed.metadata(), resume.toString(), spec);
                settled = true;
                checkSettings();
            }
            checkFiles();
            if (init != null) {
                IoErrors.checkFile(init);  // before the data loads and the backend is chosen
            }
            train(t, resumed, resumeNote);
        }
    }

    /**
     * Refuses a checkpoint recording another task than {@code --task} before the data loads, so the task's data
     * options ({@code --targets}, {@code --positive-class}) are not judged against the wrong task first. A task the
     * file spells in no way Backprop writes is left to the checkpoint's loading, which names it.
     */
    private void checkResumedTask(Task t, String recorded) {
        for (Task held : Task.values()) {
            if (held.id().equals(recorded) && held != t) {
                throw TrainingSetup.otherTask(resume, held, t);
            }
        }
    }

    /**
     * Opens {@code --resume} (null when not given). An ONNX model, which the safetensors reader refuses by its header,
     * is named as what it is; the file is looked at again only then, so a run resumes from the one file it opened.
     */
    private SafeTensorsFile openResume() throws IOException {
        if (resume == null) {
            return null;
        }
        try {
            return SafeTensorsFile.open(resume);
        } catch (ModelFileException e) {
            if (ModelFormats.isOnnx(resume)) {
                throw new IllegalArgumentException("--resume " + resume + " is an ONNX model, not a checkpoint: it "
                        + "holds no optimizer state or progress; give it as --init to start from its weights", e);
            }
            throw e;
        }
    }

    /** Loads the data, builds the network (from {@code resumed} when not null) and trains. */
    private void train(Task t, SafeTensorsFile resumed, String resumeNote) throws IOException {
        validationOptions.checkMonitor(t);
        HoldOutSplit initSplit = InitHoldOut.settleSeed(this);
        DataOptions.Loaded all = InitHoldOut.load(this, t, initSplit);
        if (resumed != null) {
            all = ResumedRun.heldOut(this, resumed.metadata(), all);
        }
        InitHoldOut.check(this, initSplit, all);
        ValidationOptions.Held held = validationOptions.split(all, t, seed);
        DataOptions.Loaded d = held.data();
        TrainOutput o = new TrainOutput(this, spec.commandLine().getOut());
        try (Backend backend = Backends.create(selection.commandLineName(), backendOptions())) {
            if (!precision.equals("fp32") && !backend.name().equals("cuda")) {
                throw new IllegalArgumentException("--precision " + precision + " needs the cuda backend; "
                        + backend.name() + " computes float32 GEMMs in fp32 only");
            }
            o.start(backend, t, d, held.validation() == null ? 0 : held.validation().size());
            try (TrainingSetup setup = TrainingSetup.create(this, t, d, backend, resumed);
                 KeptWeights kept = KeptWeights.read(this, resumed, setup)) {
                EarlyStopping watch = held.validation() == null ? null
                        : validationOptions.policy(setup.trainer(), resumedState, kept);
                if (setup.trainer().epoch() == epochs || watch != null && watch.stopped()) {
                    // Trains no epoch either way; a watch puts its best weights back as this fit ends.
                    setup.trainer().fit(setup.data().train(), null, epochs - setup.trainer().epoch(), watch);
                    saveModel(setup, t, setup.data(), out);
                    o.nothingLeft(setup.trainer().epoch(), watch);
                    return;
                }
                TrainingHistory history;
                try {
                    history = run(setup, t, setup.data(), backend, o, resumeNote, held.validation(), watch);
                } catch (EpochLines.CheckpointFailed f) {
                    throw rescue(setup, t, setup.data(), f, o);
                }
                finish(setup, history, t, setup.data(), backend, o);
            }
        }
    }

    /**
     * Checks the files the run writes before it loads anything: see {@link OutputFiles}. The checkpoint a run
     * resumes from may be continued in place; no other file the run reads may be written.
     */
    private void checkFiles() {
        boolean continued = checkpoint != null && resume != null
                && OutputFiles.canonical(checkpoint).equals(OutputFiles.canonical(resume));
        OutputFiles.check(List.of(new OutputFiles.Target("--out", out, OutputFiles.Kind.MODEL),
                        new OutputFiles.Target("--checkpoint", checkpoint, OutputFiles.Kind.MODEL, continued),
                        new OutputFiles.Target("--plot", plot, OutputFiles.Kind.PNG)),
                List.of(new OutputFiles.Target("--resume", resume, OutputFiles.Kind.MODEL),
                        new OutputFiles.Target("--init", init, OutputFiles.Kind.MODEL)), overwrite);
    }

    /**
     * Saves the weights that a failed checkpoint write left only in memory at {@code --out} (or, when that fails
     * too, see {@link #saveInTemp}); returns the error that names the checkpoint and where the weights went.
     */
    private BackpropException rescue(TrainingSetup s, Task t, DataOptions.Loaded d, EpochLines.CheckpointFailed f,
                                     TrainOutput o) {
        String failed = "--checkpoint " + IoErrors.message(f.getCause()) + "; training stopped after epoch "
                + f.epoch() + ", and its weights ";
        try {
            saveModel(s, t, d, out);
        } catch (IOException e) {
            return saveInTemp(s, t, d, f.epoch(), failed + "could not be saved to --out either ("
                    + IoErrors.message(e) + "), so they ", o);
        }
        o.rescued(out, f.epoch(), "the checkpoint");
        return new BackpropException(failed + "were saved to " + out, f);
    }

    /**
     * Saves the weights of {@code epoch}, which {@code --out} could not take, in the temporary directory; returns the
     * error that says so, starting with {@code failed} (what failed, up to the weights' fate).
     */
    private BackpropException saveInTemp(TrainingSetup s, Task t, DataOptions.Loaded d, int epoch, String failed,
                                         TrainOutput o) {
        Path where = Path.of(System.getProperty("java.io.tmpdir"), "backprop-weights-" + ProcessHandle.current().pid()
                + "-epoch-" + epoch + ".safetensors");
        try {
            saveModel(s, t, d, where);
        } catch (IOException e) {
            return new BackpropException(failed + "could not be saved to " + where + " either (" + IoErrors.message(e)
                    + "): they are lost");
        }
        o.rescued(where, epoch, "--out");
        return new BackpropException(failed + "were saved to " + where);
    }

    /** The checks of settings that mean the same with and without {@code --spark}. */
    private void checkSettings() {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        threads.count();
        if (!PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("--precision must be fp32, tf32 or bf16, got '" + precision + "'");
        }
        if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) {
            throw new IllegalArgumentException("--clip-norm must be a finite number >= 0, got " + clipNorm);
        }
        optimizerOptions.name();
        optimizerOptions.learningRate();
        modelOptions.check();
        validationOptions.check(resume != null && !settled);
        optimizerOptions.checkPlateauSettings();
        if (optimizerOptions.onPlateau() && !validationOptions.on() && !(resume != null && !settled)) {
            throw new IllegalArgumentException("--schedule plateau needs --validation FRACTION: it lowers the rate "
                    + "when the validation value stops improving, never judging the test set");
        }
        if (!(resume != null && !settled)) {
            optimizerOptions.checkScheduleSettings(spec.commandLine().getParseResult()::hasMatchedOption);
            optimizerOptions.checkWarmup(epochs);
            if (spec.commandLine().getParseResult().hasMatchedOption("--monitor") && validationOptions.patience == null
                    && !validationOptions.keepBest && !optimizerOptions.onPlateau()) {
                throw new IllegalArgumentException("--monitor " + validationOptions.monitor + " applies only to "
                        + "--patience, --keep-best and --schedule plateau, and none is given: leave it out or give "
                        + "one");
            }
        }
    }

    /**
     * Checks {@code --spark}'s master and refuses the options of training on this machine, before the settings'
     * own checks, whose advice (such as giving {@code --validation}) a Spark run could not follow.
     */
    private void checkSparkMaster() {
        String problem = SparkMaster.problem(spark);
        if (problem != null) {
            throw new ParameterException(spec.commandLine(), "--spark " + spark + ": " + problem);
        }
        refuseGiven(LOCAL_ONLY, given -> "--spark runs do not take " + given + ": "
                + (given.contains(",") ? "they apply" : "it applies") + " to training on this machine");
        if (optimizerOptions.onPlateau()) {
            throw new ParameterException(spec.commandLine(), "--spark runs do not take --schedule plateau: it follows "
                    + "a validation value, which Spark training does not compute; choose none, step or cosine");
        }
    }

    /** A usage error, worded by {@code message}, when any of {@code names} was given (they are listed to it). */
    private void refuseGiven(List<String> names, Function<String, String> message) {
        List<String> given = names.stream().filter(n -> spec.commandLine().getParseResult().hasMatchedOption(n))
                .toList();
        if (!given.isEmpty()) {
            throw new ParameterException(spec.commandLine(), message.apply(String.join(", ", given)));
        }
    }

    /** {@code --threads} for cpu and {@code --precision} for cuda (fp32, the default, is left to the backend). */
    private BackendOptions backendOptions() {
        Map<String, String> values = new HashMap<>(threads.backendOptions());
        if (!precision.equals("fp32")) {
            values.put("precision", precision);
        }
        return BackendOptions.of(values);
    }

    private TrainingHistory run(TrainingSetup s, Task t, DataOptions.Loaded d, Backend backend, TrainOutput o,
                                String resumeNote, Dataset validation, EarlyStopping watch) {
        TrainingHistory history = new TrainingHistory(t.scoredByAccuracy() ? "test_acc" : "test_rmse",
                validation != null);
        int done = s.trainer().epoch();
        try (BatchLoader loader = AugmentOptions.loader(augmentOptions.augmentation(), d.train(), backend, batchSize,
                seed)) {
            o.beforeEpochs(s, done, loader, d.train().size(), resumeNote, history);
            EpochProgress bars = new EpochProgress(!noProgress && EpochProgress.isInteractive(), epochs, System.err);
            EpochLines.Validated v = validation == null ? null : new EpochLines.Validated(
                    validation.withFeatureShape(d.train().featureShape()), watch);
            try (EpochLines lines = new EpochLines(this, s, t, d, history, o.out(), bars, v)) {
                s.trainer().fit(loader, d.test(), epochs - done, lines);
            }
            if (v != null && v.policy() != null) {
                history.best(v.policy().state().bestEpoch(), v.policy().state().best(), validationOptions.monitor,
                        validationOptions.keepBest);
            }
        }
        return history;
    }

    private void finish(TrainingSetup s, TrainingHistory history, Task t, DataOptions.Loaded d, Backend backend,
                        TrainOutput o) throws IOException {
        o.summary(history, backend);
        TrainingHistory.Epoch last = history.epochs().get(history.epochs().size() - 1);
        try {
            saveModel(s, t, d, out);
        } catch (IOException e) {
            throw saveInTemp(s, t, d, last.epoch(), "--out " + IoErrors.message(e) + "; the weights after epoch "
                    + last.epoch() + " ", o);
        }
        o.savedModel(history, last);
        if (plot != null) {
            TrainingPlot.write(plot, history, s.description() + ", " + optimizerOptions.describe());
            o.plotted();
        }
    }

    private void saveModel(TrainingSetup s, Task t, DataOptions.Loaded d, Path file) throws IOException {
        SavedModel.save(file, s.model(), t, d.classNames(), runFacts(s, d, t));
    }

    /**
     * What the model file (and a checkpoint) says about this run, besides the task and class names: the data, the
     * training, the input's dimensions after the batch and, when the test examples were held out of the training
     * data, that split ({@value ModelSession#HOLD_OUT_KEY}: its seed, how many examples it split and their digest),
     * and a label column other than the last.
     */
    Map<String, String> runFacts(TrainingSetup s, DataOptions.Loaded d, Task t) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("backprop.trained_on", d.description());
        // What the network takes, which a CNN's layers leave open: export declares it as the ONNX input.
        SavedModel.putInputShape(m, d.test().featureShape());
        if (d.imageShape() != null) {
            SavedModel.putShape(m, ModelSession.IMAGE_SHAPE_KEY, d.imageShape());
            SavedModel.putImageTransform(m, data.imageTransform());
        }
        m.put("backprop.training", s.description() + ", " + optimizerOptions.describe() + ", batch " + batchSize
                + ", epochs " + epochs + ", seed " + seed);
        if (data.labelColumn != null) {
            m.put(SavedModel.LABEL_COLUMN_KEY, data.labelColumn().toString());  // test files read by it by default
        }
        if (d.holdOut() != null) {
            m.put(ModelSession.HOLD_OUT_KEY, d.holdOut().toJson());  // eval and predict make the same split by it
        }
        lossOptions.putMetadata(m, s.loss());
        augmentOptions.putMetadata(m);
        if (t == Task.BINARY && data.csv == null) {
            m.put(ModelSession.POSITIVE_CLASS_KEY, Integer.toString(data.positiveClass(0)));
        }
        return m;
    }
}
