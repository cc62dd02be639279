package dev.backprop.cli;

import dev.backprop.data.DataFormatException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/**
 * The test examples {@code eval} and {@code predict} read (mixed in with {@code @Mixin}): the data options
 * {@code train} takes ({@link DataOptions}) and the seed of the hold-out split {@code train} made of a single
 * {@code --csv} or {@code --images}, so the same examples come back as test examples: the seed the model records
 * ({@value ModelSession#HOLD_OUT_KEY}), else {@code --split-seed}, else {@code --seed} ({@link SplitSeedOption#of}, as
 * in {@code train}). {@link ModelSession#testData} reads them.
 */
final class TestDataOptions {
    @Mixin
    DataOptions data;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", descriptionKey = "seed")
    long seed;

    @Mixin
    SplitSeedOption splitSeed;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /**
     * Refuses the options that would be ignored, before the model or any example is read. {@code --train-limit}
     * limits the training examples, which are never read here: {@code train} holds its test examples out before it
     * limits the rest, so the limit does not move them. {@code --seed} and {@code --split-seed} pick the examples
     * held out of a single {@code --csv} or {@code --images}; Fashion-MNIST's test split, {@code --test-csv} and
     * {@code --test-images} are taken whole. Both given, {@code --split-seed} splits, as in {@code train}.
     */
    void checkUsed() {
        if (data.trainLimit != null) {
            throw new IllegalArgumentException("--train-limit " + data.trainLimit + " limits the training examples, "
                    + "which eval and predict do not read (train holds the test examples out before it limits the "
                    + "rest); leave it out");
        }
        if (given("--seed")) {
            SplitSeedOption.checkHeldOut(data, "--seed", seed);
        }
        if (given(SplitSeedOption.NAME)) {
            SplitSeedOption.checkHeldOut(data, SplitSeedOption.NAME, splitSeed.value);
        }
    }

    private boolean given(String option) {
        return mixee.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** {@code --split-seed} when given, else {@code --seed}: the option that asks for a split seed here. */
    private String asking() {
        return given(SplitSeedOption.NAME) ? SplitSeedOption.NAME : "--seed";
    }

    /**
     * The seed that splits a single {@code --csv} or {@code --images} into the examples {@code train} trained on and
     * the ones it held out: {@code recorded}, the seed the model records, else {@code --split-seed} or {@code --seed}
     * ({@link SplitSeedOption#of}; default 0). A {@code --split-seed} or {@code --seed} other than the recorded one is
     * refused: it would hold out examples the model was trained on and score them as unseen. A model that records
     * none (trained with {@code --test-csv} or {@code --test-images}, on other data, by the library, by Spark on the
     * whole CSV, or resumed from a checkpoint that records none) cannot say which examples it saw: the split is made
     * from the seed given, and {@link #warnUnrecorded} says so.
     *
     * @param recorded the seed of the model's {@value ModelSession#HOLD_OUT_KEY}, or null when it records none
     * @param model    the model file, for the messages
     * @throws IllegalArgumentException naming the option and both seeds when the seed given differs from the
     *                                  recorded one
     */
    long holdOutSeed(Long recorded, Path model) {
        long asked = splitSeed.of(seed);
        if (!data.holdsOut() || recorded == null) {
            return asked;  // nothing is split (checkUsed refused a seed given here), or nothing recorded
        }
        if ((given("--seed") || given(SplitSeedOption.NAME)) && asked != recorded) {
            String examples = data.images != null ? "images" : "rows";
            String option = asking();
            throw new IllegalArgumentException(option + " " + asked + " is not the seed " + model + " held its test "
                    + examples + " out with, " + recorded + ": the " + examples + " " + option + " " + asked
                    + " holds out include some it was trained on; leave " + option + " out (or give " + recorded
                    + "), or score " + examples + " of your choice with " + (data.images != null ? "--test-images"
                    : "--test-csv"));
        }
        return splitSeed.of(seed, recorded);
    }

    /**
     * Warns in one line on stderr that the examples the seed given holds out of a single {@code --csv} or
     * {@code --images} may include some {@code model} was trained on, when it records no split; called once the test
     * examples are ready, so that a refusal is the one line printed.
     */
    void warnUnrecorded(Path model) {
        if (!data.holdsOut()) {
            return;
        }
        boolean images = data.images != null;
        String examples = images ? "images" : "rows";
        mixee.commandLine().getErr().println(DataFormatException.oneLine("backprop: warning: " + model
                + " records no hold-out split (" + ModelSession.HOLD_OUT_KEY + "), so the " + examples + " "
                + asking() + " " + splitSeed.of(seed) + " holds out of " + (images ? data.images : data.csv)
                + " may include some it was trained on; give " + (images ? "--test-images" : "--test-csv") + " with "
                + examples + " it never saw to score it on unseen data"));
        mixee.commandLine().getErr().flush();
    }

    /**
     * Refuses a single {@code --csv} or {@code --images} holding another number of examples than the split the model
     * records, or (when it records their digest) other examples: the same seed then holds other examples out, some of
     * which the model was trained on.
     *
     * @param recorded the split the model records, or null when it records none (nothing to compare)
     * @param made     the split made of the data, or null when nothing was held out
     * @param model    the model file, for the message
     * @throws IllegalArgumentException naming both counts, or both digests and the data
     */
    void checkSplitExamples(HoldOutSplit recorded, HoldOutSplit made, Path model) {
        if (recorded == null || made == null) {
            return;
        }
        boolean images = data.images != null;
        String examples = images ? "images" : "rows";
        recorded.checkSameExamples(made, images ? "--images " + data.images : "--csv " + data.csv, examples, model,
                "give the " + (images ? "folder" : "file") + " train read, or score " + examples + " of your choice "
                        + "with " + (images ? "--test-images" : "--test-csv"));
    }
}
