package dev.backprop.train;

import dev.backprop.nn.Layer;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Stops {@link Trainer#fit} when the validation metric has not improved for {@code patience} epochs, and optionally
 * puts the best epoch's weights back into the model when {@code fit} ends, as Keras's
 * {@code EarlyStopping(patience, min_delta, restore_best_weights=True)}. It is an {@link EpochListener}: pass it to
 * {@code fit} (with {@link EpochListener#andThen} beside another listener) together with a validation set, never the
 * test set, since the epoch it keeps is chosen on that set.
 *
 * <p>An epoch improves when its value beats the best so far by more than {@code minDelta} (a lower loss, a higher
 * accuracy); the first non-NaN value always does, and a NaN value never does. With {@code restoreBest}, each
 * improvement copies the model's {@code state_dict} (parameters, buffers such as batch-norm running statistics, and
 * counters) into tensors on the model's own backend, written in place by device-side copies after the first, so no
 * epoch reads weights to the host. When {@code fit} returns normally, whether this watch stopped it or it ran all
 * its epochs (unlike Keras, which restores them only when it stopped the run), those copies are written back into
 * the model; when it throws, the model is left as the failure left it. Either way the copies are freed then. The
 * optimizer's state is not restored (Keras and Lightning do not either): the restored model is the best epoch's, to
 * evaluate or save; an optimizer that goes on training it starts from the last epoch's moments.
 *
 * <p>One instance watches one run; {@link #resume} carries the watch across a checkpoint. A watch resumed where it
 * had stopped its run asks the trainer to stop at once: the next {@code fit} trains no epoch, returns none, and puts
 * the best weights back as any normal end does.
 */
public final class EarlyStopping implements EpochListener {
    /** What is watched on the validation set. */
    public enum Monitor {
        /** The validation loss; lower is better. */
        LOSS,
        /** The validation accuracy (a classifying loss only); higher is better. */
        ACCURACY;

        /** {@return the value this watches in {@code e}: its loss or its accuracy} */
        public double of(Evaluation e) {
            return this == LOSS ? e.loss() : e.accuracy();
        }

        /**
         * {@return how a {@link ReduceLROnPlateau} watching this judges it: {@code MIN} for the loss, {@code MAX}
         * for the accuracy}
         */
        public ReduceLROnPlateau.Mode plateauMode() {
            return this == LOSS ? ReduceLROnPlateau.Mode.MIN : ReduceLROnPlateau.Mode.MAX;
        }
    }

    /**
     * Where the watch stands after an epoch, for checkpoints.
     *
     * @param bestEpoch       the best epoch so far (from 1), or 0 before any value
     * @param best            its value, or NaN before any
     * @param epochsSinceBest epochs seen since it (all seen, when there is none)
     */
    public record State(int bestEpoch, double best, int epochsSinceBest) {
    }

    private final Trainer trainer;
    private final Monitor monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private State state = new State(0, Double.NaN, 0);
    private boolean stopped;
    private Map<String, Tensor> bestTensors;
    private Map<String, Long> bestCounters;

    /**
     * Watches {@code trainer}'s validation results.
     *
     * @param patience    epochs without improvement before stopping, at least 1
     * @param minDelta    the least change that counts as an improvement, finite and at least 0
     * @param restoreBest whether to put the best epoch's weights back into the model when {@code fit} ends
     * @throws IllegalArgumentException for a patience below 1 or a negative or non-finite minDelta
     */
    public EarlyStopping(Trainer trainer, Monitor monitor, int patience, double minDelta, boolean restoreBest) {
        this.trainer = Objects.requireNonNull(trainer, "trainer");
        this.monitor = Objects.requireNonNull(monitor, "monitor");
        if (patience < 1) {
            throw new IllegalArgumentException("patience must be at least 1 epoch, got " + patience);
        }
        if (!(minDelta >= 0) || !Double.isFinite(minDelta)) {
            throw new IllegalArgumentException("min delta must be finite and >= 0, got " + minDelta);
        }
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBest = restoreBest;
    }

    /**
     * Judges the epoch's validation result; asks the trainer to stop when patience has run out.
     *
     * @throws IllegalStateException when {@code fit} was given no validation set, or accuracy is watched and the
     *                               loss does not classify
     */
    @Override
    public void onEpoch(EpochMetrics metrics) {
        Evaluation val = metrics.validation();
        if (val == null) {
            throw new IllegalStateException("early stopping needs a validation set: pass one to Trainer.fit");
        }
        if (monitor == Monitor.ACCURACY && Double.isNaN(val.accuracy())) {
            throw new IllegalStateException("early stopping watches accuracy, but the validation accuracy is NaN "
                    + "(the loss does not classify); watch LOSS");
        }
        observe(metrics.epoch(), monitor.of(val));
    }

    /**
     * Judges epoch {@code epoch}'s value, as {@link #onEpoch} does with the validation result (for a caller that
     * evaluates its validation set itself).
     */
    public void observe(int epoch, double value) {
        if (improves(value)) {
            state = new State(epoch, value, 0);
            if (restoreBest) {
                keep();
            }
        } else {
            state = new State(state.bestEpoch(), state.best(), state.epochsSinceBest() + 1);
        }
        if (state.epochsSinceBest() >= patience) {
            stopped = true;
            trainer.requestStop();
        }
    }

    private boolean improves(double value) {
        if (Double.isNaN(value)) {
            return false;
        }
        if (state.bestEpoch() == 0) {
            return true;
        }
        return monitor == Monitor.LOSS ? value < state.best() - minDelta : value > state.best() + minDelta;
    }

    /** Puts the best weights back (after a normal end) and frees their copies either way. */
    @Override
    public void onFitEnd(boolean completed) {
        try {
            if (completed && bestTensors != null) {
                copyAll(bestTensors, live(trainer.model()));
                Map<String, long[]> counters = trainer.model().counters();
                bestCounters.forEach((k, v) -> counters.get(k)[0] = v);
            }
        } finally {
            free();
        }
    }

    /**
     * Continues a watch saved from {@link #state()}, with the best epoch's weights when it restores them: copies of
     * {@code weights} (the model's tensors by {@code state_dict} name, as {@link #bestWeights} gave them) and the
     * counters' values {@code counters}.
     *
     * @throws IllegalArgumentException for a state no watch can reach, or weights that are not the model's (other
     *                                  names, shapes, dtypes or backend)
     */
    public void resume(State saved, Map<String, Tensor> weights, Map<String, Long> counters) {
        boolean kept = restoreBest && saved.bestEpoch() > 0;
        if (kept) {
            checkModels(weights, counters);
        }
        resume(saved);
        if (kept) {
            free();
            keepCopies(weights);
            bestCounters = new LinkedHashMap<>(counters);
        }
    }

    private void checkModels(Map<String, Tensor> weights, Map<String, Long> counters) {
        Map<String, Tensor> live = live(trainer.model());
        if (!live.keySet().equals(weights.keySet()) || !trainer.model().counters().keySet().equals(counters.keySet())) {
            throw new IllegalArgumentException("the best weights " + weights.keySet() + " and counters "
                    + counters.keySet() + " are not the model's " + live.keySet() + ", "
                    + trainer.model().counters().keySet());
        }
        live.forEach((k, own) -> {
            Tensor w = weights.get(k);
            if (!w.shape().equals(own.shape()) || w.dtype() != own.dtype() || w.backend() != own.backend()) {
                throw new IllegalArgumentException("the best weight '" + k + "' is " + w.dtype() + " " + w.shape()
                        + " on " + w.backend().name() + ", the model's " + own.dtype() + " " + own.shape() + " on "
                        + own.backend().name());
            }
        });
    }

    /** {@return the counters' values of the best epoch, held while {@link #bestWeights} are} */
    public Map<String, Long> bestCounters() {
        return bestCounters == null ? Map.of() : Collections.unmodifiableMap(bestCounters);
    }

    /**
     * Continues a watch saved from {@link #state()}, without best weights (use the other {@code resume} when
     * restoring them). When the saved watch had stopped its run, the trainer is asked to stop
     * ({@link Trainer#requestStop()}), so the next {@code fit} trains no further.
     *
     * @throws IllegalArgumentException for a state no watch can reach
     */
    public void resume(State saved) {
        if (saved.bestEpoch() < 0 || saved.epochsSinceBest() < 0
                || (saved.bestEpoch() > 0) == Double.isNaN(saved.best())) {
            throw new IllegalArgumentException("not an early-stopping state: " + saved);
        }
        state = saved;
        stopped = saved.epochsSinceBest() >= patience;
        if (stopped) {
            trainer.requestStop();
        }
    }

    /** {@return where the watch stands} */
    public State state() {
        return state;
    }

    /** {@return whether this watch asked the trainer to stop} */
    public boolean stopped() {
        return stopped;
    }

    /**
     * The copies of the best epoch's tensors by {@code state_dict} name, live until {@code fit} ends (for a caller
     * saving them in a checkpoint), or an empty map when none are held.
     */
    public Map<String, Tensor> bestWeights() {
        return bestTensors == null ? Map.of() : Collections.unmodifiableMap(bestTensors);
    }

    /** The model's parameters and buffers by {@code state_dict} name: the tensors written in place. */
    private static Map<String, Tensor> live(Layer model) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        model.parameters().forEach((k, v) -> m.put(k, v.value()));
        m.putAll(model.buffers());
        return m;
    }

    private void keep() {
        Map<String, Tensor> now = live(trainer.model());
        if (bestTensors == null) {
            keepCopies(now);
        } else {
            copyAll(now, bestTensors);
        }
        Map<String, Long> counters = new LinkedHashMap<>();
        trainer.model().counters().forEach((k, v) -> counters.put(k, v[0]));
        bestCounters = counters;
    }

    private void keepCopies(Map<String, Tensor> from) {
        List<Tensor> made = new ArrayList<>();
        try {
            Map<String, Tensor> copies = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : from.entrySet()) {
                Tensor c = e.getValue().copy();
                made.add(c);
                copies.put(e.getKey(), c);
            }
            bestTensors = copies;
        } catch (RuntimeException e) {
            made.forEach(Tensor::close);
            throw e;
        }
    }

    private static void copyAll(Map<String, Tensor> from, Map<String, Tensor> to) {
        from.forEach((k, src) -> {
            Tensor dst = to.get(k);
            if (!src.isContiguous() || !dst.isContiguous()) {
                throw new IllegalStateException("early stopping copies whole tensors; " + k + " is a strided view");
            }
            src.backend().copy(src.buffer(), src.offset(), dst.buffer(), dst.offset(), src.size());
        });
    }

    private void free() {
        if (bestTensors != null) {
            bestTensors.values().forEach(Tensor::close);
            bestTensors = null;
            bestCounters = null;
        }
    }
}
