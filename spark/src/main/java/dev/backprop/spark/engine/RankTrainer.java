package dev.backprop.spark.engine;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Loss;
import dev.backprop.data.BatchLoader;
import dev.backprop.nn.Layer;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.StepListener;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.transport.BucketedAllReduce;
import dev.backprop.spark.transport.RankTransport;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.logging.Logger;

/**
 * One rank's training loop, independent of Spark: the model, optimizer and schedule on this rank's backend, its
 * shard, and the {@link RankTransport} to the other ranks.
 *
 * <p>Start-up: rank 0 restores the newest checkpoint when there is one, then sends its whole state (a checkpoint
 * file's bytes) to every rank, so all ranks start from the same bits. Each step, with gradient averaging: forward
 * and backward on this rank's batch (mean loss over it), then an all-reduce of the flattened gradients weighted
 * by batch size, {@code Σ_r (n_r / N) · g_r}, which is the gradient of the mean loss over the global batch; every
 * rank then clips (optionally) and steps its optimizer on identical gradients, so the models stay identical.
 * With parameter averaging every K steps, ranks step on their own gradients and average parameters and optimizer
 * state every K steps and at the end of every epoch. Rank 0 writes checkpoints.
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
    private final Loss loss;
    private final FlatParameters flat;
    private final Snapshots snapshots;
    private final float[] vector;
    /** Posts gradients as the backward pass completes them; null when overlapping is off. */
    private final GradientBuckets buckets;
    private long computeNanos;
    private long examples;
    private final StepTimes times = new StepTimes();
    private Runnable beforeStep = () -> { };

    /**
     * Builds the model and optimizer on {@code backend}.
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
            this.schedule = spec.schedule() == null ? null : spec.schedule().create(optimizer, spec.epochs());
            this.loss = spec.task().loss();
            boolean params = !spec.sync().averagesGradients();
            this.flat = new FlatParameters(model.parameters(), params ? optimizer.state() : Map.of());
            // Gradient mode sends the step's loss with the gradients: every rank sees the global batch loss.
            this.vector = new float[params ? flat.parameterCount() + flat.stateCount() : flat.parameterCount() + 1];
            int bucket = bucketElements(backend);
            this.buckets = bucket == 0 ? null : new GradientBuckets(flat, bucket);
            this.snapshots = new Snapshots(model, optimizer, schedule,
                    Snapshots.runSettings(plan, spec.seed(), spec.sync().averageEvery()));
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
     * without it, 0 on the cpu backend and 1,048,576 (4 MiB of floats) on the others. With buckets, gradients go
     * out layer by layer as the backward pass completes them (the last layers' while the first layer's weight
     * gradient is still being computed), and a weight gradient larger than a bucket is computed and sent in row
     * blocks. That hides the network's latency, but the communication's own CPU work then runs during the backward
     * pass: on the cpu backend it takes cores from the computation (and each extra row block costs its product one
     * more packing of the layer input, about 0.8 ms per step for the 784-256-128-10 MLP at 1,024 examples), which
     * the 2-vCPU benchmark did not win back (spark/README.md, Scaling); a GPU backend leaves the host cores free for
     * it. 0 turns overlapping off: the whole gradient is all-reduced in one piece after the backward pass. The
     * result is the same bits whatever the setting.
     *
     * @throws IllegalArgumentException for a negative or one-element setting
     */
    static int bucketElements(Backend backend) {
        int fallback = "cpu".equals(backend.name()) ? 0 : 1 << 20;
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
     * @throws BackpropException            when the loss becomes NaN or infinite (on every rank at the same step)
     * @throws dev.backprop.spark.transport.TransportException when a peer is lost or stalls
     */
    public Outcome train(Dataset shard) {
        if (shard.size() != plan.shardSize(rank)) {
            throw new IllegalArgumentException("rank " + rank + " holds " + shard.size() + " examples but the plan "
                    + "says " + plan.shardSize(rank));
        }
        long start = synchronizeStart();
        try (BatchLoader loader = new BatchLoader(shard, backend, plan.batchSize())) {
            return run(loader, start);
        }
    }

    private Outcome run(BatchLoader loader, long start) {
        int s = plan.stepsPerEpoch();
        long total = (long) spec.epochs() * s;
        List<EpochResult> epochs = new ArrayList<>();
        EpochTotals totals = new EpochTotals();
        int[] order = null;
        long epochStart = System.nanoTime();
        for (long g = start; g < total; g++) {
            beforeStep.run();
            int epoch = (int) (g / s);
            int step = (int) (g % s);
            if (order == null || step == 0) {
                order = plan.order(spec.seed(), rank, epoch);
            }
            double stepLoss = spec.sync().averagesGradients() ? averagedGradientStep(loader, order, step, totals)
                    : localStep(loader, order, step, totals);
            boolean epochEnd = step == s - 1;
            if (!spec.sync().averagesGradients() && ((g + 1) % spec.sync().averageEvery() == 0 || epochEnd)) {
                averageParameters();
            }
            if (epochEnd) {
                epochs.add(totals.finish(epoch + 1, epochStart));
                epochStart = System.nanoTime();
                if (schedule != null) {
                    schedule.step();
                }
            }
            notifyListener(g + 1, total, epoch, stepLoss);
            maybeCheckpoint(g + 1, epochEnd, total);
        }
        byte[] file = rank == 0 ? snapshots.modelFile() : null;
        return new Outcome(start, total - start, total, examples, computeNanos, epochs, file, times);
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
            throw new UncheckedIOException("rank 0 cannot read checkpoints in " + store.describe() + ": " + e, e);
        }
    }

    private double averagedGradientStep(BatchLoader loader, int[] order, int step, EpochTotals totals) {
        int count = plan.count(rank, step);
        times.startStep();
        long t0 = System.nanoTime();
        BucketedAllReduce reduce = net.startAllReduce(vector, (double) count / plan.globalCount(step));
        double[] local = forwardBackward(loader, order, step, count, reduce);
        long t1 = System.nanoTime();
        reduce.finish();
        long t2 = System.nanoTime();
        double globalLoss = vector[flat.parameterCount()];
        checkFinite(globalLoss, "the global batch's", step);
        flat.gradientsFrom(vector);
        long t3 = System.nanoTime();
        applyUpdate();
        long t4 = System.nanoTime();
        times.add(StepTimes.Phase.FORWARD_BACKWARD, t1 - t0);
        times.add(StepTimes.Phase.ALL_REDUCE_WAIT, t2 - t1);
        times.add(StepTimes.Phase.GRADIENT_COPY, t3 - t2);
        times.add(StepTimes.Phase.UPDATE, t4 - t3);
        times.endStep();
        computeNanos += (t1 - t0) + (t4 - t2);
        totals.add(local[0] * count, local[1], count);
        return globalLoss;
    }

    private double localStep(BatchLoader loader, int[] order, int step, EpochTotals totals) {
        int count = plan.count(rank, step);
        long t0 = System.nanoTime();
        double[] local = forwardBackward(loader, order, step, count, null);
        checkFinite(local[0], "rank " + rank + "'s", step);
        applyUpdate();
        computeNanos += System.nanoTime() - t0;
        totals.add(local[0] * count, local[1], count);
        return local[0];
    }

    /**
     * Zeroes the gradients, runs forward and backward on the batch (gathered into the loader's reused tensors);
     * returns {mean loss, correct count}. With {@code reduce}, the gradients and the loss go into its vector and
     * are posted to it as the backward pass completes them (see {@link GradientBuckets}); every part of the
     * vector is posted on return.
     */
    private double[] forwardBackward(BatchLoader loader, int[] order, int step, int count,
                                     BucketedAllReduce reduce) {
        optimizer.zeroGrad();
        int from = step * plan.batchSize();
        try (Tape tape = Tape.open()) {
            BatchLoader.Batch batch = loader.load(order, from, from + count);
            Tensor y = batch.targets();
            Variable out = model.forward(Variable.constant(batch.features()));
            Variable l = loss.compute(out, y);
            double value = l.value().item();
            if (reduce != null && buckets != null) {
                buckets.begin(reduce, (float) value);
                tape.listen(buckets);
            }
            l.backward();
            if (reduce != null && buckets != null) {
                buckets.finishStep();
            } else if (reduce != null) {
                flat.gradientsTo(reduce.data());
                reduce.data()[flat.parameterCount()] = (float) value;
                reduce.post(0, reduce.data().length);
            }
            OptionalLong correct = loss.countCorrect(out.value(), y);
            examples += count;
            return new double[] {value, correct.orElse(0)};
        }
    }

    private void applyUpdate() {
        if (spec.clipNorm() > 0) {
            GradientClipping.clipByGlobalNorm(optimizer.parameters().values(), spec.clipNorm());
        }
        optimizer.step();
    }

    private void checkFinite(double value, String whose, int step) {
        if (!Double.isFinite(value)) {
            throw new BackpropException(String.format(Locale.ROOT, "training diverged: %s %s loss is %s at step %d "
                    + "of an epoch (rank %d); lower the learning rate or check the data", whose, loss.name(), value,
                    step + 1, rank));
        }
    }

    private void averageParameters() {
        flat.valuesTo(vector);
        net.allReduce(vector, 1.0 / net.size());
        flat.valuesFrom(vector);
    }

    private void notifyListener(long done, long total, int epoch, double stepLoss) {
        StepListener l = spec.listener();
        if (l != null) {
            l.onStep(new StepListener.StepEvent(rank, net.size(), attempt, done, total, epoch, stepLoss));
        }
    }

    private void maybeCheckpoint(long done, boolean epochEnd, long total) {
        if (store == null) {
            return;
        }
        boolean due = spec.checkpointEvery() == 0 ? epochEnd : done % spec.checkpointEvery() == 0;
        if (due || done == total) {
            try {
                store.save(done, snapshots.checkpoint(done));
            } catch (IOException e) {
                throw new UncheckedIOException("rank 0 cannot write a checkpoint to " + store.describe() + ": " + e, e);
            }
        }
    }

    /** Sums over an epoch's steps on this rank, all-reduced at the epoch's end. */
    private final class EpochTotals {
        private double lossSum;
        private double correct;
        private double count;

        void add(double loss, double right, int n) {
            lossSum += loss;
            correct += right;
            count += n;
        }

        EpochResult finish(int epoch, long startNanos) {
            float[] m = {(float) lossSum, (float) correct, (float) count};
            net.allReduce(m, 1.0);
            lossSum = 0;
            correct = 0;
            count = 0;
            boolean classifies = spec.task().scoredByAccuracy();
            return new EpochResult(epoch, m[0] / m[2], classifies ? m[1] / m[2] : Double.NaN, Math.round(m[2]),
                    (System.nanoTime() - startNanos) / 1_000_000);
        }
    }

    /** Frees the model and the optimizer state. */
    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
