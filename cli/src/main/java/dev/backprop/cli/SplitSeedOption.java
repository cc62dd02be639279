package dev.backprop.cli;

import picocli.CommandLine.Option;

/**
 * {@code --split-seed} (mixed in with {@code @Mixin} by {@code train}, {@code eval} and {@code predict}): the seed of
 * the hold-out split of a single {@code --csv} or {@code --images}, apart from {@code --seed}, which {@code train}'s
 * weights, shuffles, dropout masks and validation split draw from. It is the one place that says which seed splits
 * ({@link #of}): it when given (or set from a checkpoint), else the seed a model records of the same data, else
 * {@code --seed}, so a run that leaves it out splits as one without the option and records the same split.
 */
final class SplitSeedOption {
    /** The option's name, as messages and the lists of options name it. */
    static final String NAME = "--split-seed";

    @Option(names = NAME, paramLabel = "N", descriptionKey = "split-seed",
            description = "Seed of the hold-out split of a single --csv or --images, which the model records for "
                    + "eval, predict and --resume; the rest (weights, shuffles, dropout, --validation) follows --seed. "
                    + "Default: --seed; with --init on the data the model split, the seed of that split (another is "
                    + "refused); with --resume, the checkpoint's. Refused where nothing is held out.")
    Long value;

    /**
     * Refuses {@code option}, given with {@code value} to pick the examples held out of a single {@code --csv} or
     * {@code --images}, when {@code data} holds none out, which would ignore it.
     *
     * @throws IllegalArgumentException naming the option, its value and the data taken whole
     */
    static void checkHeldOut(DataOptions data, String option, long value) {
        String whole = data.testCsv != null ? "--test-csv" : data.testImages != null ? "--test-images"
                : data.csv == null && data.images == null ? "Fashion-MNIST's test split" : null;
        if (whole != null) {
            throw new IllegalArgumentException(option + " " + value + " picks the examples held out of a single "
                    + "--csv or --images, and " + whole + " is taken whole; leave it out");
        }
    }

    /** The seed that splits when no model's split applies: {@link #of(long, Long) of(seed, null)}. */
    long of(long seed) {
        return of(seed, null);
    }

    /**
     * The seed that splits, the one rule {@code train}, {@code eval} and {@code predict} follow: {@code --split-seed}
     * when given or settled from a checkpoint, else {@code recorded}, else {@code seed} (the {@code --seed}).
     *
     * @param seed     the run's {@code --seed}
     * @param recorded the seed of the split a model records of the same data, or null where none applies
     * @return the seed of the hold-out split
     */
    long of(long seed, Long recorded) {
        return value != null ? value : recorded != null ? recorded : seed;
    }
}
