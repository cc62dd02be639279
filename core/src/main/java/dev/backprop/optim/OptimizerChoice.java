package dev.backprop.optim;

import dev.backprop.autograd.Variable;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;

/**
 * An optimizer and its learning-rate schedule chosen by name, with the defaults the command line documents
 * ({@code backprop train}, on one machine or on Spark): learning rate 0.1 for sgd, 0.01 for momentum, 0.001 for adam
 * and adamw; weight decay 0 (0.01 for adamw, as PyTorch). The one place these names and formulas are chosen.
 * Immutable and serializable, so a Spark driver can ship it to the executors, which each build their own optimizer
 * and schedule from it.
 */
public final class OptimizerChoice implements Serializable {
    /** torchvision's {@code --lr-warmup-decay} default: the warmup starts at 1% of the learning rate. */
    public static final double DEFAULT_WARMUP_FACTOR = 0.01;

    private static final long serialVersionUID = 1L;
    /** From here on a number is worded with an exponent. */
    private static final BigDecimal TEN_MILLION = BigDecimal.valueOf(10_000_000);

    /** The canonical optimizer name: sgd, momentum, adam or adamw. */
    private final String name;
    /** The learning rate in force. */
    private final double learningRate;
    /** μ of {@code momentum}. */
    private final double momentum;
    /** λ in force. */
    private final double weightDecay;
    /** none, step, cosine or plateau. */
    private final String schedule;
    /** Epochs between decays of the step schedule. */
    private final int stepSize;
    /** The step schedule's factor per decay. */
    private final double gamma;
    /** Epochs of warmup before the schedule (0: none). */
    private final int warmupEpochs;
    /** The warmup's starting fraction of the learning rate. */
    private final double warmupFactor;
    /** linear or constant. */
    private final WarmupLR.Method warmupMethod;

    private OptimizerChoice(String name, double learningRate, double momentum, double weightDecay, String schedule,
                            int stepSize, double gamma, int warmupEpochs, double warmupFactor,
                            WarmupLR.Method warmupMethod) {
        this.name = name;
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.schedule = schedule;
        this.stepSize = stepSize;
        this.gamma = gamma;
        this.warmupEpochs = warmupEpochs;
        this.warmupFactor = warmupFactor;
        this.warmupMethod = warmupMethod;
    }

