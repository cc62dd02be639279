package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * PyTorch's {@code torch.optim.lr_scheduler.ReduceLROnPlateau}: multiplies the optimizer's rate by {@code factor}
 * when a watched metric (a validation loss or accuracy) has not improved for more than {@code patience} epochs.
 * Unlike a {@link LearningRateSchedule} its rate is not a function of the epoch but of the metrics seen, so its
 * {@link State} goes into checkpoints beside the optimizer's rate. Call {@link #step(double)} once after each
 * epoch's validation; {@link dev.backprop.train.Trainer.Builder#plateau} does so from {@code fit}.
 *
 * <p>As PyTorch's: a value improves on the best when it is below {@code best·(1 − threshold)} ({@code MIN},
 * {@code REL}), below {@code best − threshold} ({@code MIN}, {@code ABS}), above {@code best·(threshold + 1)}
 * ({@code MAX}, {@code REL}) or above {@code best + threshold} ({@code MAX}, {@code ABS}); the best starts at
 * +∞ ({@code MIN}) or −∞ ({@code MAX}), and NaN never improves. Each other value is a bad epoch; during the
 * {@code cooldown} epochs after a reduction bad epochs are not counted. When more than {@code patience} bad epochs
 * have been counted, the rate becomes {@code max(rate·factor, minLr)}, unless that lowers it by no more than
 * {@code eps}, the counter restarts and the cooldown begins.
 */
public final class ReduceLROnPlateau {
    /** Whether a lower or a higher metric is better. */
    public enum Mode {
        /** Lower is better (a loss). */
        MIN,
        /** Higher is better (an accuracy). */
        MAX
    }

    /** How {@code threshold} measures an improvement. */
    public enum ThresholdMode {
        /** Relative to the best value. */
        REL,
        /** In the metric's own units. */
        ABS
    }

    /**
     * Where the scheduler stands after a step, for checkpoints.
     *
     * @param best            the best value seen (+∞ for {@code MIN}, −∞ for {@code MAX} before any)
     * @param badEpochs       bad epochs counted since the best or the last reduction
     * @param cooldownCounter cooldown epochs left
     */
    public record State(double best, int badEpochs, int cooldownCounter) {
    }

    /**
     * The checkpoint metadata key under which a {@link dev.backprop.train.Trainer} records its plateau scheduler:
     * what {@code fit} steps it with, its {@link #settings()} and its {@link State}.
     */
    public static final String METADATA_KEY = "backprop.plateau";

    private final Optimizer optimizer;
    /** The optimizer's rate when the scheduler was made, which a resumed run must start from too. */
    private final double base;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final ThresholdMode thresholdMode;
    private final int cooldown;
    private final double minLr;
    private final double eps;
    private State state;

    /**
     * A scheduler with PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, minimum
     * rate 0, eps 1e-8.
     */
    public ReduceLROnPlateau(Optimizer optimizer, Mode mode) {
        this(optimizer, mode, 0.1, 10, 1e-4, ThresholdMode.REL, 0, 0, 1e-8);
    }

