package dev.backprop.train;

import dev.backprop.backend.Backend;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.EpochOrder;
import dev.backprop.loss.Loss;
import dev.backprop.optim.Optimizer;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The steps of one epoch of {@link Trainer#fit}, timed as PyTorch's reference times an epoch: from the shuffle to a
 * wait for the device after the last step. Each step's results stay on the device in the step's window until
 * {@code syncEvery} steps are recorded; the window is read and checked before the last of them is applied (so with
 * {@code syncEvery == 1} a diverging step never is), and the listener hears of them after it.
 */
final class EpochLoop {
    /** Sums over the steps run. */
    record Sums(double loss, double correct, long decisions, boolean classifies, long examples, double seconds) {
    }

    private final Loss loss;
    private final Optimizer optimizer;
    private final Backend backend;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final int syncEvery;
    private final String label;

    EpochLoop(Loss loss, Optimizer optimizer, Backend backend, int batchSize, long seed, boolean shuffle,
              int syncEvery, String label) {
        this.loss = loss;
        this.optimizer = optimizer;
        this.backend = backend;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.syncEvery = syncEvery;
        this.label = label;
    }

    /**
     * Runs batches {@code fromBatch..steps-1} (0-based) of epoch {@code epoch} (1-based), in the epoch's
     * {@link EpochOrder}.
     *
     * @param done told the number of batches applied after each step
     */
    Sums run(BatchLoader train, int epoch, int fromBatch, int steps, TrainingStep step, EpochListener listener,
             IntConsumer done) {
        long t0 = System.nanoTime();
        int n = train.dataset().size();
        int[] order = EpochOrder.of(n, seed, epoch - 1, shuffle);
        train.startEpoch(epoch - 1);
        double lossSum = 0;
        double correct = 0;
        long decisions = 0;
        boolean classifies = false;
        long examples = 0;
        StepWindow window = step.window();
        for (int b = fromBatch; b < steps; b++) {
            int from = b * batchSize;
            StepPosition position = new StepPosition(epoch, b + 1, steps, Math.min(n, from + batchSize) - from);
            step.compute(train, order, from, from + position.rows(), position);
            List<StepWindow.Step> read = window.full() || b + 1 == steps ? window.read() : List.of();
            for (StepWindow.Step st : read) {
                check(st, position, train, order);
            }
            step.apply(position);
            done.accept(b + 1);
            for (StepWindow.Step st : read) {
                lossSum += st.loss() * Evaluator.weight(loss, st.position().rows());
                correct += st.correct().orElse(0);
                decisions += st.decisions();
                classifies = st.correct().isPresent();
                examples += st.position().rows();
                if (listener != null) {
                    listener.onBatch(new BatchResult(st.position(), st.loss(), st.correct(), st.decisions()));
                }
            }
        }
        backend.synchronize();
        return new Sums(lossSum, correct, decisions, classifies, examples, (System.nanoTime() - t0) / 1e9);
    }

    private void check(StepWindow.Step st, StepPosition now, BatchLoader train, int[] order) {
        if (!Double.isFinite(st.judged())) {
            int from = (st.position().batch() - 1) * batchSize;
            throw Divergence.diverged(loss.name(), st, now, syncEvery, train.dataset(), order, from,
                    optimizer.learningRate(), label);
        }
    }
}
