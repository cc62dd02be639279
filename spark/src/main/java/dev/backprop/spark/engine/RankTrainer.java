package dev.backprop.spark.engine;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DeviceType;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.io.IoErrors;
import dev.backprop.loss.ForwardingLoss;
import dev.backprop.loss.Loss;
import dev.backprop.loss.Reduction;
import dev.backprop.nn.Layer;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.StepListener;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.transport.BucketedAllReduce;
import dev.backprop.spark.transport.RankTransport;
import dev.backprop.spark.transport.TransportException;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.BatchResult;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.StepHook;
import dev.backprop.train.StepPosition;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingStoppedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.logging.Logger;

/**
 * One rank of data-parallel training, independent of Spark: the model, optimizer and schedule on this rank's
 * backend, its shard, and the {@link RankTransport} to the other ranks. The steps and epochs are core's
 * {@link Trainer}; this class adds what makes them distributed, as a {@link StepHook} and an {@link EpochListener}.
 *
 * <p>Start-up: rank 0 restores the newest checkpoint when there is one, then sends its whole state (a checkpoint
 * file's bytes) to every rank, so all ranks start from the same bits. Each step, with gradient averaging: forward
 * and backward on this rank's batch (mean loss over it), then an all-reduce of the flattened gradients weighted
 * by batch size, {@code Σ_r (n_r / N) · g_r}, which is the gradient of the mean loss over the global batch; every
 * rank then judges the step by the global loss, clips (optionally) and steps its optimizer on identical gradients,
 * so the models stay identical. With parameter averaging every K steps, ranks step on their own gradients and
 * average parameters and optimizer state every K steps and at the end of every epoch; a rank whose own loss
 * diverges says so in the next average (a stop flag), where every rank stops. Rank 0 writes checkpoints.
 *
 * <p>With class weights the loss of a batch is {@code Σ w[y_i]·loss_i / Σ w[y_i]} (PyTorch's
 * {@code CrossEntropyLoss(weight=w)}), and the global batch's divides by the global sum of weights, not by each
 * rank's: each rank sends its gradient and loss times its own weight sum {@code W_r} together with {@code W_r}
 * itself in one all-reduce, and every rank divides the sums by {@code W = Σ_r W_r}, which gives
 * {@code Σ_r (W_r / W)·g_r}, the gradient of the global batch's weighted mean. Parameter averaging weights each
 * rank's parameters (and optimizer state) by the weight sum of the labels it trained on since the last average
 * (without class weights every rank counts the same, 1 / ranks, so weights of all 1 differ from none there when
 * the ranks train on different numbers of examples), which for plain SGD averaged every step is that same
 * gradient. Label smoothing is a mean over the examples and needs nothing more.
 *
 * <p>Batch norm works as in PyTorch's DistributedDataParallel by default: each rank normalizes with its own batch's
 * statistics and keeps its own running statistics; rank 0's are saved (DDP copies rank 0's buffers to the others
 * before each forward pass, which changes nothing a training step computes). Dropout draws distinct masks on every
 * rank, reproducibly ({@link DropoutStreams}).
 */
