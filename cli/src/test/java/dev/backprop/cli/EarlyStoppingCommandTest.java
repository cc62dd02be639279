package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train's validation split and early stopping on a small CSV: the validation columns, a run that stops early and
 * saves exactly the weights of a run as long as its best epoch, resuming the watch, and the refusals.
 */
class EarlyStoppingCommandTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    /** train on the CSV with these settings unless {@code more} (option-value pairs, or a lone flag) gives others. */
    private CliRun train(String... more) {
        return CliRun.train(ThreeClassCsv.adamRun(csv, 40, dir.resolve("model.safetensors")), more);
    }

    private static List<String> rows(CliRun run) {
        return run.out().lines().filter(l -> l.matches(" *\\d+ .*")).toList();
    }

    @Test
    void theValidationColumnsFollowTheTestOnes() throws IOException {
        Path plot = dir.resolve("plot.png");
        CliRun run = train("--epochs", "2", "--validation", "0.25", "--plot", plot.toString()).ok();
        assertTrue(Files.size(plot) > 0, "the validation curves are plotted");
        assertTrue(run.out().contains("test_loss  test_acc  val_loss   val_acc"), run.out());
        assertTrue(run.out().contains("180 train, 60 validation (seed 0), 60 test"), run.out());
        List<String> rows = rows(run);
        assertEquals(2, rows.size(), run.out());
        for (String r : rows) {
            String[] f = r.trim().split(" +");
            assertEquals(8, f.length, r);
            double valAcc = Double.parseDouble(f[7]);
            assertTrue(valAcc > 0 && valAcc <= 1, r);
        }
        CliRun plain = train("--epochs", "2", "--out", dir.resolve("plain.safetensors").toString()).ok();
        assertFalse(plain.out().contains("val_loss"), plain.out());
        assertEquals(6, rows(plain).get(0).trim().split(" +").length);
    }

    @Test
    void aStoppedRunKeepsExactlyTheBestEpochsWeights() throws IOException {
        Path best = dir.resolve("best.safetensors");
        CliRun run = train("--validation", "0.2", "--patience", "2", "--min-delta", "0.01", "--keep-best", "--out",
                best.toString()).ok();
        List<String> rows = rows(run);
        int kept = (int) run.field("summary:", "best_epoch");
        assertTrue(rows.size() < 40 && kept < rows.size(), "stopped after " + rows.size() + ", best " + kept
                + "\n" + run.out());
        assertEquals(kept + 2, rows.size(), "patience 2 ends two epochs after the best");
        assertTrue(run.out().contains("(the weights of epoch " + kept + ", the best val_loss "), run.out());

        Path exact = dir.resolve("exact.safetensors");
        train("--validation", "0.2", "--epochs", Integer.toString(kept), "--out", exact.toString()).ok();
        assertArrayEquals(CliRun.tensorBytes(exact), CliRun.tensorBytes(best), "the best epoch's weights, bit for bit");
    }

    @Test
    void aResumedRunStopsWhereTheStraightOneDid() throws IOException {
        Path straight = dir.resolve("straight.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        CliRun whole = train("--validation", "0.2", "--patience", "2", "--min-delta", "0.01", "--out",
                straight.toString()).ok();
        int stop = rows(whole).size();
        train("--validation", "0.2", "--patience", "2", "--min-delta", "0.01", "--epochs", Integer.toString(stop - 1),
                "--checkpoint", ck.toString(), "--out", dir.resolve("half.safetensors").toString()).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun rest = train("--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertEquals(1, rows(rest).size(), "the watch goes on counting: " + rest.out());
        assertEquals(whole.field("summary:", "best_epoch"), rest.field("summary:", "best_epoch"));
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(resumed));

        CliRun changed = train("--resume", ck.toString(), "--patience", "5", "--out",
                dir.resolve("other.safetensors").toString());
        assertTrue(changed.err().contains("--patience 5: " + ck + " was trained with --patience 2"), changed.err());
    }

    /** A --keep-best checkpoint keeps the best epoch's weights, so a resumed run saves them even if it is earlier. */
    @Test
    void aResumedKeepBestRunSavesTheBestEpochFromBeforeTheCheckpoint() throws IOException {
        String[] opts = {"--validation", "0.2", "--patience", "2", "--min-delta", "0.01", "--keep-best"};
        Path straight = dir.resolve("straight.safetensors");
        CliRun whole = train(concat(opts, "--out", straight.toString())).ok();
        int stop = rows(whole).size();
        int best = (int) whole.field("summary:", "best_epoch");
        assertEquals(best + 2, stop);
        Path ck = dir.resolve("ck.safetensors");
        train(concat(opts, "--epochs", Integer.toString(best + 1), "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString())).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun rest = train("--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertEquals(1, rows(rest).size(), rest.out());
        assertTrue(rest.out().contains("(the weights of epoch " + best + ", the best val_loss "), rest.out());
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(resumed),
                "the kept weights came back from the file");

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", ck.toString(), "--csv", csv.toString());
        assertEquals(0, eval.code(), "the kept tensors do not confuse loading the checkpoint as a model: "
                + eval.err());
    }

    /**
     * Resuming a run that has nothing left to train, because early stopping ended it or it reached --epochs, trains
     * no further epoch and saves what the run saved: with --keep-best, the best epoch's weights.
     */
    @Test
    void aFinishedKeepBestRunResumesToItsBestWeights() throws IOException {
        String[] opts = {"--validation", "0.2", "--patience", "2", "--min-delta", "0.01", "--keep-best"};
        Path straight = dir.resolve("straight.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        CliRun whole = train(concat(opts, "--out", straight.toString(), "--checkpoint", ck.toString())).ok();
        int best = (int) whole.field("summary:", "best_epoch");
        CliRun again = train("--resume", ck.toString(), "--out", dir.resolve("again.safetensors").toString()).ok();
        assertEquals(0, rows(again).size(), "a stopped run trains no further: " + again.out());
        assertTrue(again.out().contains("stopped early after epoch " + (best + 2)), again.out());
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(dir.resolve("again.safetensors")));

        Path half = dir.resolve("half.safetensors");
        Path ck2 = dir.resolve("ck2.safetensors");
        train(concat(opts, "--epochs", Integer.toString(best + 1), "--checkpoint", ck2.toString(), "--out",
                half.toString())).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun done = train("--resume", ck2.toString(), "--epochs", Integer.toString(best + 1), "--out",
                resumed.toString()).ok();
        assertTrue(done.out().contains("nothing was left to train"), done.out());
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(resumed),
                "the best epoch's weights, not the last's");
    }

    /** A checkpoint whose early-stopping entry is malformed is refused in one line naming the entry. */
    @Test
    void aMalformedEarlyStoppingEntryIsRefused() throws IOException {
        Path ck = dir.resolve("ck.safetensors");
        train("--validation", "0.2", "--patience", "3", "--keep-best", "--epochs", "2", "--checkpoint", ck.toString(),
                "--out", dir.resolve("m.safetensors").toString()).ok();
        String[] bad = {"{\"validation\":0.2,\"patience\":3,\"best_epoch\":1}",
            "{\"validation\":0.2,\"patience\":3,\"best_epoch\":\"one\",\"epochs_since_best\":0}",
            "{\"validation\":[0.2],\"patience\":3}",
            "{\"validation\":0.2,\"patience\":3.5}",
            "{\"validation\":0.2,\"patience\":3,\"validation\":0.5}",
            "{\"validation\":0.2,\"patience\":3,\"keep_best\":true,\"best_epoch\":1,\"best\":0.5,"
                + "\"epochs_since_best\":0,\"kept_counters\":{\"0.x\":\"many\"}}"};
        for (String json : bad) {
            Path tampered = dir.resolve("tampered.safetensors");
            Files.write(tampered, CliRun.withMetadata(ck, ValidationOptions.STATE_KEY, json));
            CliRun run = train("--resume", tampered.toString(), "--out", dir.resolve("never.safetensors").toString());
            assertEquals(1, run.code(), json + ": " + run.err());
            assertTrue(run.err().startsWith("backprop: " + tampered + ": its " + ValidationOptions.STATE_KEY
                    + " entry "), json + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertFalse(Files.exists(dir.resolve("never.safetensors")));
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void badValuesAreRefusedBeforeAnythingIsWritten() {
        Path out = dir.resolve("never.safetensors");
        String o = out.toString();
        assertTrue(train("--patience", "3", "--out", o).err().contains("--patience 3 needs --validation FRACTION"));
        assertTrue(train("--keep-best", "--out", o).err().contains("--keep-best needs --validation FRACTION"));
        assertTrue(train("--validation", "1", "--out", o).err()
                .contains("--validation must be a fraction in (0, 1), got 1.0"));
        assertTrue(train("--validation", "0", "--out", o).err().contains("got 0.0"));
        assertTrue(train("--validation", "0.2", "--patience", "0", "--out", o).err()
                .contains("--patience must be at least 1 epoch, got 0"));
        assertTrue(train("--validation", "0.2", "--patience", "2", "--min-delta", "-0.5", "--out", o).err()
                .contains("--min-delta must be a finite number >= 0, got -0.5"));
        // --keep-best alone takes no --min-delta, as the help says.
        assertTrue(train("--validation", "0.2", "--keep-best", "--min-delta", "0.01", "--out", o).err()
                .contains("--min-delta 0.01 needs --patience N"));
        assertTrue(CliRun.of("train", "--help").ok().out().replaceAll("\\s+", " ").contains("counts as an "
                + "improvement for --patience (which it needs) and --keep-best"));
        CliRun spark = train("--validation", "0.2", "--spark", "local[2]", "--out", o);
        assertTrue(spark.err().contains("--spark runs do not take --validation"), spark.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void aSplitLeavingAClassUntrainedIsRefused() throws IOException {
        Path four = Files.writeString(dir.resolve("four.csv"), "1,1,1,1,0\n2,2,2,2,1\n3,3,3,3,2\n4,4,4,4,2\n");
        Path out = dir.resolve("never.safetensors");
        CliRun tiny = train("--csv", four.toString(), "--test-csv", four.toString(), "--validation", "0.75", "--out",
                out.toString());
        assertTrue(tiny.err().contains("--validation 0.75 leaves class ") && tiny.err().contains("with no training "
                + "example (of 4); give a smaller fraction or more data"), tiny.err());
        assertFalse(Files.exists(out));
    }
}
