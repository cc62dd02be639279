package dev.backprop.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The test examples {@code eval} and {@code predict} read (mixed in with {@code @Mixin}): the data options
 * {@code train} takes ({@link DataOptions}) and the seed of the hold-out split {@code train} made of a single
 * {@code --csv}, so the same rows come back as test examples. {@link ModelSession#testData} reads them.
 */
final class TestDataOptions {
    @Mixin
    DataOptions data;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "The seed train used, for the same hold-out split of a single --csv or --images (default: "
                    + "${DEFAULT-VALUE}); refused where nothing is held out.")
    long seed;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /**
     * Refuses the options that would be ignored, before the model or any example is read. {@code --train-limit}
     * limits the training examples, which are never read here: {@code train} holds its test examples out before it
     * limits the rest, so the limit does not move them. {@code --seed} picks the examples held out of a single
     * {@code --csv} or {@code --images}; Fashion-MNIST's test split, {@code --test-csv} and {@code --test-images}
     * are taken whole.
     */
    void checkUsed() {
        if (data.trainLimit != null) {
            throw new IllegalArgumentException("--train-limit " + data.trainLimit + " limits the training examples, "
                    + "which eval and predict do not read (train holds the test examples out before it limits the "
                    + "rest); leave it out");
        }
        if (!mixee.commandLine().getParseResult().hasMatchedOption("--seed")) {
            return;
        }
        String whole = data.testCsv != null ? "--test-csv" : data.testImages != null ? "--test-images"
                : data.csv == null && data.images == null ? "Fashion-MNIST's test split" : null;
        if (whole != null) {
            throw new IllegalArgumentException("--seed " + seed + " picks the examples held out of a single --csv or "
                    + "--images, and " + whole + " is taken whole; leave it out");
        }
    }
}
