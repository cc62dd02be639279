package dev.backprop.train;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.data.BatchLoader;
import dev.backprop.loss.Loss;
import dev.backprop.nn.Layer;
import dev.backprop.optim.Optimizer;

import java.util.List;
import java.util.OptionalDouble;

/**
 * The training step, the only one in Backprop: zero the gradients, gather the batch, forward, loss and backward on
 * one {@link Tape} (freed after the step, so memory stays flat), the {@link StepHook}s, and the optimizer step.
 * Its results go to a {@link StepWindow} that this object owns, with its device buffers for the loader's largest
 * batch; the batch tensors are the loader's, allocated once.
 *
 * <p>A step runs in two parts, {@link #compute} (up to the hooks after backward) and {@link #apply} (the hooks
 * before the update and the optimizer step), because a read of the window, the one wait for the device a step may
 * need, falls between them when due. Without hooks that read values to the host, each part is a fixed sequence of
 * device operations on buffers fixed for a batch shape: the unit a GPU backend can capture as a graph and replay.
 * When the backend {@link dev.backprop.backend.Backend#replaysSteps replays steps} and nothing forbids it (see
 * {@link ReplayableStep}), {@link #compute} hands its device work to the backend as one unit; otherwise it runs it
 * here.
 */
final class TrainingStep implements AutoCloseable {
    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final List<StepHook> hooks;
    private final StepWindow window;
    /** The step as one unit for the backend, or null when it runs here. */
    private final ReplayableStep replayable;

    /** A step that a backend which replays steps gets only if {@code replay} ({@link Trainer.Builder#replaySteps}). */
    TrainingStep(Layer model, Loss loss, Optimizer optimizer, List<StepHook> hooks, boolean replay,
                 StepWindow window) {
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.hooks = List.copyOf(hooks);
        this.window = window;
        Backend backend = optimizer.parameters().values().iterator().next().backend();
        this.replayable = replay && ReplayableStep.applies(backend, model, this.hooks)
                ? new ReplayableStep(backend, model, loss, optimizer, window.maxRows()) : null;
    }

    /** The window the step records into. */
    StepWindow window() {
        return window;
    }

    /**
     * Zeroes the gradients, gathers examples {@code order[from..to)}, runs forward and backward, records the results
     * in the window and runs the hooks' {@link StepHook#beforeBackward} and {@link StepHook#afterBackward}.
     */
    @SuppressWarnings("try") // the tape frees the step's memory when closed; it needs no reference
    void compute(BatchLoader loader, int[] order, int from, int to, StepPosition position) {
        if (replayable != null) { // no hooks to run
            replayable.compute(loader, order, from, to, position, window);
            return;
        }
        optimizer.zeroGrad();
        try (Tape tape = Tape.open()) {
            BatchLoader.Batch batch = loader.load(order, from, to);
            Variable out = model.forward(Variable.constant(batch.features()));
            Evaluator.checkOutputs(out.value(), loader.dataset());
            Variable l = loss.compute(out, batch.targets());
            GradientListener watcher = null;
            for (StepHook h : hooks) {
                GradientListener g = h.beforeBackward(position, l);
                if (g != null && watcher != null) {
                    throw new IllegalStateException("two step hooks watch the gradients; one backward pass tells one");
                }
                watcher = g != null ? g : watcher;
            }
            if (watcher != null) {
                tape.listen(watcher);
            }
            l.backward();
            window.record(tape, position, l.value(), out.value(), batch.targets());
        }
        for (StepHook h : hooks) {
            OptionalDouble judged = h.afterBackward(position);
            if (judged.isPresent()) {
                window.judge(judged.getAsDouble());
            }
        }
    }

    /** Runs the hooks' {@link StepHook#beforeUpdate}, then the optimizer step. */
    void apply(StepPosition position) {
        for (StepHook h : hooks) {
            h.beforeUpdate(position);
        }
        optimizer.step();
    }

    /** Frees the window's device buffers (and the replayable step's). */
    @Override
    public void close() {
        window.close();
        if (replayable != null) {
            replayable.close();
        }
    }
}
