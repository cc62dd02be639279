package dev.backprop.spark;

import picocli.CommandLine.Option;

import java.util.Locale;

/** The optimizer flags of {@link SparkTrainMain}, spelled and defaulted as in {@code backprop train}. */
final class SparkOptimizerOptions {
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "sgd",
            description = "sgd, momentum, adam or adamw (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "RATE",
            description = "Learning rate. Default: 0.1 for sgd, 0.01 for momentum, 0.001 for adam and adamw.")
    Double lr;

    @Option(names = "--momentum", paramLabel = "MU", defaultValue = "0.9",
            description = "Momentum of --optimizer momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "LAMBDA",
            description = "L2 for sgd, momentum and adam, decoupled for adamw. Default: 0 (0.01 for adamw).")
    Double weightDecay;

    @Option(names = "--schedule", paramLabel = "NAME", defaultValue = "none",
            description = "none, step (x --gamma every --step-size epochs) or cosine (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--step-size", paramLabel = "EPOCHS", defaultValue = "5",
            description = "--schedule step: epochs between decays (default: ${DEFAULT-VALUE}).")
    int stepSize;

    @Option(names = "--gamma", paramLabel = "FACTOR", defaultValue = "0.1",
            description = "--schedule step: factor per decay (default: ${DEFAULT-VALUE}).")
    double gamma;

    OptimizerFactory factory() {
        String n = optimizer.trim().toLowerCase(Locale.ROOT);
        double rate = lr != null ? lr : switch (n) {
            case "sgd" -> 0.1;
            case "momentum" -> 0.01;
            default -> 0.001;
        };
        if (!(rate > 0) || !Double.isFinite(rate)) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + rate);
        }
        double decay = weightDecay != null ? weightDecay : n.equals("adamw") ? 0.01 : 0.0;
        return switch (n) {
            case "sgd" -> decay == 0 ? OptimizerFactory.sgd(rate) : OptimizerFactory.momentum(rate, 0, decay);
            case "momentum" -> OptimizerFactory.momentum(rate, momentum, decay);
            case "adam" -> OptimizerFactory.adam(rate, decay);
            case "adamw" -> OptimizerFactory.adamW(rate, decay);
            default -> throw new IllegalArgumentException("--optimizer " + optimizer + ": choose sgd, momentum, "
                    + "adam or adamw");
        };
    }

    ScheduleFactory schedule() {
        return switch (schedule.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> null;
            case "step" -> ScheduleFactory.step(stepSize, gamma);
            case "cosine" -> ScheduleFactory.cosine();
            default -> throw new IllegalArgumentException("--schedule " + schedule + ": choose none, step or cosine");
        };
    }
}
