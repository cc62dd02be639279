package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --init M} holds out of the data M split the examples M held out ({@link InitHoldOut}): M trained on all
 * the others, so any other hold-out of that data would test on examples its weights learned. {@code --split-seed}
 * asks for another hold-out; {@code --seed} alone changes the shuffles ({@link SplitSeedCommandsTest}).
 */
class InitHoldOutCommandsTest {
    @TempDir
    Path dir;

    private static String split(Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            return f.metadata().get(ModelSession.HOLD_OUT_KEY);
        }
    }

    private static String digest(Path csv) {
        return HoldOutSplit.digest(CsvData.readClassification(csv, 3));
    }

    /** Trains on {@code csv} for one epoch with {@code more} options, from {@code init} when not null. */
    private CliRun train(Path csv, Path init, Path out, String... more) {
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 1, out);
        if (init != null) {
            opts.put("--init", init.toString());
        }
        return CliRun.train(opts, more);
    }

    @Test
    void theRunTakesTheModelsSeedOnItsDataAndRefusesAnother() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path m = dir.resolve("m.safetensors");
        train(csv, null, m, "--seed", "7").ok();
        String recorded = "{\"seed\":7,\"examples\":300,\"sha256\":\"" + digest(csv) + "\"}";
        assertEquals(recorded, split(m));

        Path tuned = dir.resolve("tuned.safetensors");
        CliRun run = train(csv, m, tuned).ok();
        assertEquals("", run.err());
        assertTrue(run.out().contains("(240 train / 60 held-out test rows, seed 7)"), run.out());
        assertEquals(recorded, split(tuned), "the rows m held out, which eval scores by the file it writes");
        Path again = dir.resolve("again.safetensors");
        train(csv, m, again, "--seed", "7").ok();
        assertEquals(recorded, split(again));

        Path never = dir.resolve("never.safetensors");
        Path checkpoint = dir.resolve("never-checkpoint.safetensors");
        for (String seed : new String[] {"0", "3"}) {
            CliRun refused = train(csv, m, never, "--split-seed", seed, "--checkpoint", checkpoint.toString());
            assertRefused(refused, "--split-seed " + seed + " holds out other rows of --csv "
                    + csv + " than --init " + m + " held out of the same 300 with seed 7, some of them trained on: "
                    + "leave --split-seed out (or give 7) to hold out the rows it held out (--seed alone changes the "
                    + "shuffles), or give rows it never trained on as --test-csv (then every one of --csv " + csv
                    + " trains)");
            assertEquals("", refused.out(), "refused before the run's start lines");
        }
        assertFalse(Files.exists(never));
        assertFalse(Files.exists(checkpoint));
        // rows it never held out are no question: a test CSV is taken whole, with any seed
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        train(csv, m, never, "--seed", "3", "--test-csv", test.toString()).ok();
        assertNull(split(never));

        // a model recording the count alone is held to it: the same count is its data
        Path countOnly = dir.resolve("count-only.safetensors");
        Files.write(countOnly, CliRun.withMetadata(m, ModelSession.HOLD_OUT_KEY, "{\"seed\":7,\"examples\":300}"));
        assertRefused(train(csv, countOnly, dir.resolve("no.safetensors"), "--split-seed", "3"), "--split-seed 3 "
                + "holds out other rows of --csv " + csv + " than --init " + countOnly + " held out of the same 300 "
                + "(by their count: it records no digest) with seed 7, some of them trained on: leave --split-seed "
                + "out (or give 7) to hold out the rows it held out (--seed alone changes the shuffles), or give rows "
                + "it never trained on as --test-csv (then every one of --csv " + csv + " trains)");
        assertFalse(Files.exists(dir.resolve("no.safetensors")));
    }

    @Test
    void anOnnxExportGivesItsSplitAsTheModelDoes() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path m = dir.resolve("m.safetensors");
        train(csv, null, m, "--seed", "7").ok();
        Path onnx = dir.resolve("m.onnx");
        CliRun.of("export", "--model", m.toString(), "--onnx", onnx.toString()).ok();

        Path tuned = dir.resolve("tuned.safetensors");
        CliRun run = train(csv, onnx, tuned).ok();
        assertEquals("", run.err());
        assertEquals(split(m), split(tuned), "the rows the exported model held out");
        Path never = dir.resolve("never.safetensors");
        CliRun refused = train(csv, onnx, never, "--split-seed", "3");
        assertRefused(refused, "--split-seed 3 holds out other rows of --csv " + csv + " than --init " + onnx
                + " held out of the same 300 with seed 7, some of them trained on: leave --split-seed out (or give 7) "
                + "to hold out the rows it held out (--seed alone changes the shuffles), or give rows it never "
                + "trained on as --test-csv (then every one of --csv " + csv + " trains)");
        assertEquals("", refused.out());
        assertFalse(Files.exists(never));
    }

    @Test
    void otherDataIsSaidInAWarning() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path m = dir.resolve("m.safetensors");
        train(csv, null, m, "--seed", "7").ok();
        String ours = HoldOutSplit.shown(digest(csv));

        // the same 300 rows and 10 more: which of them m trained on cannot be told from its split
        Path grown = ThreeClassCsv.write(dir.resolve("grown.csv"), 310);
        Path tuned = dir.resolve("tuned.safetensors");
        CliRun run = train(grown, m, tuned, "--split-seed", "3").ok();
        assertEquals("backprop: warning: --init " + m + " held its test rows out of other data (300 rows, SHA-256 "
                + ours + "...; --csv " + grown + " has 310 rows, SHA-256 " + HoldOutSplit.shown(digest(grown))
                + "...), so the rows seed 3 holds out may include some it was trained on; give --test-csv with rows "
                + "it never saw to test on unseen data", run.err().strip());
        assertEquals("{\"seed\":3,\"examples\":310,\"sha256\":\"" + digest(grown) + "\"}", split(tuned));

        // the same count of other rows: the digest tells them apart; --seed left out takes m's all the same
        List<String> lines = Files.readAllLines(csv);
        List<String> moved = new ArrayList<>(lines.subList(1, 300));
        moved.add(lines.get(0));
        Path reordered = Files.write(dir.resolve("reordered.csv"), moved);
        CliRun other = train(reordered, m, dir.resolve("other.safetensors")).ok();
        assertEquals("backprop: warning: --init " + m + " held its test rows out of other data (300 rows, SHA-256 "
                + ours + "...; --csv " + reordered + " has 300 rows, SHA-256 " + HoldOutSplit.shown(digest(reordered))
                + "...), so the rows seed 7 holds out may include some it was trained on; give --test-csv with rows "
                + "it never saw to test on unseen data", other.err().strip());

        // on other data m's seed says nothing: --seed splits it, as without --init
        Path shuffled = dir.resolve("shuffled.safetensors");
        CliRun reshuffled = train(grown, m, shuffled, "--seed", "3").ok();
        assertTrue(reshuffled.err().contains("so the rows seed 3 holds out may include some"), reshuffled.err());
        assertEquals("{\"seed\":3,\"examples\":310,\"sha256\":\"" + digest(grown) + "\"}", split(shuffled));
        Path fresh3 = dir.resolve("fresh3.safetensors");
        train(grown, null, fresh3, "--seed", "3").ok();
        assertEquals(split(fresh3), split(shuffled));

        // a model that records no split leaves the split to --seed, as a fresh network does
        Path whole = dir.resolve("whole.safetensors");
        train(csv, null, whole, "--test-csv", ThreeClassCsv.write(dir.resolve("t.csv"), 50).toString()).ok();
        Path fromWhole = dir.resolve("from-whole.safetensors");
        CliRun fresh = train(csv, whole, fromWhole, "--seed", "3").ok();
        assertEquals("", fresh.err());
        assertEquals("{\"seed\":3,\"examples\":300,\"sha256\":\"" + digest(csv) + "\"}", split(fromWhole));
    }
}
