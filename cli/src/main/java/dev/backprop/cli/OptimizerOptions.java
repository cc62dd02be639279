package dev.backprop.cli;

import dev.backprop.autograd.Variable;
import dev.backprop.optim.Adam;
import dev.backprop.optim.CosineAnnealingLR;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.optim.StepLR;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.Map;

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
            description = "Momentum of --optimizer momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "LAMBDA",
            description = "Weight decay: an L2 term for sgd, momentum and adam, decoupled for adamw. Default: 0 "
                    + "(0.01 for adamw, as PyTorch).")
    Double weightDecay;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "none",
            description = "Learning-rate schedule per epoch: none, step (x --gamma every --step-size epochs) or "
                    + "cosine (to 0 over the run) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--step-size", paramLabel = "EPOCHS", defaultValue = "5",
            description = "--schedule step: epochs between decays (default: ${DEFAULT-VALUE}).")
    int stepSize;

    @Option(names = "--gamma", paramLabel = "FACTOR", defaultValue = "0.1",
            description = "--schedule step: factor per decay (default: ${DEFAULT-VALUE}).")
    double gamma;

    /** The optimizer's canonical name. */
    String name() {
        String n = optimizer.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "sgd", "momentum", "adam", "adamw" -> n;
            default -> throw new IllegalArgumentException("--optimizer " + optimizer + ": choose sgd, momentum, adam "
                    + "or adamw");
        };
    }

    /** The learning rate in force (explicit or the optimizer's default). */
    double learningRate() {
        if (lr != null) {
            if (!(lr > 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
            }
            return lr;
        }
        return switch (name()) {
            case "sgd" -> 0.1;
            case "momentum" -> 0.01;
            default -> 0.001;
        };
    }

    /** The weight decay in force. */
    double decay() {
        if (weightDecay != null) {
            return weightDecay;
        }
        return name().equals("adamw") ? 0.01 : 0.0;
    }

    /** A new optimizer over {@code params}. */
    Optimizer create(Map<String, Variable> params) {
        double rate = learningRate();
        return switch (name()) {
            case "sgd" -> new Sgd(params, rate, 0, decay(), false);
            case "momentum" -> new Sgd(params, rate, momentum, decay(), false);
            case "adam" -> new Adam(params, rate, 0.9, 0.999, 1e-8, decay(), false);
            default -> Adam.adamW(params, rate, decay());
        };
    }

    /** The schedule for a run of {@code epochs} epochs in total, or null for a constant rate. */
    LearningRateSchedule schedule(Optimizer opt, int epochs) {
        return switch (schedule.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> null;
            case "step" -> new StepLR(opt, stepSize, gamma);
            case "cosine" -> new CosineAnnealingLR(opt, Math.max(1, epochs), 0);
            default -> throw new IllegalArgumentException("--schedule " + schedule + ": choose none, step or cosine");
        };
    }

    /** A setting as typed: {@code 0.1}, {@code 1e-06}, {@code 1000000}. */
    static String number(double v) {
        java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros();
        return d.scale() <= 0 ? d.toPlainString() : d.toString();
    }

    /** {@code sgd lr 0.1} and the non-default settings. */
    String describe() {
        StringBuilder sb = new StringBuilder(name()).append(" lr ").append(number(learningRate()));
        if (name().equals("momentum")) {
            sb.append(" momentum ").append(number(momentum));
        }
        if (decay() != 0) {
            sb.append(" weight-decay ").append(number(decay()));
        }
        if (!schedule.equalsIgnoreCase("none")) {
            sb.append(" schedule ").append(schedule.toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }
}