    /**
     * The choice the command line's options make, as it parses them; a program names its choice with
     * {@link #sgd}, {@link #momentum}, {@link #adam} or {@link #adamW} (and {@link #withSchedule}) instead.
     *
     * @param optimizer   sgd, momentum, adam or adamw (case and surrounding blanks ignored)
     * @param lr          the learning rate, or null for the optimizer's default
     * @param momentum    μ of {@code momentum}; ignored by the others
     * @param weightDecay λ, or null for the optimizer's default
     * @param schedule    none, step (× {@code gamma} every {@code stepSize} epochs), cosine (to 0 over the run) or
     *                    plateau (× {@code gamma} when a validation value stops improving: {@link #plateau})
     * @param stepSize    epochs between decays of the step schedule
     * @param gamma       the step or plateau schedule's factor per decay
     * @return the choice
     * @throws IllegalArgumentException naming the flag, for an unknown name or a learning rate that is not a
     *                                  positive finite number (the optimizers check momentum and decay themselves)
     */
    public static OptimizerChoice of(String optimizer, Double lr, double momentum, Double weightDecay,
                                     String schedule, int stepSize, double gamma) {
        String n = optimizer.trim().toLowerCase(Locale.ROOT);
        if (!n.equals("sgd") && !n.equals("momentum") && !n.equals("adam") && !n.equals("adamw")) {
            throw new IllegalArgumentException("--optimizer " + optimizer + ": choose sgd, momentum, adam or adamw");
        }
        if (lr != null && (!(lr > 0) || !Double.isFinite(lr))) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        }
        double rate = lr != null ? lr : n.equals("sgd") ? 0.1 : n.equals("momentum") ? 0.01 : 0.001;
        double decay = weightDecay != null ? weightDecay : n.equals("adamw") ? 0.01 : 0.0;
        String s = schedule.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("none") && !s.equals("step") && !s.equals("cosine") && !s.equals("plateau")) {
            throw new IllegalArgumentException("--schedule " + schedule + ": choose none, step, cosine or plateau");
        }
        if (s.equals("plateau") && !(gamma >= 0 && gamma < 1)) {
            throw new IllegalArgumentException("--gamma " + number(gamma) + ": --schedule plateau multiplies the rate "
                    + "by it on a plateau, so it must be >= 0 and < 1");
        }
        return new OptimizerChoice(n, rate, momentum, decay, s, stepSize, gamma, 0, DEFAULT_WARMUP_FACTOR,
                WarmupLR.Method.LINEAR);
    }

    /**
     * Plain SGD (no schedule).
     *
     * @param lr the learning rate
     * @return the choice
     */
    public static OptimizerChoice sgd(double lr) {
        return of("sgd", lr, 0, 0.0, "none", 1, 1);
    }

    /**
     * SGD with momentum and L2 weight decay (no schedule).
     *
     * @param lr     the learning rate
     * @param mu     the momentum
     * @param lambda the weight decay
     * @return the choice
     */
    public static OptimizerChoice momentum(double lr, double mu, double lambda) {
        return of("momentum", lr, mu, lambda, "none", 1, 1);
    }

    /**
     * Adam with PyTorch's defaults and L2 weight decay (no schedule).
     *
     * @param lr     the learning rate
     * @param lambda the weight decay
     * @return the choice
     */
    public static OptimizerChoice adam(double lr, double lambda) {
        return of("adam", lr, 0, lambda, "none", 1, 1);
    }

    /**
     * AdamW with PyTorch's defaults and decoupled weight decay (no schedule).
     *
     * @param lr     the learning rate
     * @param lambda the weight decay
     * @return the choice
     */
    public static OptimizerChoice adamW(double lr, double lambda) {
        return of("adamw", lr, 0, lambda, "none", 1, 1);
    }

    /**
     * This choice with another per-epoch schedule.
     *
     * @param schedule none, step, cosine or plateau (see {@link #of})
     * @param stepSize epochs between decays of the step schedule
     * @param gamma    the step or plateau schedule's factor per decay
     * @return the new choice
     */
    public OptimizerChoice withSchedule(String schedule, int stepSize, double gamma) {
        return of(name, learningRate, momentum, weightDecay, schedule, stepSize, gamma)
                .withWarmup(warmupEpochs, warmupFactor, warmupMethod.label());
    }

    /**
     * This choice with a warmup before its schedule ({@link WarmupLR}, torchvision's recipe): the rate rises from
     * {@code factor} times the learning rate to the learning rate over {@code epochs} epochs, and the schedule then
     * runs from its start (the cosine schedule over the epochs after the warmup).
     *
     * @param epochs epochs of warmup (0: none)
     * @param factor the warmup's starting fraction of the learning rate, in (0, 1]
     *               ({@link #DEFAULT_WARMUP_FACTOR} as torchvision)
     * @param method linear (PyTorch's {@code LinearLR}) or constant ({@code ConstantLR}); case ignored
     * @return the new choice
     * @throws IllegalArgumentException naming the flag, for negative epochs, a factor outside (0, 1], an unknown
     *                                  method, or a warmup before the plateau schedule (which PyTorch's
     *                                  {@code SequentialLR} cannot chain)
     */
    public OptimizerChoice withWarmup(int epochs, double factor, String method) {
        if (epochs < 0) {
            throw new IllegalArgumentException("--warmup " + epochs + ": the warmup's epochs must be >= 0");
        }
        if (!(factor > 0 && factor <= 1)) {
            throw new IllegalArgumentException("--warmup-factor " + factor + ": the warmup starts at this fraction of "
                    + "the learning rate, so it must be > 0 and <= 1");
        }
        String m = method.trim().toLowerCase(Locale.ROOT);
        if (!m.equals("linear") && !m.equals("constant")) {
            throw new IllegalArgumentException("--warmup-method " + method + ": choose linear or constant");
        }
        if (epochs > 0 && onPlateau()) {
            throw new IllegalArgumentException("--warmup " + epochs + " cannot precede --schedule plateau, which "
                    + "follows a validation value (PyTorch's SequentialLR cannot chain ReduceLROnPlateau either): "
                    + "choose --schedule none, step or cosine, or leave --warmup out");
        }
        return new OptimizerChoice(name, learningRate, momentum, weightDecay, schedule, stepSize, gamma, epochs,
                factor, WarmupLR.Method.valueOf(m.toUpperCase(Locale.ROOT)));
    }

    /**
     * Refuses a warmup as long as a run of {@code epochs} epochs or longer, which would never train at the learning
     * rate: for a caller to check before it starts the run.
     *
     * @param epochs the run's epochs
     * @throws IllegalArgumentException naming {@code --warmup} and {@code --epochs}
     */
    public void checkWarmup(int epochs) {
        if (warmupEpochs > 0 && warmupEpochs >= epochs) {
            throw new IllegalArgumentException("--warmup " + warmupEpochs + " must be less than --epochs " + epochs
                    + ": the warmup would take the whole run and never reach --lr " + number(learningRate));
        }
    }

    /** {@return the warmup's epochs (0: none)} */
    public int warmupEpochs() {
        return warmupEpochs;
    }

    /** {@return the canonical name: sgd, momentum, adam or adamw} */
    public String name() {
        return name;
    }

    /** {@return the schedule's canonical name: none, step, cosine or plateau} */
    public String scheduleName() {
        return schedule;
    }

    /** {@return the learning rate in force (explicit or the optimizer's default)} */
    public double learningRate() {
        return learningRate;
    }

    /** {@return the weight decay in force (explicit or the optimizer's default)} */
    public double weightDecay() {
        return weightDecay;
    }

    /**
     * A new optimizer (PyTorch's formulas; adam with betas 0.9, 0.999 and eps 1e-8).
     *
     * @param params the parameters by name
     * @return the optimizer, its state zero
     */
    public Optimizer create(Map<String, Variable> params) {
        switch (name) {
            case "sgd":
                return Sgd.builder(params).lr(learningRate).weightDecay(weightDecay).build();
            case "momentum":
                return Sgd.builder(params).lr(learningRate).momentum(momentum).weightDecay(weightDecay).build();
            case "adam":
                return Adam.builder(params).lr(learningRate).weightDecay(weightDecay).build();
            default:
                return Adam.adamW(params, learningRate, weightDecay);
        }
    }

    /**
     * {@return true when the learning rate follows a schedule (step, cosine or plateau, or a warmup) rather than
     * staying constant}
     */
    public boolean scheduled() {
        return !schedule.equals("none") || warmupEpochs > 0;
    }

    /**
     * The schedule of a run.
     *
     * @param optimizer the optimizer it drives
     * @param epochs    the run's epochs (the cosine schedule spans those after the warmup)
     * @return the schedule, or null for a constant rate
     * @throws IllegalStateException    for the plateau schedule, which is not a function of the epoch
     *                                  ({@link #plateau})
     * @throws IllegalArgumentException for a warmup as long as the run or longer, which would never train at the
     *                                  learning rate
     */
    public LearningRateSchedule schedule(Optimizer optimizer, int epochs) {
        checkWarmup(epochs);
        LearningRateSchedule main;
        switch (schedule) {
            case "plateau":
                throw new IllegalStateException("--schedule plateau follows a validation value, not the epoch: "
                        + "build it with OptimizerChoice.plateau and give it to Trainer.Builder.plateau");
            case "step":
                main = new StepLR(optimizer, stepSize, gamma);
                break;
            case "cosine":
                main = new CosineAnnealingLR(optimizer, Math.max(1, epochs - warmupEpochs), 0);
                break;
            default:
                main = null;
        }
        return warmupEpochs == 0 ? main : new WarmupLR(optimizer, warmupMethod, warmupEpochs, warmupFactor, main);
    }

    /** {@return true for the plateau schedule ({@link #plateau}), which follows a validation value} */
    public boolean onPlateau() {
        return schedule.equals("plateau");
    }

    /**
     * The plateau schedule of a run: PyTorch's {@code ReduceLROnPlateau} with factor {@code gamma} and its other
     * defaults (threshold 1e-4 relative, no cooldown, minimum rate 0, eps 1e-8).
     *
     * @param optimizer the optimizer it drives
     * @param mode      {@code MIN} for a watched loss, {@code MAX} for an accuracy
     * @param patience  epochs without improvement tolerated before a reduction
     * @return the scheduler
     * @throws IllegalStateException when this choice's schedule is not plateau
     */
    public ReduceLROnPlateau plateau(Optimizer optimizer, ReduceLROnPlateau.Mode mode, int patience) {
        return plateau(optimizer, mode, patience, 1e-4, ReduceLROnPlateau.ThresholdMode.REL, 0, 0, 1e-8);
    }

    /**
     * The plateau schedule of a run: PyTorch's {@code ReduceLROnPlateau} with factor {@code gamma} and the given
     * settings, each as {@link ReduceLROnPlateau}'s constructor takes it.
     *
     * @param optimizer     the optimizer it drives
     * @param mode          {@code MIN} for a watched loss, {@code MAX} for an accuracy
     * @param patience      epochs without improvement tolerated before a reduction
     * @param threshold     the least change that counts as an improvement
     * @param thresholdMode how the threshold is measured (relative to the best value, or in its units)
     * @param cooldown      epochs after a reduction in which bad epochs are not counted
     * @param minLr         the lowest rate
     * @param eps           reductions by no more than this are skipped
     * @return the scheduler
     * @throws IllegalStateException    when this choice's schedule is not plateau
     * @throws IllegalArgumentException for a setting out of the scheduler's range
     */
    public ReduceLROnPlateau plateau(Optimizer optimizer, ReduceLROnPlateau.Mode mode, int patience, double threshold,
                                     ReduceLROnPlateau.ThresholdMode thresholdMode, int cooldown, double minLr,
                                     double eps) {
        if (!onPlateau()) {
            throw new IllegalStateException("the schedule is " + schedule + ", not plateau");
        }
        return new ReduceLROnPlateau(optimizer, mode, gamma, patience, threshold, thresholdMode, cooldown, minLr, eps);
    }

    /** {@return {@code sgd lr 0.1} and the settings that differ from the defaults, for logs and model metadata} */
    public String describe() {
        StringBuilder sb = new StringBuilder(name).append(" lr ").append(number(learningRate));
        if (name.equals("momentum")) {
            sb.append(" momentum ").append(number(momentum));
        }
        if (weightDecay != 0) {
            sb.append(" weight-decay ").append(number(weightDecay));
        }
        if (!schedule.equals("none")) {
            sb.append(" schedule ").append(schedule);
        }
        if (warmupEpochs > 0) {
            sb.append(" warmup ").append(warmupEpochs).append(' ').append(warmupMethod.label()).append(" from ")
                    .append(number(warmupFactor));
        }
        return sb.toString();
    }

    /**
     * A setting as a user types it, exactly: the wording of every setting shown to the user, in messages, in the
     * settings line and in what model files and checkpoints record (which compare it as text). For a value that
     * training arrived at rather than one the user set, see {@link #number(double, int)}.
     *
     * @param v the value
     * @return {@code 0.1}, {@code 0.000001}, {@code 1000000}: no trailing zeros, and an exponent only below
     *         {@code 0.000001} and from 10<sup>7</sup> on ({@code 1E-7}, {@code 1E+30}), so that an absurd setting
     *         does not print as thirty digits ({@code NaN}, {@code Infinity} and {@code -Infinity} as they are, for
     *         the messages that refuse them)
     */
    public static String number(double v) {
        return Double.isFinite(v) ? words(new BigDecimal(Double.toString(v))) : Double.toString(v);
    }

    /**
     * A rate that training arrived at, such as a scheduled learning rate or a tenth of it, rounded for a message
     * and then worded as {@link #number(double)} words a setting: {@code 0.0735} for a cosine schedule's
     * {@code 0.07346234}, so that a rate a user typed reads the same in both. Never for what a file records.
     *
     * @param v                 the value
     * @param significantDigits how many significant digits to keep, rounding half up; at least 1
     * @return {@code v} rounded and worded as a setting ({@code NaN} and the infinities as they are)
     * @throws IllegalArgumentException if {@code significantDigits} is below 1
     */
    public static String number(double v, int significantDigits) {
        if (significantDigits < 1) {
            throw new IllegalArgumentException("significantDigits " + significantDigits + ": must be at least 1");
        }
        return Double.isFinite(v) ? words(new BigDecimal(Double.toString(v))
                .round(new MathContext(significantDigits, RoundingMode.HALF_UP))) : Double.toString(v);
    }

    /** {@code d} without trailing zeros, with an exponent only below 10<sup>-6</sup> and from 10<sup>7</sup> on. */
    private static String words(BigDecimal d) {
        BigDecimal s = d.stripTrailingZeros();
        return s.scale() <= 0 && s.abs().compareTo(TEN_MILLION) < 0 ? s.toPlainString() : s.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