    /**
     * A scheduler with PyTorch's parameters.
     *
     * @param optimizer     the optimizer whose rate it lowers
     * @param mode          whether the metric is to be lowered or raised
     * @param factor        the factor per reduction, in [0, 1)
     * @param patience      bad epochs tolerated before a reduction, at least 0
     * @param threshold     the least change that counts as an improvement, finite and at least 0
     * @param thresholdMode how the threshold is measured
     * @param cooldown      epochs after a reduction in which bad epochs are not counted, at least 0
     * @param minLr         the lowest rate, finite and at least 0
     * @param eps           reductions by no more than this are skipped, finite and at least 0
     * @throws IllegalArgumentException for a value out of those ranges
     */
    public ReduceLROnPlateau(Optimizer optimizer, Mode mode, double factor, int patience, double threshold,
                             ThresholdMode thresholdMode, int cooldown, double minLr, double eps) {
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.base = optimizer.learningRate();
        this.mode = Objects.requireNonNull(mode, "mode");
        this.thresholdMode = Objects.requireNonNull(thresholdMode, "thresholdMode");
        if (!(factor >= 0 && factor < 1)) {
            throw new IllegalArgumentException("ReduceLROnPlateau: factor must be >= 0 and < 1, got " + factor);
        }
        if (patience < 0 || cooldown < 0) {
            throw new IllegalArgumentException("ReduceLROnPlateau: patience and cooldown must be >= 0, got patience="
                    + patience + ", cooldown=" + cooldown);
        }
        for (Map.Entry<String, Double> e : Map.of("threshold", threshold, "min_lr", minLr, "eps", eps).entrySet()) {
            if (!(e.getValue() >= 0) || !Double.isFinite(e.getValue())) {
                throw new IllegalArgumentException("ReduceLROnPlateau: " + e.getKey() + " must be finite and >= 0, got "
                        + e.getValue());
            }
        }
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.cooldown = cooldown;
        this.minLr = minLr;
        this.eps = eps;
        this.state = new State(worst(), 0, 0);
    }

    private double worst() {
        return mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    /** Ends an epoch whose watched metric was {@code metric}: counts it, and lowers the rate when it is time. */
    public void step(double metric) {
        double best = state.best();
        int bad = state.badEpochs();
        int cooling = state.cooldownCounter();
        if (improves(metric, best)) {
            best = metric;
            bad = 0;
        } else {
            bad++;
        }
        if (cooling > 0) {
            cooling--;
            bad = 0;
        }
        if (bad > patience) {
            double old = optimizer.learningRate();
            double lowered = Math.max(old * factor, minLr);
            if (old - lowered > eps) {
                optimizer.setLearningRate(lowered);
            }
            cooling = cooldown;
            bad = 0;
        }
        state = new State(best, bad, cooling);
    }

    private boolean improves(double value, double best) {
        if (mode == Mode.MIN) {
            return thresholdMode == ThresholdMode.REL ? value < best * (1.0 - threshold) : value < best - threshold;
        }
        return thresholdMode == ThresholdMode.REL ? value > best * (threshold + 1.0) : value > best + threshold;
    }

    /** {@return where the scheduler stands} */
    public State state() {
        return state;
    }

    /**
     * Continues from a state saved from {@link #state()} (the optimizer's rate is restored with the optimizer).
     *
     * @throws IllegalArgumentException for a state no run of this scheduler can reach
     */
    public void restore(State saved) {
        check(saved);
        state = saved;
    }

    /**
     * Checks that this scheduler can reach {@code saved} (a best that is not NaN, though either infinity is reached
     * by an infinite metric; counters within patience and cooldown, and no bad epoch counted while cooling down), as
     * {@link #restore} does before changing anything.
     *
     * @throws IllegalArgumentException for a state no run of this scheduler can reach
     */
    public void check(State saved) {
        if (Double.isNaN(saved.best()) || saved.badEpochs() < 0 || saved.badEpochs() > patience
                || saved.cooldownCounter() < 0 || saved.cooldownCounter() > cooldown
                || saved.cooldownCounter() > 0 && saved.badEpochs() > 0) {
            throw new IllegalArgumentException("not a ReduceLROnPlateau state for patience " + patience
                    + " and cooldown " + cooldown + ": " + saved);
        }
    }

    /** {@return whether a lower or higher metric is better} */
    public Mode mode() {
        return mode;
    }

    /**
     * {@return the settings by name (PyTorch's, after the optimizer's rate when this scheduler was made, as
     * {@link StepLR}'s {@code base_lr}), for checkpoints and messages; modes as 0 (min, rel) or 1}
     */
    public Map<String, Double> settings() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("base_lr", base);
        m.put("mode", (double) mode.ordinal());
        m.put("factor", factor);
        m.put("patience", (double) patience);
        m.put("threshold", threshold);
        m.put("threshold_mode", (double) thresholdMode.ordinal());
        m.put("cooldown", (double) cooldown);
        m.put("min_lr", minLr);
        m.put("eps", eps);
        return m;
    }
}
