package dev.backprop.train;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceType;
import dev.backprop.data.Augmentation;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.Loss;
import dev.backprop.nn.Layer;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Mini-batch training of a model with a loss and an optimizer: the one epoch loop in Backprop, which the library,
 * {@code backprop train} and every Spark rank run. Per epoch, a seeded shuffle of the examples, then per batch one
 * {@link TrainingStep} (zero the gradients, forward and backward on one tape, the {@link StepHook}s, optional
 * gradient clipping, the optimizer step); after the epoch, an optional validation pass and the schedule's step (or
 * the plateau scheduler's, {@link Builder#plateau}, with the validation result).
 * The model trains in training mode ({@link Layer#train(boolean)}: batch statistics, dropout on) and is validated
 * in evaluation mode; each layer is back in the mode it had when {@code fit} returns.
 * Runs on whatever backend holds the model's parameters, in their dtype. Step results are read every step on a
 * backend that computes on the host and every 32 steps on a GPU ({@link Builder#syncEvery}), so the host does not
 * wait for the device inside a window; on a GPU a FLOAT32 model's training set is uploaded once and its batches
 * gathered there ({@link BatchLoader.Placement#AUTO}), unless the trainer augments them ({@link Builder#augmentation}),
 * which is done on the host.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), Adam.adam(model.parameters(), 1e-3))
 *         .batchSize(64).seed(42).build();
 * trainer.fit(train, test, 10, m -> System.out.println(m));
 * }</pre>
 */
public final class Trainer {
    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final ReduceLROnPlateau plateau;
    private final EarlyStopping.Monitor plateauMonitor;
    private final int batchSize;
    private final int evalBatchSize;
    private final long seed;
    private final boolean shuffle;
    private final int syncEvery;
    private final int stepsPerEpoch;
    private final boolean trackAccuracy;
    private final String label;
    private final Augmentation augmentation;
    private final List<StepHook> hooks;
    private final boolean replaySteps;
    private final Backend backend;
    private final DType dtype;
    private int epoch;
    private int batchesDone;
    private volatile boolean stopRequested;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.plateau = b.plateau;
        this.plateauMonitor = b.plateauMonitor;
        this.batchSize = b.batchSize;
        this.evalBatchSize = b.evalBatchSize > 0 ? b.evalBatchSize : Math.max(b.batchSize, 256);
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.stepsPerEpoch = b.stepsPerEpoch;
        this.trackAccuracy = b.trackAccuracy;
        this.label = b.label;
        this.augmentation = b.augmentation;
        List<StepHook> h = new ArrayList<>(b.hooks);
        if (b.clipNorm > 0) {
            h.add(new ClipGradNorm(optimizer.parameters().values(), b.clipNorm));
        }
        this.hooks = List.copyOf(h);
        this.replaySteps = b.replaySteps;
        Variable first = optimizer.parameters().values().iterator().next();
        this.backend = first.backend();
        this.dtype = first.dtype();
        this.syncEvery = b.syncEvery > 0 ? b.syncEvery : backend.device().type() == DeviceType.CPU ? 1 : 32;
    }

    /** A builder for training {@code model} with {@code loss} and {@code optimizer} (built on its parameters). */
    public static Builder builder(Layer model, Loss loss, Optimizer optimizer) {
        return new Builder(model, loss, optimizer);
    }

    /**
     * Trains for {@code epochs} more epochs on batches of {@code train} gathered by a loader this call makes
     * ({@link BatchLoader.Placement#AUTO}, or an augmenting host loader with this trainer's seed) and frees.
     *
     * @see #fit(BatchLoader, Dataset, int, EpochListener)
     */
    public List<EpochMetrics> fit(Dataset train, Dataset validation, int epochs, EpochListener listener) {
        return ending(listener, () -> {
            FitChecks.checkData(train, validation, epochs);
            checkPlateau(validation);
            if (nothingToRun(epochs)) {
                return List.of();
            }
            try (BatchLoader loader = augmentation.isNone()
                    ? new BatchLoader(train, backend, dtype, batchSize, BatchLoader.Placement.AUTO)
                    : new BatchLoader(train, backend, dtype, batchSize, augmentation, seed)) {
                return fitLoaded(loader, validation, epochs, listener);
            }
        });
    }

    /**
     * Trains for {@code epochs} more epochs (an epoch left half done by {@link #resumeAt} counts as one) on batches
     * from {@code train}, a loader with this trainer's batch size, backend and dtype.
     *
     * @param validation evaluated after every epoch (examples of the training set's size), or null
     * @param listener   progress callbacks, or null
     * @return the metrics of each epoch run (fewer if {@link #requestStop()} was called; none if it was called
     *         before this call)
     * @throws IllegalArgumentException when the validation examples differ in size from the training examples, the
     *                                  loader augments otherwise than this trainer (or with another seed), the
     *                                  validation set is missing while {@code fit} steps a plateau scheduler
     *                                  ({@link Builder#plateau}), or the model has fewer outputs than the data has
     *                                  classes (found on the first step, before its update)
     * @throws TrainingStoppedException when the weights or optimizer state are not finite before the first step, or
     *                                  a step's loss is NaN or infinite (read every step, the default on the cpu
     *                                  backend, that step is not applied)
     */
    public List<EpochMetrics> fit(BatchLoader train, Dataset validation, int epochs, EpochListener listener) {
        return ending(listener, () -> fitLoaded(train, validation, epochs, listener));
    }

    /**
     * Runs {@code fit}'s work, then tells {@code listener} that fit ended, on every path (a listener may hold copies
     * of the weights to free or put back).
     */
    private static List<EpochMetrics> ending(EpochListener listener, Supplier<List<EpochMetrics>> work) {
        boolean completed = false;
        try {
            List<EpochMetrics> all = work.get();
            completed = true;
            return all;
        } finally {
            if (listener != null) {
                listener.onFitEnd(completed);
            }
        }
    }

    private List<EpochMetrics> fitLoaded(BatchLoader train, Dataset validation, int epochs, EpochListener listener) {
        FitChecks.checkData(train.dataset(), validation, epochs);
        FitChecks.checkLoader(train, batchSize, dtype, augmentation, seed);
        checkPlateau(validation);
        List<EpochMetrics> all = new ArrayList<>();
        if (nothingToRun(epochs)) {
            return all;
        }
        Divergence.checkStart(optimizer, label);
        int steps = FitChecks.steps(train, stepsPerEpoch, batchesDone);
        StepWindow window = new StepWindow(loss, backend, dtype, syncEvery, batchSize, trackAccuracy);
        try (ModeSwitch training = ModeSwitch.to(model, true);
             TrainingStep step = new TrainingStep(model, loss, optimizer, hooks, replaySteps, window)) {
            for (int e = 0; e < epochs && !stopRequested; e++) {
                all.add(fitEpoch(train, steps, step, validation, listener));
            }
        } finally {
            stopRequested = false;  // a stop asked during this run ends this run only
        }
        return all;
    }

    private void checkPlateau(Dataset validation) {
        if (plateauMonitor != null && validation == null) {
            throw new IllegalArgumentException("ReduceLROnPlateau watches the validation " + plateauMonitor.name()
                    .toLowerCase(java.util.Locale.ROOT) + ": pass a validation set to fit");
        }
    }

    /** Whether fit has no epoch to run: none asked for, or a stop requested before it began (consumed here). */
    private boolean nothingToRun(int epochs) {
        boolean stop = stopRequested;
        stopRequested = false;
        return epochs == 0 || stop;
    }

    /** One epoch of {@link #fit}: training, validation, the schedule's step and the listener's call. */
    private EpochMetrics fitEpoch(BatchLoader train, int steps, TrainingStep step, Dataset validation,
                                  EpochListener listener) {
        long t0 = System.nanoTime();
        double lr = optimizer.learningRate();
        EpochLoop.Sums sums = new EpochLoop(loss, optimizer, backend, batchSize, seed, shuffle, syncEvery, label)
                .run(train, epoch + 1, batchesDone, steps, step, listener, done -> batchesDone = done);
        Evaluation val = validation == null ? null : evaluate(validation);
        epoch++;
        batchesDone = 0;
        if (schedule != null) {
            schedule.step();
        }
        if (plateauMonitor != null) {
            stepPlateau(val);
        }
        double n = sums.examples();
        double accuracy = sums.classifies() ? sums.correct() / sums.decisions() : Double.NaN;
        EpochMetrics m = new EpochMetrics(epoch, sums.loss() / n, accuracy, lr, val, sums.examples(),
                (System.nanoTime() - t0) / 1_000_000, sums.seconds());
        if (listener != null) {
            listener.onEpoch(m);
        }
        return m;
    }

    private void stepPlateau(Evaluation val) {
        double watched = plateauMonitor.of(val);
        if (plateauMonitor == EarlyStopping.Monitor.ACCURACY && Double.isNaN(watched)) {
            throw new IllegalStateException("ReduceLROnPlateau watches accuracy, but the validation accuracy is NaN "
                    + "(the loss does not classify); watch LOSS");
        }
        plateau.step(watched);
    }

    /** The model's mean loss and accuracy on {@code data}, without recording gradients ({@link Evaluator}). */
    public Evaluation evaluate(Dataset data) {
        return Evaluator.evaluate(model, loss, data, evalBatchSize);
    }

    /**
     * Asks {@link #fit} to stop after the current epoch (e.g. from a listener, for early stopping); asked between
     * runs, as by a resumed {@link EarlyStopping} that had stopped its run, it makes the next {@code fit} train no
     * epoch. Each {@code fit} clears the request when it ends, so the one after trains again.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** Epochs completed (including those restored from a checkpoint). */
    public int epoch() {
        return epoch;
    }

    /**
     * Continues, on the next {@link #fit}, after batch {@code batches} of the epoch after {@code epochs} completed
     * ones: for a caller that restored the model, optimizer and schedule itself from state saved at that point.
     *
     * @throws IllegalArgumentException for negative counts
     */
    public void resumeAt(int epochs, int batches) {
        if (epochs < 0 || batches < 0) {
            throw new IllegalArgumentException("resume position must be >= 0, got epoch " + epochs + ", batch "
                    + batches);
        }
        this.epoch = epochs;
        this.batchesDone = batches;
    }

    /** The model being trained. */
    public Layer model() {
        return model;
    }

    /** The optimizer. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The schedule, or null. */
    public LearningRateSchedule schedule() {
        return schedule;
    }

    /** The plateau scheduler ({@link Builder#plateau}), or null. */
    public ReduceLROnPlateau plateau() {
        return plateau;
    }

    /** What {@code fit} steps the plateau scheduler with, or null (none, or one a listener steps). */
    public EarlyStopping.Monitor plateauMonitor() {
        return plateauMonitor;
    }

    /** The shuffling seed. */
    public long seed() {
        return seed;
    }

    /** Examples per training batch. */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Saves a checkpoint (model, optimizer state, schedule or plateau scheduler state, epochs done, seed, batch
     * size and augmentation under {@link Augmentation#METADATA_KEY}) atomically.
     */
    public void saveCheckpoint(Path path) throws IOException {
        saveCheckpoint(path, Map.of());
    }

    /**
     * Saves a checkpoint as {@link #saveCheckpoint(Path)}, with {@code extra} metadata entries in the same write.
     *
     * @throws IllegalStateException when an epoch is half done (checkpoints are taken between epochs)
     */
    public void saveCheckpoint(Path path, Map<String, String> extra) throws IOException {
        saveCheckpoint(path, extra, Map.of());
    }

    /**
     * Saves a checkpoint as {@link #saveCheckpoint(Path, Map)}, with {@code kept} tensors named as the model's (the
     * best weights of {@link EarlyStopping#bestWeights}), which {@link Checkpoint#readKept} reads back.
     *
     * @throws IllegalStateException when an epoch is half done (checkpoints are taken between epochs)
     */
    public void saveCheckpoint(Path path, Map<String, String> extra, Map<String, Tensor> kept) throws IOException {
        TrainerCheckpoint.save(path, this, batchesDone, augmentation, extra, kept);
    }

    /**
     * Restores a checkpoint written by {@link #saveCheckpoint} for the same model, optimizer, schedule or plateau
     * scheduler (settings and monitor), seed, batch size and augmentation (none for a checkpoint that records
     * none); training then continues exactly as the interrupted run would have.
     *
     * @throws ModelFileException when the file does not fit this trainer (nothing is changed then)
     */
    public void restoreCheckpoint(Path path) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            restoreCheckpoint(f);
        }
    }

    /**
     * As {@link #restoreCheckpoint(Path)}, from a file already open (the one whose metadata the caller read or whose
     * network it built), so that a file replaced at its path meanwhile is not restored in its place.
     *
     * @throws ModelFileException when the file does not fit this trainer (nothing is changed then)
     */
    public void restoreCheckpoint(SafeTensorsFile f) throws IOException {
        epoch = TrainerCheckpoint.restore(f, this, augmentation);
        batchesDone = 0;
    }

    /** Settings for a {@link Trainer}. */
    public static final class Builder {
        private final Layer model;
        private final Loss loss;
        private final Optimizer optimizer;
        private LearningRateSchedule schedule;
        private ReduceLROnPlateau plateau;
        private EarlyStopping.Monitor plateauMonitor;
        private int batchSize = 32;
        private int evalBatchSize;
        private long seed;
        private boolean shuffle = true;
        private double clipNorm;
        private int syncEvery;
        private int stepsPerEpoch;
        private boolean trackAccuracy = true;
        private String label;
        private Augmentation augmentation = Augmentation.NONE;
        private final List<StepHook> hooks = new ArrayList<>();
        private boolean replaySteps = true;

        private Builder(Layer model, Loss loss, Optimizer optimizer) {
            this.model = java.util.Objects.requireNonNull(model, "model");
            this.loss = java.util.Objects.requireNonNull(loss, "loss");
            this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
        }

        /** Examples per training batch (default 32; the last batch of an epoch may be smaller). */
        public Builder batchSize(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("batch size must be positive, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** Examples per evaluation batch (default the larger of the batch size and 256). */
        public Builder evaluationBatchSize(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("evaluation batch size must be positive, got " + n);
            }
            this.evalBatchSize = n;
            return this;
        }

        /** The shuffling seed (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Whether to shuffle the training set every epoch (default true). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** A schedule stepped after every epoch (it must drive this trainer's optimizer). */
        public Builder schedule(LearningRateSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /**
         * A plateau scheduler (it must drive this trainer's optimizer), saved in and restored from checkpoints. With
         * a {@code monitor}, {@code fit} steps it after every epoch's validation with that value (and then needs a
         * validation set); its mode must suit the monitor: {@code MIN} for the loss, {@code MAX} for the accuracy.
         * With none, a listener that evaluates a validation set of its own steps it in {@code onEpoch}, before any
         * checkpoint it saves there (as {@link EarlyStopping#observe} is called).
         *
         * @throws IllegalArgumentException when the mode does not suit the monitor
         */
        public Builder plateau(ReduceLROnPlateau scheduler, EarlyStopping.Monitor monitor) {
            java.util.Objects.requireNonNull(scheduler, "scheduler");
            if (monitor == null) {
                this.plateau = scheduler;
                this.plateauMonitor = null;
                return this;
            }
            ReduceLROnPlateau.Mode suits = monitor.plateauMode();
            if (scheduler.mode() != suits) {
                throw new IllegalArgumentException("ReduceLROnPlateau watching the validation " + monitor
                        + " needs mode " + suits + ", got " + scheduler.mode());
            }
            this.plateau = scheduler;
            this.plateauMonitor = monitor;
            return this;
        }

        /**
         * Clips the global gradient norm to {@code maxNorm} before each step, after every other hook (0, the
         * default, turns it off).
         */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm >= 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("maxNorm must be finite and >= 0, got " + maxNorm);
            }
            this.clipNorm = maxNorm;
            return this;
        }

        /** Adds a hook that joins every step (they run in the order added, clipping last). */
        public Builder hook(StepHook hook) {
            this.hooks.add(java.util.Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /**
         * Whether a step may go to a backend that {@link Backend#replaysSteps replays steps} (default true; hooks
         * and host state in the model rule it out anyway). A replay runs none of the step's host code, the loss's
         * {@link Loss#compute} included; false computes every step afresh, for a loss that keeps something of each
         * batch on the host (a data-parallel rank's weight sums).
         */
        public Builder replaySteps(boolean replay) {
            this.replaySteps = replay;
            return this;
        }

        /**
         * Steps between the trainer's reads of their results (losses, correct counts), each of which waits for the
         * device to finish. 0, the default, chooses: every step on a backend that computes on the host (where a
         * read costs nothing), every 32 steps on a GPU or accelerator (where a wait per step leaves the device
         * idle while the host prepares the next step). With {@code n > 1} the listener's {@code onBatch} calls
         * for n steps come together after the read, with the same values, and a NaN or infinite loss is seen
         * there: training stops then, but the steps after the diverging one have been applied. With 1, a
         * diverging step is never applied.
         */
        public Builder syncEvery(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("syncEvery must be >= 0 (0 chooses), got " + steps);
            }
            this.syncEvery = steps;
            return this;
        }

        /**
         * Ends every epoch after {@code steps} batches of its shuffled order (0, the default: all of them). The
         * examples past them wait for another epoch's shuffle; data-parallel ranks with shards of different
         * sizes agree on a common count this way.
         */
        public Builder stepsPerEpoch(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("steps per epoch must be >= 0 (0: all batches), got " + steps);
            }
            this.stepsPerEpoch = steps;
            return this;
        }

        /**
         * Whether to count correct predictions during training for {@link EpochMetrics#trainAccuracy} (default
         * true). Counting reads predictions to the host; a run that reports no training accuracy turns it off.
         */
        public Builder trackAccuracy(boolean track) {
            this.trackAccuracy = track;
            return this;
        }

        /**
         * Augments every training example, drawn afresh each epoch from the seed (default {@link Augmentation#NONE});
         * the batches are then gathered on the host. Evaluation and validation are never augmented.
         */
        public Builder augmentation(Augmentation augmentation) {
            this.augmentation = java.util.Objects.requireNonNull(augmentation, "augmentation");
            return this;
        }

        /** Where this trainer runs, for messages ("rank 1"); default none. */
        public Builder label(String where) {
            this.label = where;
            return this;
        }

        /**
         * A trainer with these settings.
         *
         * @throws IllegalArgumentException when both a schedule and a plateau scheduler are given
         */
        public Trainer build() {
            if (schedule != null && plateau != null) {
                throw new IllegalArgumentException("a trainer takes a closed-form schedule (" + schedule.type()
                        + ") or ReduceLROnPlateau, not both: each sets the learning rate");
            }
            return new Trainer(this);
        }
    }
}
