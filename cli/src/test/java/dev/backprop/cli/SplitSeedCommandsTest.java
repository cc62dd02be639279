package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.io.SafeTensorsFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --split-seed}: the seed of the hold-out split of a single {@code --csv} or {@code --images}, apart from
 * {@code --seed} ({@link SplitSeedOption}). Left out it is {@code --seed}, byte for byte; given, the split and the
 * recorded {@code backprop.holdout} follow it while the weights and shuffles follow {@code --seed}; {@code --init}
 * keeps the model's split whatever {@code --seed} says; {@code --resume} takes the checkpoint's; {@code eval} and
 * {@code predict} take it where they take {@code --seed}; each refusal comes before anything is written.
 */
class SplitSeedCommandsTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    private CliRun train(Path out, String... more) {
        return CliRun.train(ThreeClassCsv.adamRun(csv, 2, out), more);
    }

    private static String metadata(Path file, String key) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            return f.metadata().get(key);
        }
    }

    /** What {@code train} records of all of {@link #csv}'s rows split with {@code seed}. */
    private String split(long seed) {
        Dataset all = CsvData.readClassification(csv, 3);
        return "{\"seed\":" + seed + ",\"examples\":300,\"sha256\":\"" + HoldOutSplit.digest(all) + "\"}";
    }

    /** The labels of the rows {@link HoldOut#split} holds out of {@link #csv} with {@code seed}, in order. */
    private List<Integer> heldOutLabels(long seed) {
        Dataset test = HoldOut.split(CsvData.readClassification(csv, 3), DataOptions.HOLD_OUT, seed)[1];
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            labels.add(test.label(i));
        }
        return labels;
    }

    private static List<Integer> labels(CliRun predict) {
        List<Integer> labels = new ArrayList<>();
        Matcher m = Pattern.compile("\"label\":(\\d+)").matcher(predict.out());
        while (m.find()) {
            labels.add(Integer.parseInt(m.group(1)));
        }
        return labels;
    }

    @Test
    void leftOutOrEqualToSeedItWritesTheSameFile() throws IOException {
        Path plain = dir.resolve("plain.safetensors");
        Path same = dir.resolve("same.safetensors");
        CliRun a = train(plain, "--seed", "3").ok();
        CliRun b = train(same, "--seed", "3", "--split-seed", "3").ok();
        assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(same));
        assertEquals(startLines(a), startLines(b));
        assertEquals(3, startLines(a).size(), a.out());
    }

    /** The start-up lines that say the data, the model and the training (the rest has timings). */
    private static List<String> startLines(CliRun run) {
        return run.out().lines().filter(l -> l.startsWith("data:") || l.startsWith("model:")
                || l.startsWith("train:")).toList();
    }

    @Test
    void theSplitFollowsSplitSeedAndTheRestFollowsSeed() throws IOException {
        Path apart = dir.resolve("apart.safetensors");
        CliRun run = train(apart, "--seed", "3", "--split-seed", "7").ok();
        assertTrue(run.out().contains("(240 train / 60 held-out test rows, seed 7)"), run.out());
        assertTrue(run.out().contains("weights seed 3"), run.out());
        assertEquals(split(7), metadata(apart, ModelSession.HOLD_OUT_KEY));
        assertTrue(metadata(apart, "backprop.training").endsWith(", seed 3"), metadata(apart, "backprop.training"));

        // the same rows as seed 7 alone trains on, from other weights and shuffles
        Path seven = dir.resolve("seven.safetensors");
        train(seven, "--seed", "7").ok();
        assertEquals(metadata(seven, ModelSession.HOLD_OUT_KEY), metadata(apart, ModelSession.HOLD_OUT_KEY));
        assertFalse(Arrays.equals(CliRun.tensorBytes(seven), CliRun.tensorBytes(apart)));

        // eval and predict find the rows seed 7 held out by the record, or by --split-seed 7 given again
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", apart.toString(), "--csv", csv.toString()).ok();
        assertEquals("", eval.err());
        assertEquals(eval.out(), CliRun.of("eval", "--backend", "cpu", "--model", apart.toString(), "--csv",
                csv.toString(), "--split-seed", "7").ok().out());
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", apart.toString(), "--csv",
                csv.toString(), "--index", "0..59", "--json", "--split-seed", "7").ok();
        assertEquals(heldOutLabels(7), labels(predict));
    }

    @Test
    void evalAndPredictRefuseAnotherSplitSeedNamingBoth() throws IOException {
        Path model = dir.resolve("m.safetensors");
        train(model, "--seed", "3", "--split-seed", "7").ok();
        Path none = dir.resolve("none.csv");  // never read: the seeds are compared first
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    none.toString(), "--split-seed", "3"), "--split-seed 3 is not the seed " + model + " held its "
                    + "test rows out with, 7: the rows --split-seed 3 holds out include some it was trained on; leave "
                    + "--split-seed out (or give 7), or score rows of your choice with --test-csv");
            // the training run's --seed is not the split's
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    none.toString(), "--seed", "3"), "--seed 3 is not the seed " + model + " held its test rows out "
                    + "with, 7: the rows --seed 3 holds out include some it was trained on; leave --seed out (or "
                    + "give 7), or score rows of your choice with --test-csv");
            // as in train, --split-seed given decides over --seed
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    none.toString(), "--seed", "7", "--split-seed", "3"), "--split-seed 3 is not the seed " + model
                    + " held its test rows out with, 7: the rows --split-seed 3 holds out include some it was trained "
                    + "on; leave --split-seed out (or give 7), or score rows of your choice with --test-csv");
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-csv",
                    none.toString(), "--split-seed", "7"), "--split-seed 7 picks the examples held out of a single "
                    + "--csv or --images, and --test-csv is taken whole; leave it out");
        }
        CliRun both = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--seed", "7", "--split-seed", "7").ok();
        assertEquals("", both.err());
        // train's options copied: --seed 3 seeded its shuffles, --split-seed 7 its split, which eval takes
        CliRun copied = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--seed", "3", "--split-seed", "7").ok();
        assertEquals("", copied.err());
        assertEquals(both.out(), copied.out());
        CliRun row = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row", "0,0,0,0",
                "--split-seed", "7");
        assertEquals(CommandLine.ExitCode.USAGE, row.code(), row.err());
        assertTrue(row.err().contains("--row and --split-seed exclude each other"), row.err());

        // a model that records no split is split by the seed given, with the warning naming it
        Path whole = dir.resolve("whole.safetensors");
        train(whole, "--test-csv", ThreeClassCsv.write(dir.resolve("t.csv"), 50).toString()).ok();
        CliRun unrecorded = CliRun.of("eval", "--backend", "cpu", "--model", whole.toString(), "--csv",
                csv.toString(), "--split-seed", "5").ok();
        assertTrue(unrecorded.out().contains("(240 train / 60 held-out test rows, seed 5)"), unrecorded.out());
        assertEquals("backprop: warning: " + whole + " records no hold-out split (" + ModelSession.HOLD_OUT_KEY
                + "), so the rows --split-seed 5 holds out of " + csv + " may include some it was trained on; give "
                + "--test-csv with rows it never saw to score it on unseen data", unrecorded.err().strip());
    }

    @Test
    void fineTuningOnTheModelsSplitMayChangeTheShuffles() throws IOException {
        Path m = dir.resolve("m.safetensors");
        train(m, "--seed", "7").ok();
        Path same = dir.resolve("same.safetensors");
        train(same, "--init", m.toString()).ok();
        Path reshuffled = dir.resolve("reshuffled.safetensors");
        CliRun run = train(reshuffled, "--init", m.toString(), "--seed", "3").ok();
        assertEquals("", run.err());
        assertTrue(run.out().contains("(240 train / 60 held-out test rows, seed 7)"), run.out());
        assertEquals(split(7), metadata(reshuffled, ModelSession.HOLD_OUT_KEY), "the rows m held out");
        assertTrue(metadata(reshuffled, "backprop.training").endsWith(", seed 3"));
        assertFalse(Arrays.equals(CliRun.tensorBytes(same), CliRun.tensorBytes(reshuffled)), "other shuffles");
        // the model's split seed given again is the same run
        Path again = dir.resolve("again.safetensors");
        train(again, "--init", m.toString(), "--seed", "3", "--split-seed", "7").ok();
        assertArrayEquals(Files.readAllBytes(reshuffled), Files.readAllBytes(again));
        // and another is refused before anything is written (InitHoldOutCommandsTest has the message)
        Path never = dir.resolve("never.safetensors");
        CliRun refused = train(never, "--init", m.toString(), "--seed", "3", "--split-seed", "3");
        assertEquals(Main.EXIT_ERROR, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().startsWith("backprop: --split-seed 3 holds out other rows of --csv "), refused.err());
        assertEquals("", refused.out());
        assertFalse(Files.exists(never));
    }

    @Test
    void aResumedRunSplitsByTheCheckpointsSplitSeed() throws IOException {
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 4, dir.resolve("straight.safetensors"));
        CliRun.train(opts, "--seed", "3", "--split-seed", "7").ok();
        Path ck = dir.resolve("ck.safetensors");
        CliRun.train(opts, "--seed", "3", "--split-seed", "7", "--epochs", "2", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString()).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun rest = CliRun.train(opts, "--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertTrue(rest.out().contains("(240 train / 60 held-out test rows, seed 7)"), rest.out());
        assertArrayEquals(CliRun.tensorBytes(dir.resolve("straight.safetensors")), CliRun.tensorBytes(resumed));
        assertEquals(split(7), metadata(resumed, ModelSession.HOLD_OUT_KEY));
        Path given = dir.resolve("given.safetensors");
        CliRun.train(opts, "--resume", ck.toString(), "--split-seed", "7", "--out", given.toString()).ok();
        assertArrayEquals(CliRun.tensorBytes(resumed), CliRun.tensorBytes(given));

        Path never = dir.resolve("never.safetensors");
        CliRun other = CliRun.train(opts, "--resume", ck.toString(), "--split-seed", "3", "--out", never.toString());
        assertRefused(other, "--split-seed 3: " + ck + " was trained with --split-seed 7; leave --split-seed out to "
                + "resume with it, or start a new run without --resume");
        assertEquals("", other.out());
        assertFalse(Files.exists(never));
    }

    @Test
    void whereNothingIsHeldOutItIsRefusedBeforeAnythingIsWritten() {
        Path never = dir.resolve("never.safetensors");
        Path test = dir.resolve("never-read.csv");
        assertRefused(train(never, "--split-seed", "5", "--test-csv", test.toString()), "--split-seed 5 picks the "
                + "examples held out of a single --csv or --images, and --test-csv is taken whole; leave it out");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--split-seed", "5", "--data", dir.toString(), "--out",
                never.toString()), "--split-seed 5 picks the examples held out of a single --csv or --images, and "
                + "Fashion-MNIST's test split is taken whole; leave it out");
        CliRun spark = train(never, "--split-seed", "5", "--spark", "local[2]");
        assertEquals(CommandLine.ExitCode.USAGE, spark.code(), spark.err());
        assertTrue(spark.err().contains("--spark runs do not take --split-seed: it applies to training on this "
                + "machine"), spark.err());
        assertFalse(Files.exists(never));
    }
}
