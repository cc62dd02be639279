package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train's {@code --schedule plateau} and {@code --monitor} on a small CSV: the rate lines under the table, a resumed
 * run that equals the straight one, early stopping on the validation accuracy, and the refusals.
 */
class PlateauCommandTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    private CliRun train(String... more) {
        return CliRun.train(ThreeClassCsv.adamRun(csv, 16, dir.resolve("model.safetensors")), more);
    }

    private static List<String> rateLines(CliRun run) {
        return run.out().lines().filter(l -> l.startsWith("# lr ")).toList();
    }

    @Test
    void theRateFallsByGammaOnAPlateauAndEachFallIsShown() {
        CliRun run = train("--validation", "0.2", "--schedule", "plateau", "--plateau-patience", "0", "--gamma",
                "0.5").ok();
        List<String> lines = rateLines(run);
        assertFalse(lines.isEmpty(), "patience 0 over 16 epochs meets a plateau:\n" + run.out());
        double rate = 0.05;
        for (String l : lines) {
            String[] f = l.split(" ");  // # lr FROM -> TO after epoch N: val_loss on a plateau
            assertEquals(rate, Double.parseDouble(f[2]), l);
            assertEquals(rate * 0.5, Double.parseDouble(f[4]), l);
            assertTrue(l.endsWith(": val_loss on a plateau"), l);
            rate *= 0.5;
        }
        CliRun steady = train("--validation", "0.2", "--out", dir.resolve("steady.safetensors").toString()).ok();
        assertTrue(rateLines(steady).isEmpty(), steady.out());
    }

    @Test
    void aResumedPlateauRunEqualsTheStraightOne() throws IOException {
        String[] opts = {"--validation", "0.2", "--schedule", "plateau", "--plateau-patience", "1", "--gamma", "0.3"};
        Path straight = dir.resolve("straight.safetensors"), ck = dir.resolve("ck.safetensors");
        CliRun whole = train(with(opts, "--out", straight.toString())).ok();
        train(with(opts, "--epochs", "8", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString())).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun rest = train("--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertArrayEquals(CliRun.tensorBytes(straight), CliRun.tensorBytes(resumed));
        List<String> after = rateLines(whole).stream()
                .filter(l -> Integer.parseInt(l.replaceAll(".* after epoch (\\d+):.*", "$1")) > 8).toList();
        assertEquals(after, rateLines(rest), whole.out() + "\n" + rest.out());

        CliRun changed = train("--resume", ck.toString(), "--plateau-patience", "3", "--out",
                dir.resolve("other.safetensors").toString());
        assertTrue(changed.err().contains("--plateau-patience 3: " + ck + " was trained with --plateau-patience 1"),
                changed.err());
        CliRun watched = train("--resume", ck.toString(), "--monitor", "val_acc", "--out",
                dir.resolve("other.safetensors").toString());
        assertTrue(watched.err().contains("--monitor val_acc: " + ck + " was trained with --monitor val_loss"),
                watched.err());
    }

    @Test
    void earlyStoppingMayWatchTheValidationAccuracy() {
        CliRun run = train("--validation", "0.2", "--patience", "2", "--keep-best", "--monitor", "val_acc",
                "--epochs", "40").ok();
        int kept = (int) run.field("summary:", "best_epoch");
        // Keras's rule with min_delta 0: the best epoch is the first whose val_acc (the 8th column) beats all before.
        double[] valAcc = run.out().lines().filter(l -> l.matches(" *\\d+ .*"))
                .mapToDouble(l -> Double.parseDouble(l.trim().split(" +")[7])).toArray();
        int first = 0;
        for (int i = 1; i < valAcc.length; i++) {
            first = valAcc[i] > valAcc[first] ? i : first;
        }
        assertEquals(first + 1, kept, run.out());
        if (kept < valAcc.length) {
            assertTrue(run.out().contains("(the weights of epoch " + kept + ", the best val_acc "), run.out());
        }
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingIsWritten() {
        Path out = dir.resolve("never.safetensors");
        String o = out.toString();
        assertTrue(train("--schedule", "plateau", "--out", o).err().contains("--schedule plateau needs --validation "
                + "FRACTION"));
        assertTrue(train("--validation", "0.2", "--schedule", "plateau", "--gamma", "1.5", "--out", o).err()
                .contains("--gamma 1.5: --schedule plateau multiplies the rate by it on a plateau, so it must be >= 0 "
                        + "and < 1"));
        assertTrue(train("--validation", "0.2", "--schedule", "plateau", "--plateau-patience", "-1", "--out", o)
                .err().contains("--plateau-patience must be at least 0 epochs, got -1"));
        assertTrue(train("--validation", "0.2", "--monitor", "val_auc", "--out", o).err()
                .contains("--monitor val_auc: choose val_loss or val_acc"));
        assertTrue(train("--monitor", "val_acc", "--out", o).err().contains("--monitor val_acc needs --validation"));
        CliRun regression = train("--validation", "0.2", "--patience", "2", "--monitor", "val_acc", "--task",
                "regression", "--layers", "4-1", "--out", o);
        assertTrue(regression.err().contains("--monitor val_acc needs a classification task"), regression.err());
        CliRun spark = train("--schedule", "plateau", "--spark", "local[2]", "--out", o);
        // Not "needs --validation", which a Spark run refuses as well.
        assertTrue(spark.err().contains("--spark runs do not take --schedule plateau: it follows a validation "
                + "value, which Spark training does not compute"), spark.err());
        assertFalse(Files.exists(out));
    }

    /**
     * The settings of a schedule not chosen, and a {@code --monitor} that nothing watches, would be ignored: each is
     * refused by name, with its value.
     */
    @Test
    void settingsOfAScheduleNotChosenAndAnUnwatchedMonitorAreRefused() {
        Path out = dir.resolve("never.safetensors");
        String o = out.toString();
        String[][] cases = {
                {"--plateau-patience 4 applies only to --schedule plateau, and the schedule is none",
                        "--validation", "0.2", "--plateau-patience", "4"},
                {"--step-size 3 applies only to --schedule step, and the schedule is none", "--step-size", "3"},
                {"--gamma 0.5 applies only to --schedule step or plateau, and the schedule is cosine",
                        "--schedule", "cosine", "--gamma", "0.5"},
                {"--step-size 3 applies only to --schedule step, and the schedule is plateau",
                        "--validation", "0.2", "--schedule", "plateau", "--step-size", "3"},
                {"--plateau-patience 1 applies only to --schedule plateau, and the schedule is step",
                        "--schedule", "step", "--plateau-patience", "1"},
        };
        for (String[] c : cases) {
            CliRun r = train(with(java.util.Arrays.copyOfRange(c, 1, c.length), "--out", o));
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: " + c[0] + ": leave it out or choose its schedule", r.err().trim());
        }
        for (String monitor : new String[] {"val_loss", "val_acc"}) {
            // Nothing watches it: the run would judge nothing by it.
            CliRun r = train("--validation", "0.2", "--monitor", monitor, "--out", o);
            assertEquals("backprop: --monitor " + monitor + " applies only to --patience, --keep-best and --schedule "
                    + "plateau, and none is given: leave it out or give one", r.err().trim());
        }
        CliRun spark = train("--monitor", "val_loss", "--spark", "local[2]", "--out", o);
        assertTrue(spark.err().contains("--spark runs do not take --monitor: it applies to training on this "
                + "machine"), spark.err());
        assertFalse(Files.exists(out));
        // Their schedule's own settings, at their defaults or not, are taken.
        train("--schedule", "step", "--step-size", "5", "--gamma", "0.5", "--epochs", "1").ok();
        train("--validation", "0.2", "--schedule", "plateau", "--plateau-patience", "2", "--gamma", "0.1", "--epochs",
                "1", "--out", dir.resolve("plateau.safetensors").toString()).ok();
    }

    private static String[] with(String[] base, String... more) {
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
