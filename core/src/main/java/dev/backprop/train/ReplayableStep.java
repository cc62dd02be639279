package dev.backprop.train;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.data.BatchLoader;
import dev.backprop.loss.Loss;
import dev.backprop.nn.Layer;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of a {@link TrainingStep} that a backend may record once and replay ({@link Backend#runStep}, a CUDA
 * graph): zero the gradients, forward, loss and backward, ending with the loss and the prediction copied into
 * tensors of this object, since a replay runs no host code and leaves no tape behind. The batch's gathers from a data
 * set on the device are inside; what changes from step to step on the host stays outside: the batch's upload
 * ({@link BatchLoader#stage}), the window's moving slot ({@link StepWindow#record} copies from here after the step)
 * and the optimizer step, whose learning rate and step count (Adam's bias corrections) change per step, and which
 * the multi-tensor update already makes one launch. So a replay stays valid across steps with one recording per
 * batch shape.
 *
 * <p>Used only when the backend {@link Backend#replaysSteps replays steps}, there are no {@link StepHook}s (they run
 * host code between the parts) and the model keeps no host state that a step changes ({@link Layer#counters}, a
 * batch norm's count; {@link Layer#trainingState}, a dropout layer's random stream), which a replay would not
 * advance. A layer's per-step host state is declared there anyway, since a checkpoint needs it to resume exactly.
 *
 * <p>The key of a step is this object (the model, loss and optimizer it was made for), the loader, the batch's rows
 * and the prediction's buffer: a new batch shape, loader or prediction tensor is a new recording.
 */
final class ReplayableStep implements AutoCloseable {
    private final Backend backend;
    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final int maxRows;
    /** Buffers the step uses whatever the batch: parameters, their gradients, the model's buffers, the loss. */
    private final List<Buffer> fixed = new ArrayList<>();
    private final Tensor lossValue;
    /** The model's output for up to {@link #maxRows} rows, flattened; made by the first step, which knows its size. */
    private Tensor prediction;
    /** The output's dimensions after the rows. */
    private int[] predictionTail;
    /** The loader's batch of each size the step has run on: views, valid after a replay too. */
    private final Map<Integer, BatchLoader.Batch> batches = new HashMap<>();

    /** Whether a step of {@code model} with {@code hooks} on {@code backend} goes through {@link Backend#runStep}. */
    static boolean applies(Backend backend, Layer model, List<StepHook> hooks) {
        return backend.replaysSteps() && hooks.isEmpty() && model.counters().isEmpty()
                && model.trainingState().isEmpty();
    }

    /**
     * @param backend the backend of the model's parameters
     * @param maxRows rows of the largest batch
     */
    ReplayableStep(Backend backend, Layer model, Loss loss, Optimizer optimizer, int maxRows) {
        this.backend = backend;
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.maxRows = maxRows;
        for (Variable p : model.parameters().values()) {
            fixed.add(p.value().buffer());
            if (p.requiresGrad()) {
                fixed.add(p.grad().buffer());
            }
        }
        for (Tensor t : model.buffers().values()) {
            fixed.add(t.buffer());
        }
        lossValue = Tensor.empty(backend, optimizer.parameters().values().iterator().next().dtype(), 1);
        fixed.add(lossValue.buffer());
    }

    /**
     * Loads examples {@code order[from..to)} ({@link BatchLoader#stage}: their upload), runs the step's device work
     * on them, gathers included, then records its results in {@code window}.
     */
    @SuppressWarnings("try") // the tape frees what the window's first record makes; it needs no reference
    void compute(BatchLoader loader, int[] order, int from, int to, StepPosition position, StepWindow window) {
        int rows = loader.stage(order, from, to);
        List<Buffer> uses = new ArrayList<>(fixed);
        for (Tensor t : loader.tensors()) {
            uses.add(t.buffer());
        }
        if (prediction != null) {
            uses.add(prediction.buffer());
        }
        List<Object> key = List.of(this, loader, rows, prediction == null ? List.of() : List.of(prediction.buffer()));
        backend.runStep(key, uses, () -> work(loader, rows));
        try (Tape tape = Tape.open()) {
            window.record(tape, position, lossValue, predictionOf(rows), batches.get(rows).targets());
        }
    }

    @SuppressWarnings("try") // the tape frees the step's memory when closed; it needs no reference
    private void work(BatchLoader loader, int rows) {
        optimizer.zeroGrad();
        BatchLoader.Batch batch = loader.gather(rows);
        batches.put(rows, batch);
        try (Tape tape = Tape.open()) {
            Variable out = model.forward(Variable.constant(batch.features()));
            Evaluator.checkOutputs(out.value(), loader.dataset());  // on shapes only: no device work to record
            Variable l = loss.compute(out, batch.targets());
            l.backward();
            Tensor o = out.value();
            int[] dims = o.shape().dims();
            if (prediction == null) {
                prediction = tape.keep(Tensor.empty(backend, o.dtype(), Math.toIntExact(o.size() / rows * maxRows)));
            }
            predictionTail = Arrays.copyOfRange(dims, 1, dims.length);
            Elementwise.copy(l.value().reshape(1), lossValue);
            Elementwise.copy(o.reshape(Math.toIntExact(o.size())), prediction.rows(0, Math.toIntExact(o.size())));
        }
    }

    /** The first {@code rows} rows of the prediction, in the output's shape. */
    private Tensor predictionOf(int rows) {
        int[] dims = new int[predictionTail.length + 1];
        dims[0] = rows;
        System.arraycopy(predictionTail, 0, dims, 1, predictionTail.length);
        long n = rows;
        for (int d : predictionTail) {
            n *= d;
        }
        return prediction.rows(0, Math.toIntExact(n)).reshape(dims);
    }

    /** Frees the loss and prediction tensors (a backend keeps their memory while a recording refers to it). */
    @Override
    public void close() {
        lossValue.close();
        if (prediction != null) {
            prediction.close();
        }
    }
}
