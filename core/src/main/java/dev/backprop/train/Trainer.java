package dev.backprop.train;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceType;
import dev.backprop.data.Dataset;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFileException;
import dev.backprop.loss.Loss;
import dev.backprop.loss.Reduction;
import dev.backprop.model.BatchLoader;
import dev.backprop.nn.Layer;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Mini-batch training of a model with a loss and an optimizer: per epoch, a seeded shuffle of the examples, then
 * per batch zero the gradients, forward and backward on one {@link Tape} (freed after the step, so memory stays
 * flat), optional gradient clipping, and an optimizer step; after the epoch, an optional validation pass and the
 * schedule's step. Runs on whatever backend holds the model's parameters, in their dtype. On a GPU, step results
 * are read every 32 steps rather than after each one ({@link Builder#syncEvery}), so the host does not wait for
 * the device inside a window, and a FLOAT32 model's training set is uploaded once and its batches gathered there
 * ({@link BatchLoader.Placement#AUTO}).
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
    private final int batchSize;
    private final int evalBatchSize;
    private final long seed;
    private final boolean shuffle;
    private final double clipNorm;
    private final int syncEvery;
    private final Backend backend;
    private final DType dtype;
    private int epoch;
    private volatile boolean stopRequested;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.batchSize = b.batchSize;
        this.evalBatchSize = b.evalBatchSize > 0 ? b.evalBatchSize : Math.max(b.batchSize, 256);
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.clipNorm = b.clipNorm;
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
     * Trains for {@code epochs} more epochs.
     *
     * @param validation evaluated after every epoch, or null
     * @param listener   progress callbacks, or null
     * @return the metrics of each epoch run (fewer if {@link #requestStop()} was called)
     * @throws BackpropException when the loss becomes NaN or infinite (with {@link Builder#syncEvery} 1, the default on
     *                           the cpu backend, the diverging step is not applied)
     */
    public List<EpochMetrics> fit(Dataset train, Dataset validation, int epochs, EpochListener listener) {
        if (epochs < 0) {
            throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        }
        if (train.size() == 0) {
            throw new IllegalArgumentException("the training set is empty");
        }
        stopRequested = false;
        List<EpochMetrics> all = new ArrayList<>();
        // FLOAT32 batches are gathered into two tensors allocated once per call (no per-step allocation), on a GPU
        // from a copy of the training set uploaded once (BatchLoader.Placement.AUTO); a FLOAT64 model gets fresh
        // converted batches (BatchLoader holds FLOAT32 only).
        try (BatchLoader loader = dtype == DType.FLOAT32 && epochs > 0
                ? new BatchLoader(train, backend, batchSize, BatchLoader.Placement.AUTO) : null) {
            for (int e = 0; e < epochs && !stopRequested; e++) {
                all.add(fitEpoch(train, validation, listener, loader));
            }
        }
        return all;
    }

    /** One epoch of {@link #fit}: training, validation, the schedule's step and the listener's call. */
    private EpochMetrics fitEpoch(Dataset train, Dataset validation, EpochListener listener, BatchLoader loader) {
        long t0 = System.nanoTime();
        double lr = optimizer.learningRate();
        double[] sums = runEpoch(train, listener, loader);
        Evaluation val = validation == null ? null : evaluate(validation);
        epoch++;
        if (schedule != null) {
            schedule.step();
        }
        long n = train.size();
        EpochMetrics m = new EpochMetrics(epoch, sums[0] / n, sums[2] > 0 ? sums[1] / n : Double.NaN, lr, val, n,
                (System.nanoTime() - t0) / 1_000_000);
        if (listener != null) {
            listener.onEpoch(m);
        }
        return m;
    }

    /**
     * Returns {loss sum weighted as for the epoch mean, correct count, 1 if the loss classifies}. Each step's loss
     * (and the predictions it is scored on) stays on the device in a {@link StepWindow} until {@link #syncEvery}
     * steps are recorded; the window is read before the last of them is applied (so with {@code syncEvery == 1} a
     * diverging step never is), and the listener hears of them after it.
     */
    private double[] runEpoch(Dataset train, EpochListener listener, BatchLoader loader) {
        int[] order = Batches.order(train.size(), seed, epoch, shuffle);
        int batches = (train.size() + batchSize - 1) / batchSize;
        double lossSum = 0, correct = 0, classifies = 0;
        try (StepWindow window = new StepWindow(loss, backend, dtype, syncEvery, batchSize)) {
            for (int b = 0; b < batches; b++) {
                int from = b * batchSize, to = Math.min(train.size(), from + batchSize);
                forwardBackward(train, order, from, to, b + 1, loader, window);
                List<StepWindow.Step> done = window.full() || b + 1 == batches ? window.read() : List.of();
                for (StepWindow.Step st : done) {
                    checkFinite(st, b + 1);
                }
                if (clipNorm > 0) {
                    GradientClipping.clipByGlobalNorm(optimizer.parameters().values(), clipNorm);
                }
                optimizer.step();
                for (StepWindow.Step st : done) {
                    lossSum += st.loss() * weight(st.rows());
                    correct += st.correct().orElse(0);
                    classifies = st.correct().isPresent() ? 1 : 0;
                    if (listener != null) {
                        listener.onBatch(epoch + 1, st.batch(), batches, st.loss());
                    }
                }
            }
        }
        return new double[] {lossSum, correct, classifies};
    }

    private void checkFinite(StepWindow.Step st, int current) {
        if (!Double.isFinite(st.loss())) {
            throw new BackpropException("training diverged: the " + loss.name() + " loss is " + st.loss()
                    + " in epoch " + (epoch + 1) + ", batch " + st.batch() + (st.batch() == current ? ""
                    : " (seen at batch " + current + ": results are read every " + syncEvery + " steps, so the "
                    + "parameters hold the steps in between)") + "; lower the learning rate or check the data");
        }
    }

    /** Zeroes the gradients, then forward and backward on one tape; the results go to {@code window}. */
    @SuppressWarnings("try") // the tape frees the step's memory when closed; it needs no reference
    private void forwardBackward(Dataset data, int[] order, int from, int to, int batchNumber, BatchLoader loader,
                                 StepWindow window) {
        optimizer.zeroGrad();
        try (Tape tape = Tape.open()) {
            Tensor[] xy = batch(data, order, from, to, loader);
            Variable out = model.forward(Variable.constant(xy[0]));
            Variable l = loss.compute(out, xy[1]);
            l.backward();
            window.record(tape, batchNumber, l.value(), out.value(), xy[1], to - from);
        }
    }

    /** The batch's features and targets on the backend (from the loader for FLOAT32 models). */
    private Tensor[] batch(Dataset data, int[] order, int from, int to, BatchLoader loader) {
        if (loader != null) {
            BatchLoader.Batch batch = loader.load(order, from, to);
            return new Tensor[] {batch.features().reshape(Batches.batchShape(data, to - from)), batch.targets()};
        }
        return new Tensor[] {Batches.features(data, order, from, to, backend, dtype),
                Batches.targets(data, order, from, to, backend, dtype)};
    }

    /** How a batch's loss value is weighted in the per-example mean: by its size under a mean reduction. */
    private double weight(int batch) {
        return loss.reduction() == Reduction.MEAN ? batch : 1;
    }

    /** The model's mean loss and accuracy on {@code data}, without recording gradients. */
    @SuppressWarnings("try")
    public Evaluation evaluate(Dataset data) {
        if (data.size() == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty data set");
        }
        int[] order = Batches.order(data.size(), seed, 0, false);
        double lossSum = 0;
        long correct = 0;
        boolean classifies = false;
        try (NoGrad off = NoGrad.open()) {
            for (int from = 0; from < data.size(); from += evalBatchSize) {
                int to = Math.min(data.size(), from + evalBatchSize);
                try (Scope scope = Scope.open()) {
                    Tensor x = Batches.features(data, order, from, to, backend, dtype);
                    Tensor y = Batches.targets(data, order, from, to, backend, dtype);
                    Variable out = model.forward(Variable.constant(x));
                    lossSum += loss.compute(out, y).value().item() * weight(to - from);
                    OptionalLong c = loss.countCorrect(out.value(), y);
                    classifies = c.isPresent();
                    correct += c.orElse(0);
                }
            }
        }
        return new Evaluation(lossSum / data.size(), classifies ? (double) correct / data.size() : Double.NaN,
                data.size());
    }

    /** Asks {@link #fit} to stop after the current epoch (e.g. from a listener, for early stopping). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Epochs completed (including those restored from a checkpoint). */
    public int epoch() {
        return epoch;
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

    /** The shuffling seed. */
    public long seed() {
        return seed;
    }

    /** Examples per training batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Saves a checkpoint (model, optimizer state, schedule, epochs done, seed, batch size) atomically. */
    public void saveCheckpoint(Path path) throws IOException {
        Checkpoint.save(path, model, optimizer, schedule, Map.of("epoch", (long) epoch, "seed", seed,
                "batch_size", (long) batchSize));
    }

    /**
     * Restores a checkpoint written by {@link #saveCheckpoint} for the same model, optimizer, schedule, seed and
     * batch size; training then continues exactly as the interrupted run would have.
     *
     * @throws ModelFileException when the file does not fit this trainer (nothing is changed then)
     */
    public void restoreCheckpoint(Path path) throws IOException {
        Map<String, Long> p = Checkpoint.restore(path, model, optimizer, schedule, progress -> {
            Long s = progress.get("seed"), bs = progress.get("batch_size"), e = progress.get("epoch");
            if (s == null || bs == null || e == null || e < 0 || e > Integer.MAX_VALUE) {
                return "progress counters epoch, seed and batch_size are missing or invalid: " + progress;
            }
            if (s != seed || bs != batchSize) {
                return "the checkpoint was trained with seed " + s + " and batch size " + bs + ", this trainer uses "
                        + seed + " and " + batchSize + "; resume with the same settings";
            }
            return null;
        });
        epoch = Math.toIntExact(p.get("epoch"));
    }

    /** Settings for a {@link Trainer}. */
    public static final class Builder {
        private final Layer model;
        private final Loss loss;
        private final Optimizer optimizer;
        private LearningRateSchedule schedule;
        private int batchSize = 32;
        private int evalBatchSize;
        private long seed;
        private boolean shuffle = true;
        private double clipNorm;
        private int syncEvery;

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

        /** Clips the global gradient norm to {@code maxNorm} before each step (0, the default, turns it off). */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm >= 0) || !Double.isFinite(maxNorm)) {
                throw new IllegalArgumentException("maxNorm must be finite and >= 0, got " + maxNorm);
            }
            this.clipNorm = maxNorm;
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

        /** A trainer with these settings. */
        public Trainer build() {
            return new Trainer(this);
        }
    }
}
