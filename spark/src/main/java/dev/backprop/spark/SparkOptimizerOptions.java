package dev.backprop.spark;

import dev.backprop.optim.OptimizerChoice;
import picocli.CommandLine.Option;

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

    /** The choice these flags make; the defaults and checks live in core's {@link OptimizerChoice}, shared with
     *  {@code backprop train}. */
    OptimizerChoice choice() {
        return OptimizerChoice.of(optimizer, lr, momentum, weightDecay, schedule, stepSize, gamma);
    }

    OptimizerFactory factory() {
        return choice()::create;
    }

    /** The schedule factory, or null for a constant rate. */
    ScheduleFactory schedule() {
        OptimizerChoice c = choice();
        return c.scheduled() ? c::schedule : null;
    }
}
