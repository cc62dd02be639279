package dev.backprop.cli;

import dev.backprop.data.DataFormatException;
import dev.backprop.model.Task;
import dev.backprop.onnx.ModelFormats;

import java.io.IOException;

/**
 * The hold-out split a {@code train --init} model records ({@value ModelSession#HOLD_OUT_KEY}), held against the
 * split the run makes of a single {@code --csv} or {@code --images}. A model that held its test examples out of that
 * data trained on all the others, so a run that holds out another part of it would test (and report, and record for
 * {@code eval}) examples its starting weights learned. So on the same data ({@link HoldOutSplit#sameData}: its count
 * and, when both record it, its digest) the run splits by the seed of the model's split when {@code --split-seed} is
 * left out, whatever {@code --seed} says, which holds out the same examples; {@code --seed} left out takes it too, and
 * {@code --seed} given changes the shuffles alone. Another {@code --split-seed} on the same data is refused once the
 * data is read, before training. Other data (other rows, a file grown or cut) is split as without {@code --init}
 * ({@link SplitSeedOption#of}), with a one-line warning, since which of these examples it saw cannot be told. An ONNX
 * model is held to the split its metadata properties record, which {@code export} copies from the Backprop model. A
 * model that records no split (trained with {@code --test-csv}, on Fashion-MNIST, by the library, or an ONNX file from
 * elsewhere) leaves the split to {@code --split-seed} and {@code --seed} as for a fresh network.
 */
final class InitHoldOut {
    private InitHoldOut() {
    }

    /**
     * The split {@code cmd.init} records when the run holds its test examples out, else null; {@code --seed} left out
     * takes its seed. Called before the data loads, which {@link #load} splits.
     *
     * @throws dev.backprop.backend.BackpropException when the recorded split cannot be read, naming the file
     * @throws dev.backprop.io.ModelFileException      when the file is not a usable model of either format
     */
    static HoldOutSplit settleSeed(TrainCommand cmd) throws IOException {
        if (cmd.init == null || !cmd.data.holdsOut()) {
            return null;
        }
        String value = ModelFormats.metadata(cmd.init).get(ModelSession.HOLD_OUT_KEY);
        if (value == null) {
            return null;
        }
        HoldOutSplit recorded = HoldOutSplit.parse(cmd.init, value);
        if (!cmd.spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
            cmd.seed = recorded.seed();
        }
        return recorded;
    }

    /**
     * Loads the data split by {@link SplitSeedOption#of}, with {@code recorded} (the {@link #settleSeed} result) as
     * the model's seed when it is of the same data: its seed says which examples it held out of that data alone, so
     * other data is split by {@code --split-seed} or {@code --seed} as without {@code --init}. Which data it is can
     * be told once it is read, so data the model's seed split that turns out other is read again.
     */
    static DataOptions.Loaded load(TrainCommand cmd, Task t, HoldOutSplit recorded) {
        Long modelSeed = recorded == null ? null : recorded.seed();
        DataOptions.Loaded d = cmd.data.load(t, cmd.splitSeed.of(cmd.seed, modelSeed));
        if (recorded != null && d.holdOut() != null && !recorded.sameData(d.holdOut())
                && d.holdOut().seed() != cmd.splitSeed.of(cmd.seed)) {
            d = cmd.data.load(t, cmd.splitSeed.of(cmd.seed));
        }
        return d;
    }

    /**
     * Refuses the run's split {@code d.holdOut()} when it is of the same data as {@code recorded} (the
     * {@link #settleSeed} result) with another seed (a {@code --split-seed} given), and warns on stderr when
     * {@code recorded} is of other data.
     *
     * @throws IllegalArgumentException naming both seeds, the data and the model
     */
    static void check(TrainCommand cmd, HoldOutSplit recorded, DataOptions.Loaded d) {
        if (recorded == null || d.holdOut() == null) {
            return;
        }
        boolean images = cmd.data.images != null;
        String unit = images ? "images" : "rows";
        String data = images ? "--images " + cmd.data.images : "--csv " + cmd.data.csv;
        String testData = images ? "--test-images" : "--test-csv";
        HoldOutSplit made = d.holdOut();
        if (recorded.sameData(made)) {
            if (made.seed() != recorded.seed()) {
                String option = SplitSeedOption.NAME;
                throw new IllegalArgumentException(DataFormatException.oneLine(option + " " + made.seed() + " holds "
                        + "out other " + unit + " of " + data + " than --init " + cmd.init + " held out of the same "
                        + made.examples() + (recorded.sha256() == null ? " (by their count: it records no digest)"
                        : "") + " with seed " + recorded.seed() + ", some of them trained on: leave " + option
                        + " out (or give " + recorded.seed() + ") to hold out the " + unit + " it held out (--seed "
                        + "alone changes the shuffles), or give " + unit + " it never trained on as " + testData
                        + " (then every one of " + data + " trains)"));
            }
            return;
        }
        cmd.spec.commandLine().getErr().println(DataFormatException.oneLine("backprop: warning: --init " + cmd.init
                + " held its test " + unit + " out of other data (" + describe(recorded, unit) + "; " + data + " has "
                + describe(made, unit) + "), so the " + unit + " seed " + made.seed() + " holds out may include some "
                + "it was trained on; give " + testData + " with " + unit + " it never saw to test on unseen data"));
        cmd.spec.commandLine().getErr().flush();
    }

    /** {@code 300 rows, SHA-256 1a2b3c4d5e6f...}, or the count alone when no digest is recorded. */
    private static String describe(HoldOutSplit split, String unit) {
        return split.examples() + " " + unit + (split.sha256() == null ? "" : ", SHA-256 "
                + HoldOutSplit.shown(split.sha256()) + "...");
    }
}
