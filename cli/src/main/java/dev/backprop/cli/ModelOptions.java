package dev.backprop.cli;

import dev.backprop.nn.Architecture;
import dev.backprop.nn.Init;
import picocli.CommandLine.Option;

/**
 * The network {@code train} builds, on one machine or on Spark: the architecture ({@link ArchitectureOptions}) and
 * the initializer of its fresh weights. Its layers are named like PyTorch's {@code nn.Sequential}'s, so the model
 * file loads into the equivalent PyTorch network.
 */
final class ModelOptions extends ArchitectureOptions {
    @Option(names = "--initializer", paramLabel = "NAME", defaultValue = "pytorch",
            description = "Initial weights: pytorch (nn.Linear's and nn.Conv2d's default), xavier, xavier-normal, he, "
                    + "he-normal (default: ${DEFAULT-VALUE}). Ignored with --init and --resume.")
    String initializer;

    /**
     * The network for data whose examples have dimensions {@code exampleShape} and {@code outputs} network
     * outputs, weights drawn from {@code seed}.
     *
     * @throws IllegalArgumentException when an option is malformed or the network does not fit the data
     */
    Architecture architecture(int[] exampleShape, int outputs, long seed) {
        return architecture(exampleShape, outputs, init(), seed);
    }

    /** The initializer for fresh weights. */
    Init init() {
        try {
            return Init.parse(initializer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--initializer: " + e.getMessage(), e);
        }
    }

    /** Checks every option that can be checked without the data. */
    @Override
    void check() {
        super.check();
        init();
    }
}
