package dev.backprop.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The test examples {@code eval} and {@code predict} read (mixed in with {@code @Mixin}): the data options
 * {@code train} takes ({@link DataOptions}) and the seed of the hold-out split {@code train} made of a single
 * {@code --csv}, so the same rows come back as test examples. {@link ModelSession#testData} reads them.
 */
final class TestDataOptions {
    @Mixin
    DataOptions data;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "The seed train used, for the same hold-out split of a single --csv (default: "
                    + "${DEFAULT-VALUE}).")
    long seed;
}
