package dev.backprop.cli;

import dev.backprop.autograd.Variable;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.optim.ReduceLROnPlateau;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * How {@code train} updates the weights: the optimizer (PyTorch's formulas), its learning rate, weight decay and
 * an optional per-epoch learning-rate schedule.
 */
final class OptimizerOptions {
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "sgd",
            description = "sgd, momentum (SGD with momentum), adam or adamw (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "RATE",
            description = "Learning rate. Default: 0.1 for sgd, 0.01 for momentum, 0.001 for adam and adamw.")
    Double lr;

    @Option(names = "--momentum", paramLabel = "MU", defaultValue = "0.9",
            description = "Momentum of --optimizer momentum; refused with another optimizer, but for 0 with sgd, "
                    + "which is plain SGD as PyTorch's SGD(momentum=0) (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "LAMBDA",
            description = "Weight decay: an L2 term for sgd, momentum and adam, decoupled for adamw. Default: 0 "
                    + "(0.01 for adamw, as PyTorch).")
    Double weightDecay;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "none",
            description = "Learning-rate schedule per epoch: none, step (x --gamma every --step-size epochs), "
                    + "cosine (to 0 over the run, after any --warmup) or plateau (x --gamma after more than "
                    + "--plateau-patience epochs without a better --monitor value, as PyTorch's ReduceLROnPlateau; "
                    + "needs --validation) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--step-size", paramLabel = "EPOCHS", defaultValue = "5",
            description = "--schedule step: epochs between decays; refused with another schedule (default: "
                    + "${DEFAULT-VALUE}).")
    int stepSize;

    @Option(names = "--gamma", paramLabel = "FACTOR", defaultValue = "0.1",
            description = "--schedule step or plateau: factor per decay (plateau: in [0, 1)); refused with another "
                    + "schedule (default: ${DEFAULT-VALUE}).")
    double gamma;

    @Option(names = "--plateau-patience", paramLabel = "N", defaultValue = "2",
            description = "--schedule plateau: epochs without a better --monitor value (by --plateau-threshold) "
                    + "tolerated before the rate is multiplied by --gamma; refused with another schedule (default: "
                    + "${DEFAULT-VALUE}).")
    int plateauPatience;

    @Option(names = "--plateau-threshold", paramLabel = "X", defaultValue = "1e-4",
            description = "--schedule plateau: the least change of the --monitor value that counts as better, a "
                    + "fraction of the best value (--plateau-threshold-mode rel) or in its units (abs); finite, >= 0; "
                    + "refused with another schedule (default: ${DEFAULT-VALUE}, 0.01%%).")
    double plateauThreshold;

    @Option(names = "--plateau-threshold-mode", paramLabel = "MODE", defaultValue = "rel",
            description = "--schedule plateau: rel (better than best x (1 -/+ --plateau-threshold)) or abs (better "
                    + "than best -/+ --plateau-threshold), as PyTorch's threshold_mode; refused with another schedule "
                    + "(default: ${DEFAULT-VALUE}).")
    String plateauThresholdMode;

    @Option(names = "--plateau-cooldown", paramLabel = "N", defaultValue = "0",
            description = "--schedule plateau: epochs after each decay in which epochs without a better value are "
                    + "not counted, >= 0; refused with another schedule (default: ${DEFAULT-VALUE}).")
    int plateauCooldown;

    @Option(names = "--plateau-min-lr", paramLabel = "RATE", defaultValue = "0",
            description = "--schedule plateau: the rate is never lowered below this, finite, >= 0 (PyTorch's "
                    + "min_lr); refused with another schedule (default: ${DEFAULT-VALUE}).")
    double plateauMinLr;

    @Option(names = "--plateau-eps", paramLabel = "X", defaultValue = "1e-8",
            description = "--schedule plateau: a decay that lowers the rate by no more than this is skipped, finite, "
                    + ">= 0 (PyTorch's eps); refused with another schedule (default: ${DEFAULT-VALUE}).")
    double plateauEps;

    @Option(names = "--warmup", paramLabel = "EPOCHS", defaultValue = "0",
            description = "Epochs of learning-rate warmup before --schedule, as torchvision's --lr-warmup-epochs: "
                    + "the rate rises from --warmup-factor x --lr to --lr, then the schedule starts (cosine then "
                    + "anneals over the epochs after the warmup); fewer than --epochs, for every optimizer, not with "
                    + "--schedule plateau (default: ${DEFAULT-VALUE}, none).")
    int warmup;

    @Option(names = "--warmup-factor", paramLabel = "F", defaultValue = "0.01",
            description = "--warmup: the first epoch's fraction of --lr, in (0, 1] (torchvision's --lr-warmup-decay); "
                    + "refused without --warmup (default: ${DEFAULT-VALUE}).")
    double warmupFactor;

    @Option(names = "--warmup-method", paramLabel = "NAME", defaultValue = "linear",
            description = "--warmup: linear (PyTorch's LinearLR, in equal steps to --lr) or constant (ConstantLR, "
                    + "--warmup-factor x --lr throughout the warmup), as torchvision's --lr-warmup-method, whose "
                    + "train.py defaults to constant while its recipes pass linear; refused without --warmup "
                    + "(default: ${DEFAULT-VALUE}).")
    String warmupMethod;

    /** The choice these flags make; the defaults and checks live in core's {@link OptimizerChoice}. */
    OptimizerChoice choice() {
        return OptimizerChoice.of(optimizer, lr, momentum, weightDecay, schedule, stepSize, gamma)
                .withWarmup(warmup, warmupFactor, warmupMethod);
    }

    /** Refuses a warmup that would take a whole run of {@code epochs} epochs ({@link OptimizerChoice#checkWarmup}). */
    void checkWarmup(int epochs) {
        choice().checkWarmup(epochs);
    }

    /**
     * Refuses {@code --momentum} for an optimizer other than {@code momentum} (but for {@code --momentum 0} with
     * {@code sgd}, which is plain SGD as PyTorch's {@code SGD(momentum=0)}), {@code --step-size}, {@code --gamma}
     * and {@code --plateau-patience} when given for a schedule that does not use them, and {@code --warmup-factor}
     * and {@code --warmup-method} without {@code --warmup}, which would ignore them.
     *
     * @param given whether an option was given on the command line
     * @throws IllegalArgumentException naming the option, its value and the optimizer or schedule
     */
    void checkScheduleSettings(Predicate<String> given) {
        // PyTorch's SGD is momentum 0 unless told otherwise: --momentum 0 names plain sgd, so it is what sgd reads
        if (given.test("--momentum") && !name().equals("momentum") && !(name().equals("sgd") && momentum == 0)) {
            throw new IllegalArgumentException("--momentum " + OptimizerChoice.number(momentum) + " applies only to "
                    + "--optimizer momentum, and the optimizer is " + name() + ": leave it out or give --optimizer "
                    + "momentum");
        }
        String s = choice().scheduleName();
        Map<String, String> unused = new LinkedHashMap<>();
        if (!s.equals("step")) {
            unused.put("--step-size " + stepSize, "step");
        }
        if (!s.equals("step") && !s.equals("plateau")) {
            unused.put("--gamma " + OptimizerChoice.number(gamma), "step or plateau");
        }
        if (!s.equals("plateau")) {
            unused.put("--plateau-patience " + plateauPatience, "plateau");
            unused.put("--plateau-threshold " + OptimizerChoice.number(plateauThreshold), "plateau");
            unused.put("--plateau-threshold-mode " + plateauThresholdMode, "plateau");
            unused.put("--plateau-cooldown " + plateauCooldown, "plateau");
            unused.put("--plateau-min-lr " + OptimizerChoice.number(plateauMinLr), "plateau");
            unused.put("--plateau-eps " + OptimizerChoice.number(plateauEps), "plateau");
        }
        if (warmup == 0) {
            for (String option : new String[]{"--warmup-factor " + OptimizerChoice.number(warmupFactor),
                "--warmup-method " + warmupMethod}) {
                if (given.test(option.substring(0, option.indexOf(' ')))) {
                    throw new IllegalArgumentException(option + " applies only to --warmup EPOCHS, and there is no "
                            + "warmup: leave it out or give --warmup");
                }
            }
        }
        unused.forEach((option, schedules) -> {
            if (given.test(option.substring(0, option.indexOf(' ')))) {
                throw new IllegalArgumentException(option + " applies only to --schedule " + schedules + ", and the "
                        + "schedule is " + s + ": leave it out or choose its schedule");
            }
        });
    }

    /** The optimizer's canonical name. */
    String name() {
        return choice().name();
    }

    /** The learning rate in force (explicit or the optimizer's default). */
    double learningRate() {
        return choice().learningRate();
    }

    /** A new optimizer over {@code params}. */
    Optimizer create(Map<String, Variable> params) {
        return choice().create(params);
    }

    /** The closed-form schedule for a run of {@code epochs} epochs in total, or null (a constant rate, or plateau). */
    LearningRateSchedule schedule(Optimizer opt, int epochs) {
        return onPlateau() ? null : choice().schedule(opt, epochs);
    }

    /** Whether the rate follows the validation value ({@code --schedule plateau}). */
    boolean onPlateau() {
        return choice().onPlateau();
    }

    /**
     * Refuses a {@code --plateau-*} setting out of {@link ReduceLROnPlateau}'s range, naming the option, the range and
     * the value, so the scheduler's own check never blames a setting by its PyTorch name.
     *
     * @throws IllegalArgumentException for the first setting out of range
     */
    void checkPlateauSettings() {
        if (plateauPatience < 0) {
            throw new IllegalArgumentException("--plateau-patience must be at least 0 epochs, got " + plateauPatience);
        }
        if (!(plateauThreshold >= 0) || !Double.isFinite(plateauThreshold)) {
            throw new IllegalArgumentException("--plateau-threshold must be a finite number >= 0, got "
                    + OptimizerChoice.number(plateauThreshold));
        }
        thresholdMode();
        if (plateauCooldown < 0) {
            throw new IllegalArgumentException("--plateau-cooldown must be at least 0 epochs, got " + plateauCooldown);
        }
        if (!(plateauMinLr >= 0) || !Double.isFinite(plateauMinLr)) {
            throw new IllegalArgumentException("--plateau-min-lr must be a finite number >= 0, got "
                    + OptimizerChoice.number(plateauMinLr));
        }
        if (!(plateauEps >= 0) || !Double.isFinite(plateauEps)) {
            throw new IllegalArgumentException("--plateau-eps must be a finite number >= 0, got "
                    + OptimizerChoice.number(plateauEps));
        }
    }

    /**
     * {@code --plateau-threshold-mode} (case ignored).
     *
     * @throws IllegalArgumentException naming the value when it is neither rel nor abs
     */
    ReduceLROnPlateau.ThresholdMode thresholdMode() {
        String m = plateauThresholdMode.trim().toLowerCase(Locale.ROOT);
        if (!m.equals("rel") && !m.equals("abs")) {
            throw new IllegalArgumentException("--plateau-threshold-mode must be rel or abs, got '"
                    + plateauThresholdMode + "'");
        }
        return ReduceLROnPlateau.ThresholdMode.valueOf(m.toUpperCase(Locale.ROOT));
    }

    /** The plateau scheduler of {@code --schedule plateau}, watching a value that {@code mode} says how to judge. */
    ReduceLROnPlateau plateau(Optimizer opt, ReduceLROnPlateau.Mode mode) {
        return choice().plateau(opt, mode, plateauPatience, plateauThreshold, thresholdMode(), plateauCooldown,
                plateauMinLr, plateauEps);
    }

    /** {@code sgd lr 0.1} and the non-default settings. */
    String describe() {
        return choice().describe();
    }
}
