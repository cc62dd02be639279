package dev.backprop.cli;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Loss;
import dev.backprop.data.BatchLoader;
import dev.backprop.nn.Layer;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import dev.backprop.data.EpochOrder;

import java.util.Locale;

/**
 * The epoch loop of {@code train}, timed over the same span as PyTorch's reference: shuffle, batch gather and
 * upload, forward, loss, backward and optimizer step, closed by a host sync so queued GPU work is counted. Data
 * loading and evaluation happen outside it.
 *
 * <p>Each step's loss is copied into a device vector rather than read at once, so the loop does not wait for the
 * device after every step; every {@value #CHECK_EVERY} steps (and at the end of the epoch) the new losses come to
 * the host, and a NaN or infinite one stops training with a message naming the step.
 */
final class TrainingLoop implements AutoCloseable {
    /** Steps between host reads of the recorded losses (a divergence is caught within this many steps). */
    static final int CHECK_EVERY = 32;

    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final Dataset train;
    private final BatchLoader loader;
    private final Backend backend;
    private final long seed;
    private final Tensor stepLosses;
    private final float[] hostLosses;

    /** The outcome of one epoch's timed span. */
    record EpochRun(double seconds, double meanLoss, long samples) {
    }

    /** Thrown when a step's loss is NaN or infinite; the message names the step and what to do. */
    static final class DivergedException extends BackpropException {
        private static final long serialVersionUID = 1L;

        DivergedException(String message) {
            super(message);
        }
    }

    /**
     * @param seed seeds the per-epoch shuffles: epoch {@code e}'s order depends only on the seed and {@code e}
     *             ({@link EpochOrder#of}, as in {@link dev.backprop.train.Trainer}), so a resumed run sees the
     *             batches an uninterrupted one would
     */
    TrainingLoop(Layer model, Loss loss, Optimizer optimizer, Dataset train, Backend backend, int batchSize,
                 long seed) {
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.train = train;
        this.backend = backend;
        this.seed = seed;
        this.loader = new BatchLoader(train, backend, batchSize, BatchLoader.Placement.AUTO);
        try {
            this.stepLosses = Tensor.zeros(backend, DType.FLOAT32, loader.batchesPerEpoch());
        } catch (RuntimeException e) {
            loader.close();
            throw e;
        }
        this.hostLosses = new float[loader.batchesPerEpoch()];
    }

    /** Whether the training set was uploaded once and batches are gathered on the device (a GPU's memory). */
    boolean dataOnDevice() {
        return loader.resident();
    }

    /** Optimizer steps per epoch. */
    int stepsPerEpoch() {
        return loader.batchesPerEpoch();
    }

    /**
     * Runs one epoch.
     *
     * @param epoch    the 1-based epoch number, for messages
     * @param progress counts the steps (may be disabled)
     * @throws DivergedException when a loss is NaN or infinite
     */
    EpochRun runEpoch(int epoch, EpochProgress progress) {
        int steps = stepsPerEpoch();
        int n = train.size();
        int bs = loader.batchSize();
        long start = System.nanoTime();
        int[] order = EpochOrder.of(n, seed, epoch - 1, true);
        int checked = 0;
        double weighted = 0;
        for (int s = 0; s < steps; s++) {
            step(order, s * bs, Math.min(n, (s + 1) * bs), s);
            progress.step();
            if ((s + 1) % CHECK_EVERY == 0 || s + 1 == steps) {
                weighted += readLosses(checked, s + 1, epoch, bs, n);
                checked = s + 1;
                progress.message(String.format(Locale.ROOT, "loss %.4f", weighted / Math.min(n, checked * bs)));
            }
        }
        backend.synchronize();
        double seconds = (System.nanoTime() - start) / 1e9;
        return new EpochRun(seconds, weighted / n, n);
    }

    private void step(int[] ord, int from, int to, int s) {
        optimizer.zeroGrad();
        try (Tape tape = Tape.open()) {
            BatchLoader.Batch b = loader.load(ord, from, to);
            Variable l = loss.compute(model.forward(Variable.constant(b.features())), b.targets());
            l.backward();
            Elementwise.copy(l.value().reshape(1), stepLosses.rows(s, s + 1));
        }
        optimizer.step();
    }

    /** Reads losses of steps {@code [from, to)}; returns their sum weighted by batch rows. */
    private double readLosses(int from, int to, int epoch, int bs, int n) {
        backend.download(stepLosses.buffer(), stepLosses.offset() + from, hostLosses, from, to - from);
        double sum = 0;
        for (int s = from; s < to; s++) {
            float v = hostLosses[s];
            if (!Float.isFinite(v)) {
                long global = (long) (epoch - 1) * stepsPerEpoch() + s + 1;
                throw new DivergedException(String.format(Locale.ROOT, "training stopped: the loss is %s at step %d "
                                + "(epoch %d, batch %d of %d). The learning rate %s is probably too high for this "
                                + "model: try --lr %s", v, global, epoch, s + 1, stepsPerEpoch(),
                        fmt(optimizer.learningRate()), fmt(optimizer.learningRate() / 10)));
            }
            int rows = Math.min(n, (s + 1) * bs) - s * bs;
            sum += (double) v * rows;
        }
        return sum;
    }

    private static String fmt(double v) {
        return OptimizerChoice.number(Double.parseDouble(String.format(Locale.ROOT, "%.3g", v)));
    }

    /** Frees the batch and loss buffers (not the model or optimizer). Idempotent. */
    @Override
    public void close() {
        loader.close();
        stepLosses.close();
    }
}
