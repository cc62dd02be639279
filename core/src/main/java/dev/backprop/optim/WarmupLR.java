package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A learning-rate warmup handing over to a main schedule, as torchvision's classification recipe builds it:
 * PyTorch's {@code SequentialLR([LinearLR(start_factor=factor, total_iters=E)] or [ConstantLR(factor, E)], main],
 * milestones=[E])}. For epochs {@code e < E} the rate is {@code base·(factor + (1 - factor)·e/E)} (linear, LinearLR's
 * closed form) or {@code base·factor} (constant); from epoch {@code E} on it is the main schedule's rate for epoch
 * {@code e - E}, because SequentialLR restarts the main scheduler at the milestone with {@code step(0)}. Without a
 * main schedule the rate stays at the base rate after the warmup.
 */
public final class WarmupLR extends ClosedFormSchedule {
    /** How the rate rises during the warmup. */
    public enum Method {
        /** PyTorch's {@code LinearLR}: from {@code factor·base} to {@code base} in equal steps. */
        LINEAR,
        /** PyTorch's {@code ConstantLR}: {@code factor·base} throughout the warmup, then {@code base}. */
        CONSTANT;

        /** {@return the lower-case name used on the command line and in checkpoints} */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The warmup's epochs in {@link #settings}. */
    private static final String EPOCHS_KEY = "warmup_epochs";
    /** The warmup's starting fraction in {@link #settings}. */
    private static final String FACTOR_KEY = "warmup_factor";

    private final Method method;
    private final int epochs;
    private final double factor;
    private final LearningRateSchedule main;

    /**
     * A warmup over {@code epochs} epochs, then {@code main}; sets the optimizer's rate to epoch 0's warmup rate.
     *
     * @param optimizer the optimizer whose rate it sets; its current rate is the base rate
     * @param method    linear or constant
     * @param epochs    epochs of warmup (≥ 1)
     * @param factor    the warmup's starting fraction of the base rate, in (0, 1] as PyTorch's {@code LinearLR}
     *                  requires of {@code start_factor}
     * @param main      the schedule after the warmup, built on the same optimizer before this warmup (so that its
     *                  base rate is the same), or null for a constant rate
     * @throws IllegalArgumentException for epochs below 1, a factor outside (0, 1], a main schedule whose base
     *                                  rate differs from the optimizer's current rate, or one with warmup settings
     *                                  of its own (another warmup)
     */
    public WarmupLR(Optimizer optimizer, Method method, int epochs, double factor, LearningRateSchedule main) {
        super(optimizer);
        java.util.Objects.requireNonNull(method, "method");
        if (epochs < 1 || !(factor > 0 && factor <= 1)) {
            throw new IllegalArgumentException("WarmupLR: needs epochs >= 1 and a factor in (0, 1], got epochs="
                    + epochs + ", factor=" + factor);
        }
        Double mainBase = main == null ? null : main.settings().get("base_lr");
        if (mainBase != null && mainBase.doubleValue() != base) {
            throw new IllegalArgumentException("WarmupLR: the main schedule's base_lr " + mainBase + " differs from "
                    + "the optimizer's rate " + base + ": build the main schedule before the warmup");
        }
        if (main != null && (main.settings().containsKey(EPOCHS_KEY) || main.settings().containsKey(FACTOR_KEY))) {
            throw new IllegalArgumentException("WarmupLR: the main schedule " + main.type() + " has its own "
                    + EPOCHS_KEY + " or " + FACTOR_KEY + ", which would overwrite this warmup's in a checkpoint: "
                    + "chain one warmup before a schedule without one");
        }
        this.method = method;
        this.epochs = epochs;
        this.factor = factor;
        this.main = main;
        optimizer.setLearningRate(rateAt(0));
    }

    @Override
    public double rateAt(int epoch) {
        if (epoch < epochs) {
            return method == Method.LINEAR ? base * (factor + (1 - factor) * epoch / epochs) : base * factor;
        }
        return main == null ? base : main.rateAt(epoch - epochs);
    }

    /** {@return the warmup's epochs} */
    public int warmupEpochs() {
        return epochs;
    }

    /** {@return the schedule after the warmup, or null for a constant rate} */
    public LearningRateSchedule main() {
        return main;
    }

    /** {@return {@code linear-warmup} or {@code constant-warmup}, followed by {@code +} and the main type if any} */
    @Override
    public String type() {
        String t = method.label() + "-warmup";
        return main == null ? t : t + "+" + main.type();
    }

    @Override
    public Map<String, Double> settings() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("base_lr", base);
        m.put(EPOCHS_KEY, (double) epochs);
        m.put(FACTOR_KEY, factor);
        if (main != null) {
            m.putAll(main.settings());
        }
        return m;
    }
}