public final class RankTrainer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RankTrainer.class.getName());

    /**
     * What this rank did.
     *
     * @param resumedFromStep global step this attempt started from
     * @param stepsRun        steps this attempt ran
     * @param totalSteps      steps of the whole run
     * @param examples        examples this rank processed
     * @param computeNanos    time in forward, backward and update
     * @param epochs          epochs finished in this attempt
     * @param modelFile       the final parameters as a model file (rank 0 only, else null)
     * @param stepTimes       where the gradient-averaging steps spent their time (empty in parameter averaging)
     */
    public record Outcome(long resumedFromStep, long stepsRun, long totalSteps, long examples, long computeNanos,
                          List<EpochResult> epochs, byte[] modelFile, StepTimes stepTimes) {
    }

    private final TrainingSpec spec;
    private final int rank;
    private final int attempt;
    private final ShardPlan plan;
    private final RankTransport net;
    private final Backend backend;
    private final CheckpointStore store;
    private final Layer model;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final FlatParameters flat;
    private final Snapshots snapshots;
    private final float[] vector;
    /** Posts gradients as the backward pass completes them; null when overlapping is off. */
    private final GradientBuckets buckets;
    /** Averages each step's gradients; null with parameter averaging. */
    private final AllReduce reduce;
    private final DropoutStreams dropout;
    /** The loss with each batch's weight sum kept, when the classes are weighted; else null. */
    private final WeightSums weightSums;
    private final StepTimes times = new StepTimes();
    private Runnable beforeStep = () -> { };

    /**
     * Builds the model, optimizer and schedule on {@code backend}.
     *
     * @param store where rank 0 keeps checkpoints, or null for none (ignored on other ranks)
     */
    public RankTrainer(TrainingSpec spec, ShardPlan plan, int rank, int attempt, RankTransport net, Backend backend,
                       CheckpointStore store) {
        this.spec = spec;
        this.rank = rank;
        this.attempt = attempt;
        this.plan = plan;
        this.net = net;
        this.backend = backend;
        this.store = rank == 0 ? store : null;
        this.model = spec.model().create(backend);
        Optimizer opt = null;
        try {
            opt = spec.optimizer().create(model.parameters());
            this.optimizer = opt;
            this.schedule = spec.optimizer().schedule(optimizer, spec.epochs());
            boolean params = !spec.sync().averagesGradients();
            this.flat = new FlatParameters(model.parameters(), params ? optimizer.state() : Map.of());
            Loss loss = spec.loss();
            this.weightSums = spec.classWeights() != null ? new WeightSums(loss) : null;
            // Gradient mode sends the step's loss with the gradients: every rank sees the global batch loss.
            // Parameter averaging sends a stop flag last (averageParameters). With class weights one more element
            // before it carries the rank's weight sum.
            int extra = weightSums != null ? 1 : 0;
            this.vector = new float[flat.parameterCount() + (params ? flat.stateCount() : 0) + 1 + extra];
            int bucket = bucketElements(backend);
            this.buckets = bucket == 0 ? null : new GradientBuckets(flat, bucket);
            this.snapshots = new Snapshots(model, optimizer, schedule,
                    Snapshots.runSettings(plan, spec.seed(), spec.sync().averageEvery()), spec.lossSettings(),
                    spec.labelColumn());
            this.reduce = params ? null : new AllReduce();
            this.dropout = new DropoutStreams(model);
        } catch (RuntimeException e) {
            if (opt != null) {
                opt.close();
            }
            model.close();
            throw e;
        }
    }

    /**
     * Elements per all-reduce bucket on {@code backend}: system property {@code backprop.spark.bucketElements};
     * without it, 0 on a backend that computes on the host's cores and 1,048,576 (4 MiB of floats) on the others.
     * With buckets, gradients go out layer by layer as the backward pass completes them (the last layers' while
     * the first layer's weight gradient is still being computed), and a weight gradient larger than a bucket is
     * computed and sent in row blocks. That hides the network's latency, but the communication's own CPU work then
     * runs during the backward pass: on the cpu backend it takes cores from the computation (and each extra row
     * block costs its product one more packing of the layer input, about 0.8 ms per step for the 784-256-128-10 MLP
     * at 1,024 examples), which the 2-vCPU benchmark did not win back (spark/README.md, Scaling); a GPU leaves the
     * host cores free for it. 0 turns overlapping off: the whole gradient is all-reduced in one piece after the
     * backward pass. The result is the same bits whatever the setting.
     *
     * @throws IllegalArgumentException for a negative or one-element setting
     */
    static int bucketElements(Backend backend) {
        int fallback = backend.device().type() == DeviceType.CPU ? 0 : 1 << 20;
        int n = Integer.getInteger("backprop.spark.bucketElements", fallback);
        if (n != 0 && n < 2) {
            throw new IllegalArgumentException("backprop.spark.bucketElements must be 0 or at least 2, got " + n);
        }
        return n;
    }

    /**
     * Runs {@code check} before every step; it may throw to stop training (Spark's task kill check, so that a
     * rank of a superseded stage attempt stops at the next step).
     */
    public void beforeEachStep(Runnable check) {
        this.beforeStep = check;
    }

    /** Number of trainable scalars. */
    public int parameterCount() {
        return flat.parameterCount();
    }

    /**
     * Trains on {@code shard} (this rank's partition) until the run's last step.
     *
     * @throws TrainingStoppedException when the loss becomes NaN or infinite: on every rank at the same step in
     *                                   gradient averaging; in parameter averaging on the ranks whose own loss did,
     *                                   which tell the others so in the parameter average that follows
     * @throws PeerStoppedException      in parameter averaging, on the ranks that learned in a parameter average
     *                                   that training stopped on another rank
     * @throws dev.backprop.spark.transport.TransportException when a peer is lost or stalls
     */
    public Outcome train(Dataset shard) {
        if (shard.size() != plan.shardSize(rank)) {
            throw new IllegalArgumentException("rank " + rank + " holds " + shard.size() + " examples but the plan "
                    + "says " + plan.shardSize(rank));
        }
        long start = synchronizeStart();
        dropout.keyForRank(rank);
        dropout.afterStep(start);
        int s = plan.stepsPerEpoch();
        Trainer.Builder b = Trainer.builder(model, weightSums != null ? weightSums : spec.loss(), optimizer)
                .schedule(schedule).batchSize(plan.batchSize()).seed(ShardPlan.rankSeed(spec.seed(), rank))
                .stepsPerEpoch(s)
                .syncEvery(1).clipGradNorm(spec.clipNorm()).label("rank " + rank);
        if (reduce != null) {
            b.hook(reduce);
        }
        // A replayed step skips the loss's host code, where the weight sums read each batch's denominator.
        b.replaySteps(weightSums == null);
        Trainer trainer = b.build();
        trainer.resumeAt((int) (start / s), (int) (start % s));
        Progress progress = new Progress();
        beforeStep.run();
        try (BatchLoader loader = new BatchLoader(shard, backend, plan.batchSize())) {
            progress.startStep();
            try {
                trainer.fit(loader, null, spec.epochs() - (int) (start / s), progress);
            } catch (TrainingStoppedException e) {
                if (reduce == null) {
                    announceStop(e);
                }
                throw e;
            }
        }
        byte[] file = rank == 0 ? snapshots.modelFile() : null;
        return new Outcome(start, totalSteps() - start, totalSteps(), progress.examples, progress.computeNanos,
                progress.epochs, file, times);
    }

    private long totalSteps() {
        return (long) spec.epochs() * plan.stepsPerEpoch();
    }

    /** Rank 0 restores the newest checkpoint, if any, and sends its state to all: returns the start step. */
    private long synchronizeStart() {
        byte[] state = null;
        if (rank == 0) {
            long step = 0;
            if (store != null) {
                Optional<CheckpointStore.Stored> latest = latestCheckpoint();
                if (latest.isPresent()) {
                    step = snapshots.restore(latest.get().bytes(), latest.get().location());
                    LOG.info("rank 0 resumes from " + latest.get().location() + " after step " + step);
                }
            }
            state = snapshots.checkpoint(step);
        }
        byte[] received = net.broadcast(state, 0);
        // Rank 0 too reads the bytes back: it checks the round trip and gives every rank the same start step.
        return snapshots.restore(received, "rank 0's start state");
    }

    private Optional<CheckpointStore.Stored> latestCheckpoint() {
        try {
            return store.latest();
        } catch (IOException e) {
            throw new UncheckedIOException("rank 0 cannot read checkpoints in " + store.describe() + ": "
                    + IoErrors.message(e), e);
        }
    }

    /**
     * Gradient averaging as a step hook: the all-reduce starts before the backward pass (with buckets, the
     * gradients go out as the pass completes them), and after it every rank holds the global batch's gradient and
     * loss, by which the step is judged.
     */
    private final class AllReduce implements StepHook {
        private BucketedAllReduce reduce;
        private float localLoss;
        private double globalLoss;
        private long backwardDone;
        private long reduced;

        @Override
        public GradientListener beforeBackward(StepPosition step, Variable loss) {
            localLoss = (float) loss.value().item();
            // Unweighted: the mean loss's gradient times n_r / N. Weighted: times W_r, and 1 in the weight slot, so
            // that the slot sums to W, by which afterBackward divides.
            reduce = net.startAllReduce(vector, weightSums != null ? weightSums.last
                    : (double) step.rows() / plan.globalCount(step.batch() - 1));
            float[] tail = weightSums != null ? new float[] {localLoss, 1} : new float[] {localLoss};
            if (buckets == null) {
                System.arraycopy(tail, 0, reduce.data(), flat.parameterCount(), tail.length);
                return null;
            }
            buckets.begin(reduce, tail);
            return buckets;
        }

        @Override
        public OptionalDouble afterBackward(StepPosition step) {
            if (buckets != null) {
                buckets.finishStep();
            } else {
                flat.gradientsTo(reduce.data());
                reduce.post(0, reduce.data().length);
            }
            backwardDone = System.nanoTime();
            reduce.finish();
            long finished = System.nanoTime();
            if (weightSums != null) {
                divide(flat.parameterCount() + 1);
            }
            globalLoss = vector[flat.parameterCount()];
            flat.gradientsFrom(vector);
            reduced = System.nanoTime();
            times.add(StepTimes.Phase.ALL_REDUCE_WAIT, finished - backwardDone);
            times.add(StepTimes.Phase.GRADIENT_COPY, reduced - finished);
            return OptionalDouble.of(globalLoss);
        }
    }

    /**
     * What follows each step and epoch: parameter averaging when due, the epoch totals over all ranks, the
     * per-step listener, rank 0's checkpoints, the kill check and the timings.
     */
    private final class Progress implements EpochListener {
        private final List<EpochResult> epochs = new ArrayList<>();
        private final EpochTotals totals = new EpochTotals();
        private long examples;
        private long computeNanos;
        private long stepStart;
        private double lastLoss;

        void startStep() {
            stepStart = System.nanoTime();
            if (reduce != null) {
                times.startStep();
            }
        }

        @Override
        public void onBatch(BatchResult b) {
            long now = System.nanoTime();
            int rows = b.position().rows();
            if (reduce != null) {
                times.add(StepTimes.Phase.FORWARD_BACKWARD, reduce.backwardDone - stepStart);
                times.add(StepTimes.Phase.UPDATE, now - reduce.reduced);
                times.endStep();
                computeNanos += (reduce.backwardDone - stepStart) + (now - reduce.reduced);
                lastLoss = reduce.globalLoss;
            } else {
                computeNanos += now - stepStart;
                lastLoss = b.loss();
                if (weightSums != null) {
                    weightSums.sinceAverage += weightSums.last;
                }
            }
            // The epoch's loss weights each batch's loss by its rows, as local training's does, and the batch is
            // the global one in both sync modes. With class weights its loss is not the rows-weighted mean of the
            // ranks' own losses: under gradient averaging each rank adds the global loss times its rows; under
            // parameter averaging, which has no all-reduce per step, the epoch's end sums each step's W_r·L_r and
            // W_r over the ranks (EpochTotals). Without them both sums are equal, and the ranks' own losses skip
            // the all-reduce's float rounding.
            double loss = reduce != null && weightSums != null ? reduce.globalLoss : b.loss();
            totals.add(loss * rows, b.correct().orElse(0), b.decisions(), rows);
            if (reduce == null && weightSums != null) {
                totals.addWeighted(b.position().batch() - 1, weightSums.last, b.loss(), rows);
            }
            examples += rows;
            long done = b.position().globalStep();
            dropout.afterStep(done);
            boolean epochEnd = b.position().batch() == b.position().batches();
            if (reduce == null && (done % spec.sync().averageEvery() == 0 || epochEnd)) {
                averageParameters(done);
            }
            if (!epochEnd) {
                notifyListener(done, b.position().epoch() - 1);
                maybeCheckpoint(done, false);
            }
            beforeStep.run();
            startStep();
        }

        @Override
        public void onEpoch(EpochMetrics m) {
            epochs.add(totals.finish(m.epoch()));
            long done = (long) m.epoch() * plan.stepsPerEpoch();
            notifyListener(done, m.epoch() - 1);
            maybeCheckpoint(done, true);
            startStep();
        }

        private void notifyListener(long done, int epoch) {
            StepListener l = spec.listener();
            if (l != null) {
                l.onStep(new StepListener.StepEvent(rank, net.size(), attempt, done, totalSteps(), epoch, lastLoss));
            }
        }

        private void maybeCheckpoint(long done, boolean epochEnd) {
            if (store == null) {
                return;
            }
            boolean due = spec.checkpointEvery() == 0 ? epochEnd : done % spec.checkpointEvery() == 0;
            if (due || done == totalSteps()) {
                try {
                    store.save(done, snapshots.checkpoint(done));
                } catch (IOException e) {
                    throw new UncheckedIOException("rank 0 cannot write a checkpoint to " + store.describe() + ": "
                            + IoErrors.message(e), e);
                }
            }
        }
    }

    /** Sums over an epoch's steps on this rank, all-reduced at the epoch's end. */
    private final class EpochTotals {
        private double lossSum;
        private double correct;
        private double count;
        private double decisions;
        /**
         * Parameter averaging with class weights: for each step of the epoch, this rank's {@code W_r·L_r}, its
         * weight sum {@code W_r} and its rows, in three runs of {@link ShardPlan#stepsPerEpoch} (else null). Summed
         * over the ranks, step {@code s}'s global batch loss is {@code Σ W_r·L_r / Σ W_r}, as under gradient
         * averaging; a step this attempt did not run (it resumed after it) has no rows.
         */
        private final float[] steps = reduce == null && weightSums != null ? new float[3 * plan.stepsPerEpoch()]
                : null;
        private long startNanos = System.nanoTime();

        void add(double loss, double right, long decided, int n) {
            lossSum += loss;
            correct += right;
            decisions += decided;
            count += n;
        }

        /** Step {@code step}'s (0-based in the epoch) weight sum, loss and rows on this rank. */
        void addWeighted(int step, double weightSum, double loss, int rows) {
            int s = plan.stepsPerEpoch();
            steps[step] = (float) (weightSum * loss);
            steps[s + step] = (float) weightSum;
            steps[2 * s + step] = rows;
        }

        EpochResult finish(int epoch) {
            int k = steps == null ? 0 : steps.length;
            float[] m = new float[4 + k];
            m[0] = (float) lossSum;
            m[1] = (float) correct;
            m[2] = (float) count;
            m[3] = (float) decisions;
            if (steps != null) {
                System.arraycopy(steps, 0, m, 4, k);
                Arrays.fill(steps, 0);
            }
            net.allReduce(m, 1.0);
            lossSum = 0;
            correct = 0;
            count = 0;
            decisions = 0;
            double loss = steps == null ? m[0] : globalBatchLosses(m, 4);
            boolean classifies = spec.task().scoredByAccuracy();
            long millis = (System.nanoTime() - startNanos) / 1_000_000;
            startNanos = System.nanoTime();
            return new EpochResult(epoch, loss / m[2], classifies ? m[1] / m[3] : Double.NaN, Math.round(m[2]),
                    millis);
        }

        /**
         * {@code Σ_s N_s · (Σ_r W_r·L_r / Σ_r W_r)} over the steps that ran, from the all-reduced runs of
         * {@link #steps} at {@code m[from]}: the global batches' weighted losses, each weighted by its rows.
         */
        private double globalBatchLosses(float[] m, int from) {
            int s = plan.stepsPerEpoch();
            double sum = 0;
            for (int i = 0; i < s; i++) {
                float rows = m[from + 2 * s + i];
                if (rows > 0) {
                    sum += rows * ((double) m[from + i] / m[from + s + i]);
                }
            }
            return sum;
        }
    }

    /**
     * Checks on the driver, before any rank starts, that the newest checkpoint in {@code store} (if any) was written
     * by a run with {@code spec}'s settings over {@code plan}'s shards and with its loss settings, as a resuming rank
     * 0 checks it: a mismatch found there would fail every attempt of the training stage.
     *
     * @throws IllegalArgumentException naming the checkpoint and the setting that differs, in one line
     * @throws IOException              when the store cannot be read
     */
    public static void checkResumable(TrainingSpec spec, ShardPlan plan, CheckpointStore store) throws IOException {
        Optional<CheckpointStore.Stored> latest = store.latest();
        if (latest.isPresent()) {
            String problem = Snapshots.problem(latest.get().bytes(),
                    Snapshots.runSettings(plan, spec.seed(), spec.sync().averageEvery()), spec.lossSettings(),
                    spec.labelColumn());
            if (problem != null) {
                throw new IllegalArgumentException(DataFormatException.oneLine("cannot resume from "
                        + latest.get().location() + ": " + problem));
            }
        }
    }

    /**
     * Where the newest checkpoint in {@code store} is when it records {@code column} as its label column
     * ({@link dev.backprop.model.SavedModel#LABEL_COLUMN_KEY}), so that the driver refuses a CSV without a header
     * line before reading it; else null (no checkpoint, another column, or one {@link #checkResumable} refuses).
     *
     * @throws IOException when the store cannot be read
     */
    public static String checkpointRecording(CheckpointStore store, String column) throws IOException {
        Optional<CheckpointStore.Stored> latest = store.latest();
        return latest.isPresent() && column.equals(Snapshots.labelColumn(latest.get().bytes()))
                ? latest.get().location() : null;
    }

    /**
     * Averages parameters and optimizer state after step {@code done}. The last element is a stop flag: 0 from a
     * rank that trains on, 1 from one whose training stopped ({@link #announceStop}), so that its peers, which
     * would otherwise wait for it in the next collective until the transport's timeout, stop here too.
     *
     * @throws PeerStoppedException when a rank's training stopped since the last average
     */
    private void averageParameters(long done) {
        flat.valuesTo(vector);
        int flag = vector.length - 1;
        vector[flag] = 0;
        double weight = 1.0 / net.size();
        if (weightSums != null) {
            vector[flag - 1] = 1;
            weight = weightSums.sinceAverage;
            weightSums.sinceAverage = 0;
        }
        net.allReduce(vector, weight);
        if (vector[flag] != 0) {
            throw new PeerStoppedException(rank, Math.round(vector[flag]), done);
        }
        if (weightSums != null) {
            divide(flag - 1);
        }
        flat.valuesFrom(vector);
    }

    /**
     * Takes part in the parameter average the other ranks come to next (every K steps and at every epoch's end,
     * there is always one before their next collective) with only the stop flag set, weight 1, so that they stop
     * there; a failure to reach them is added to {@code stopped}.
     */
    private void announceStop(TrainingStoppedException stopped) {
        Arrays.fill(vector, 0);
        vector[vector.length - 1] = 1;
        try {
            net.allReduce(vector, 1.0);
        } catch (TransportException e) {
            stopped.addSuppressed(e);
        }
    }

    /** Divides {@code vector[0, n)} by {@code vector[n]}, the all-reduced sum of the ranks' weight sums. */
    private void divide(int n) {
        double w = vector[n];
        for (int i = 0; i < n; i++) {
            vector[i] = (float) (vector[i] / w);
        }
    }

    /**
     * The rank's loss, keeping each batch's mean denominator {@code Σ w[y_i]} (read to the host): the weight of
     * this rank's share in the all-reduce.
     */
    private static final class WeightSums extends ForwardingLoss {
        /** The last batch's weight sum. */
        private double last;
        /** The weight sums of the batches since the last parameter average (parameter averaging only). */
        private double sinceAverage;

        WeightSums(Loss loss) {
            super(loss);
            if (loss.reduction() != Reduction.MEAN) {
                throw new IllegalArgumentException("a rank's weighted loss must be a mean, got " + loss);
            }
        }

        @Override
        public Variable compute(Variable prediction, Tensor target) {
            Variable v = super.compute(prediction, target);
            last = meanDenominator(target);
            return v;
        }
    }

    /** Frees the model and the optimizer state. */
    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
