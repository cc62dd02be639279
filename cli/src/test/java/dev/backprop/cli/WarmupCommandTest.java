package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train's {@code --warmup} on a small CSV (quick): in force, resumed exactly, and refused when it would be ignored. */
class WarmupCommandTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    /** The quick Adam run on the CSV at lr 0.01 for 5 epochs, unless {@code more} (option-value pairs) says else. */
    private CliRun train(String... more) {
        java.util.Map<String, String> opts = ThreeClassCsv.adamRun(csv, 5, dir.resolve("model.safetensors"));
        opts.put("--lr", "0.01");
        return CliRun.train(opts, more);
    }

    /** A run interrupted after epoch 3 (past a 2-epoch warmup) and resumed ends with the uninterrupted run's bytes. */
    @Test
    void aResumedWarmupRunEndsWithTheSameBytesAsAnUninterruptedOne() throws IOException {
        String[][] settings = {
                {"--warmup", "2", "--schedule", "step", "--step-size", "1", "--gamma", "0.5"},
                {"--warmup", "2", "--warmup-method", "constant", "--warmup-factor", "0.1"},
        };
        for (int i = 0; i < settings.length; i++) {
            String[] s = settings[i];
            Path straight = dir.resolve("straight" + i + ".safetensors");
            Path ck = dir.resolve("ck" + i + ".safetensors");
            Path resumed = dir.resolve("resumed" + i + ".safetensors");
            CliRun whole = train(with(s, "--out", straight.toString())).ok();
            train(with(s, "--epochs", "3", "--checkpoint", ck.toString(), "--out",
                    dir.resolve("half" + i + ".safetensors").toString())).ok();
            // The checkpoint's warmup is taken for the options left out.
            CliRun rest = train("--resume", ck.toString(), "--out", resumed.toString()).ok();
            assertTrue(rest.out().contains("epochs 4..5"), rest.out());
            assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed), String.join(" ", s));
            assertTrue(whole.out().contains(s[3].equals("step") ? "adam lr 0.01 schedule step warmup 2 linear from 0.01"
                    : "adam lr 0.01 warmup 2 constant from 0.1"), whole.out());
        }
    }

    /** The warmup is in force: a run with it ends elsewhere than one without, and resuming it without is refused. */
    @Test
    void theWarmupChangesTheRunAndIsSettledOnResume() throws IOException {
        Path plain = dir.resolve("plain.safetensors");
        Path warm = dir.resolve("warm.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        train("--out", plain.toString()).ok();
        train("--warmup", "3", "--out", warm.toString(), "--checkpoint", ck.toString()).ok();
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(warm)));
        String[][] cases = {
                {"--warmup", "1", "1", "3"},
                {"--warmup-factor", "0.1", "0.1", "0.01"},
                {"--warmup-method", "constant", "constant", "linear"},
        };
        for (String[] c : cases) {
            CliRun r = train("--resume", ck.toString(), "--epochs", "6", c[0], c[1]);
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: " + c[0] + " " + c[2] + ": " + ck + " was trained with " + c[0] + " " + c[3]
                    + "; leave " + c[0] + " out to resume with it, or start a new run without --resume",
                    r.err().trim());
        }
        Path none = dir.resolve("none.safetensors");
        train("--epochs", "2", "--checkpoint", none.toString(), "--out", dir.resolve("n.safetensors").toString()).ok();
        CliRun added = train("--resume", none.toString(), "--warmup", "1");
        assertEquals("backprop: --warmup 1: " + none + " was trained with --warmup 0; leave --warmup out to resume "
                + "with it, or start a new run without --resume", added.err().trim());
        Path cosine = dir.resolve("cosine.safetensors");
        train("--schedule", "cosine", "--warmup", "1", "--epochs", "3", "--checkpoint", cosine.toString(), "--out",
                dir.resolve("c.safetensors").toString()).ok();
        CliRun longer = train("--resume", cosine.toString(), "--epochs", "4");
        assertTrue(longer.err().contains("--epochs 4: " + cosine + " was trained with --epochs 3 (the cosine "
                + "schedule anneals over the whole run after the warmup)"), longer.err());
    }

    /**
     * A checkpoint whose warmup or cosine length is not a whole number of epochs is refused naming the file and the
     * setting, not as a --warmup or --epochs the user never gave.
     */
    @Test
    void aCheckpointsBadWarmupEpochsAreRefusedNamingTheFile() throws IOException {
        Path ck = dir.resolve("ck.safetensors");
        train("--schedule", "cosine", "--warmup", "1", "--epochs", "3", "--checkpoint", ck.toString(), "--out",
                dir.resolve("c.safetensors").toString()).ok();
        refusedNamingTheFile(ck, new String[][] {
                {"warmup_epochs", "-3", "schedule warmup_epochs is -3 in the checkpoint, not a whole number of epochs "
                        + "from 1 to 2147483647"},
                {"warmup_epochs", "2.5", "schedule warmup_epochs is 2.5 in the checkpoint"},
                {"warmup_epochs", "3e9", "schedule warmup_epochs is 3e9 in the checkpoint"},
                {"t_max", "0", "schedule t_max is 0 in the checkpoint"},
                {"t_max", "2147483647", "schedule t_max 2147483647 and warmup_epochs 1 in the checkpoint add up to "
                        + "more than 2147483647 epochs"},
        });
    }

    /**
     * A checkpoint whose warmup factor or method, step or gamma is bad is refused naming the file and the setting,
     * not as the --warmup-factor, --warmup-method, --step-size or --gamma the user never gave.
     */
    @Test
    void aCheckpointsBadWarmupAndStepSettingsAreRefusedNamingTheFile() throws IOException {
        Path ck = dir.resolve("ck.safetensors");
        train("--schedule", "step", "--step-size", "2", "--warmup", "1", "--epochs", "3", "--checkpoint",
                ck.toString(), "--out", dir.resolve("s.safetensors").toString()).ok();
        refusedNamingTheFile(ck, new String[][] {
                {"warmup_factor", "5.0", "schedule warmup_factor is 5.0 in the checkpoint, not a number > 0 and <= 1"},
                {"warmup_factor", "0", "schedule warmup_factor is 0 in the checkpoint, not a number > 0 and <= 1"},
                {"warmup_factor", "\"x\"", "schedule warmup_factor is \"x\" in the checkpoint, not a number > 0"},
                {"type", "\"cubic-warmup+step\"", "schedule warmup method (type cubic-warmup+step) is cubic in the "
                        + "checkpoint, not linear or constant"},
                {"type", "\"bogus\"", "schedule type is \"bogus\" in the checkpoint, not step, cosine, or "
                        + "linear-warmup or constant-warmup alone or followed by +step or +cosine"},
                {"type", "\"linear-warmup+bogus\"", "schedule type is \"linear-warmup+bogus\" in the checkpoint"},
                {"type", "\"none\"", "schedule type is \"none\" in the checkpoint"},
                {"step_size", "0", "schedule step_size is 0 in the checkpoint, not a whole number of epochs from 1 to "
                        + "2147483647"},
                {"step_size", "2.5", "schedule step_size is 2.5 in the checkpoint, not a whole number of epochs"},
                {"gamma", "-0.5", "schedule gamma is -0.5 in the checkpoint, not a finite number >= 0"},
                {"gamma", "1e999", "schedule gamma is 1e999 in the checkpoint, not a finite number >= 0"},
        });
    }

    /**
     * Resumes from {@code ck} with each case's schedule entry {@code c[0]} (a setting, or the type) set to the JSON
     * {@code c[1]}, and expects one line starting with the file and {@code c[2]}, and no model written.
     */
    private void refusedNamingTheFile(Path ck, String[][] cases) throws IOException {
        String saved;
        try (dev.backprop.io.SafeTensorsFile f = dev.backprop.io.SafeTensorsFile.open(ck)) {
            saved = f.metadata().get(dev.backprop.io.Checkpoint.SCHEDULE_KEY);
        }
        for (String[] c : cases) {
            com.google.gson.JsonObject schedule = com.google.gson.JsonParser.parseString(saved).getAsJsonObject();
            (c[0].equals("type") ? schedule : schedule.getAsJsonObject("settings")).add(c[0],
                    com.google.gson.JsonParser.parseString(c[1]));
            Path tampered = dir.resolve("tampered.safetensors");
            Files.write(tampered, CliRun.withMetadata(ck, dev.backprop.io.Checkpoint.SCHEDULE_KEY,
                    schedule.toString()));
            Path out = dir.resolve("never.safetensors");
            CliRun r = train("--resume", tampered.toString(), "--out", out.toString());
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertTrue(r.err().startsWith("backprop: " + tampered + ": " + c[2]), r.err());
            assertEquals(1, r.err().trim().lines().count(), r.err());
            assertFalse(Files.exists(out), "nothing written: " + c[0] + " " + c[1]);
        }
    }

    /** Bad or ignored warmup settings are refused in one line before anything is read or written. */
    @Test
    void badWarmupSettingsAreRefusedInOneLine() {
        String[][] cases = {
                {"--warmup-factor 0.1 applies only to --warmup EPOCHS, and there is no warmup: leave it out or give "
                        + "--warmup", "--warmup-factor", "0.1"},
                {"--warmup-method constant applies only to --warmup EPOCHS", "--warmup-method", "constant"},
                {"--warmup 5 must be less than --epochs 5: the warmup would take the whole run and never reach "
                        + "--lr 0.01", "--warmup", "5"},
                {"--warmup -1: the warmup's epochs must be >= 0", "--warmup", "-1"},
                {"--warmup-factor 0.0: the warmup starts at this fraction of the learning rate, so it must be > 0 "
                        + "and <= 1", "--warmup", "2", "--warmup-factor", "0"},
                {"--warmup-method cubic: choose linear or constant", "--warmup", "2", "--warmup-method", "cubic"},
                {"--warmup 2 cannot precede --schedule plateau", "--warmup", "2", "--schedule", "plateau",
                        "--validation", "0.2"},
        };
        for (String[] c : cases) {
            Path out = dir.resolve("refused.safetensors");
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            CliRun r = train(with(args, "--out", out.toString()));
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertTrue(r.err().startsWith("backprop: " + c[0]), r.err());
            assertEquals(1, r.err().trim().lines().count(), r.err());
            assertFalse(Files.exists(out), "nothing written: " + c[0]);
        }
    }

    private static String[] with(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
