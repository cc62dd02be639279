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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train's options on a small CSV (quick): resuming exactly, stopping on divergence, and clear errors. */
class TrainOptionsTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    /** train on the CSV with these settings unless {@code more} (option-value pairs, or a lone flag) gives others. */
    private CliRun train(String... more) {
        java.util.Map<String, String> opts = new java.util.LinkedHashMap<>();
        opts.put("--backend", "cpu");
        opts.put("--csv", csv.toString());
        opts.put("--layers", "4-8-3");
        opts.put("--batch-size", "16");
        opts.put("--optimizer", "momentum");
        // StepLR's settings do not depend on --epochs (a cosine schedule spans the whole run, so a 2-epoch run
        // is not the first part of a 3-epoch one).
        opts.put("--schedule", "step");
        opts.put("--step-size", "1");
        opts.put("--gamma", "0.5");
        opts.put("--epochs", "3");
        opts.put("--out", dir.resolve("model.safetensors").toString());
        for (int i = 0; i + 1 < more.length; i++) {
            if (more[i].equals("--schedule") && !more[i + 1].equals("step")) {
                // The step schedule's settings, which another schedule refuses.
                opts.remove("--step-size");
                opts.remove("--gamma");
            }
        }
        return CliRun.train(opts, more);
    }

    @Test
    void aResumedRunEndsWithTheSameBytesAsAnUninterruptedOne() throws IOException {
        Path straight = dir.resolve("straight.safetensors");
        Path resumed = dir.resolve("resumed.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        CliRun whole = train("--out", straight.toString()).ok();
        assertTrue(whole.field("summary:", "test_acc") > 0.6, whole.out());
        train("--epochs", "2", "--checkpoint", ck.toString(), "--out", dir.resolve("half.safetensors").toString())
                .ok();
        CliRun rest = train("--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertTrue(rest.out().contains("resumed from " + ck + " after epoch 2"), rest.out());
        assertTrue(rest.out().contains("epochs 3..3"), rest.out());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed),
                "weights, optimizer momentum, schedule and shuffles all continue exactly");

        CliRun done = train("--resume", ck.toString(), "--epochs", "1", "--out", dir.resolve("other.safetensors")
                .toString());
        assertTrue(done.err().contains("already has 2 epochs, more than --epochs 1"), done.err());
    }

    @Test
    void anOnnxModelAsResumeIsNamedAndPointedToInit() throws IOException {
        Path model = dir.resolve("m.safetensors");
        train("--epochs", "1", "--out", model.toString()).ok();
        Path onnx = dir.resolve("m.onnx");
        CliRun.of("export", "--model", model.toString(), "--onnx", onnx.toString()).ok();
        // the same bytes under a name without .onnx are told apart by their contents, as --init and eval do
        Path renamed = Files.copy(onnx, dir.resolve("m.bin"));
        Path out = dir.resolve("resumed.safetensors");
        for (Path file : new Path[] {onnx, renamed}) {
            CliRun r = train("--resume", file.toString(), "--out", out.toString());
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: --resume " + file + " is an ONNX model, not a checkpoint: it holds no optimizer "
                    + "state or progress; give it as --init to start from its weights", r.err().strip());
            assertFalse(Files.exists(out));
        }
        train("--init", renamed.toString(), "--epochs", "1", "--out", out.toString()).ok();
    }

    /** Options left out take the checkpoint's values: a resume that names none ends where the straight run does. */
    @Test
    void aResumeTakesTheCheckpointsSettingsForTheOptionsLeftOut() throws IOException {
        Path straight = dir.resolve("straight.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        train("--weight-decay", "0.001", "--seed", "3", "--out", straight.toString()).ok();
        train("--weight-decay", "0.001", "--seed", "3", "--epochs", "2", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString()).ok();
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun rest = CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--resume", ck.toString(),
                "--epochs", "3", "--out", resumed.toString()).ok();
        assertTrue(rest.out().contains("train:   momentum lr 0.01 momentum 0.9 weight-decay 0.001 schedule step, "
                + "batch 16 (15 steps per epoch), epochs 3..3, seed 3"), rest.out());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed));
    }

    /** Without a schedule a new --lr applies from the first resumed step, and the train line says so. */
    @Test
    void aNewLearningRateAppliesOnResumeAndIsShownWithTheCheckpoints() throws IOException {
        Path straight = dir.resolve("straight.safetensors");
        Path ck = dir.resolve("ck.safetensors");
        train("--schedule", "none", "--out", straight.toString()).ok();
        train("--schedule", "none", "--epochs", "2", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString()).ok();
        Path same = dir.resolve("same.safetensors");
        CliRun kept = train("--schedule", "none", "--resume", ck.toString(), "--lr", "0.01", "--out",
                same.toString()).ok();
        assertTrue(kept.out().contains("train:   momentum lr 0.01 momentum 0.9, batch 16"), kept.out());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(same), "the checkpoint's own rate");

        Path faster = dir.resolve("faster.safetensors");
        CliRun changed = train("--schedule", "none", "--resume", ck.toString(), "--lr", "0.05", "--out",
                faster.toString()).ok();
        assertTrue(changed.out().contains("train:   momentum lr 0.05 momentum 0.9 (checkpoint had lr 0.01), batch 16"),
                changed.out());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(straight), Files.readAllBytes(faster)),
                "the new rate is the one in force");
    }

    /** Every other setting the checkpoint fixes is refused with another value, naming the option and both values. */
    @Test
    void settingsThatContradictTheCheckpointAreRefusedByName() {
        Path ck = dir.resolve("ck.safetensors");
        train("--epochs", "2", "--checkpoint", ck.toString(), "--out", dir.resolve("half.safetensors").toString())
                .ok();
        String[][] cases = {
                {"--optimizer", "adam", "adam", "momentum"},
                {"--momentum", "0.5", "0.5", "0.9"},
                {"--weight-decay", "0.1", "0.1", "0"},
                {"--batch-size", "32", "32", "16"},
                {"--seed", "5", "5", "0"},
                {"--schedule", "cosine", "cosine", "step"},
                {"--step-size", "2", "2", "1"},
                {"--gamma", "0.1", "0.1", "0.5"},
                {"--lr", "0.05", "0.05", "0.01 (a scheduled rate goes on from the checkpoint's base rate)"},
        };
        for (String[] c : cases) {
            CliRun r = train("--resume", ck.toString(), c[0], c[1]);
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: " + c[0] + " " + c[2] + ": " + ck + " was trained with " + c[0] + " " + c[3]
                    + "; leave " + c[0] + " out to resume with it, or start a new run without --resume",
                    r.err().trim());
            assertFalse(r.out().contains("train:"), "refused before training: " + r.out());
        }
        Path cosine = dir.resolve("cosine.safetensors");
        train("--schedule", "cosine", "--epochs", "2", "--checkpoint", cosine.toString(), "--out",
                dir.resolve("c.safetensors").toString()).ok();
        CliRun longer = train("--schedule", "cosine", "--resume", cosine.toString(), "--epochs", "4");
        assertTrue(longer.err().contains("--epochs 4: " + cosine + " was trained with --epochs 2 (the cosine "
                + "schedule anneals over the whole run)"), longer.err());
    }

    @Test
    void initStartsFromSavedWeights() {
        Path first = dir.resolve("first.safetensors");
        CliRun fresh = train("--epochs", "1", "--out", first.toString()).ok();
        CliRun more = train("--epochs", "1", "--init", first.toString(), "--out", dir.resolve("more.safetensors")
                .toString()).ok();
        assertTrue(more.out().contains("weights from " + first), more.out());
        double freshLoss = firstEpochTrainLoss(fresh.out());
        double moreLoss = firstEpochTrainLoss(more.out());
        assertTrue(moreLoss < freshLoss, "training goes on from the saved weights: " + moreLoss + " vs " + freshLoss);
        assertTrue(train("--init", first.toString(), "--layers", "4-16-3").err()
                .contains("differs from the model in " + first));
        assertTrue(train("--init", first.toString(), "--task", "regression", "--targets", "1").err()
                .contains("holds a classification model"));
    }

    /** The train_loss column of the table row of the first epoch run. */
    private static double firstEpochTrainLoss(String out) {
        String header = "epoch   time_s  samples/s train_loss";
        String row = out.substring(out.indexOf(header)).split("\n")[1].trim();
        return Double.parseDouble(row.split("\\s+")[3]);
    }

    @Test
    void aDivergingLossStopsTrainingNamingTheStep() {
        Path out = dir.resolve("never.safetensors");
        CliRun r = train("--optimizer", "sgd", "--schedule", "none", "--lr", "1e6", "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertTrue(r.err().matches("(?s)backprop: training stopped: the cross_entropy loss is (NaN|Infinity|-Infinity) "
                + "at step \\d+ \\(epoch 1, batch \\d+ of 15\\)\\. The weights and the optimizer state were finite "
                + "when training started and so is this batch: the learning rate 1000000 is probably too high for "
                + "this model; try 100000\\s*"), r.err());
        assertFalse(Files.exists(out), "a diverged model is not saved");
    }

    @Test
    void settingsThatCannotWorkAreRejectedBeforeTraining() {
        assertTrue(train("--plot", "curves.jpg").err().contains("ending in .png"));
        assertTrue(train("--layers", "5-8-3").err().contains("the data has 4 features"));
        assertTrue(train("--init", "a", "--resume", "b").err().contains("exclude each other"));
        assertTrue(train("--optimizer", "rmsprop").err().contains("choose sgd, momentum, adam or adamw"));
        assertTrue(train("--task", "ranking").err().contains("unknown task 'ranking'"));
        assertTrue(train("--activation", "gelu").err().contains("choose relu, sigmoid or tanh"));
        assertTrue(train("--batch-size", "0").err().contains("--batch-size must be at least 1"));
        CliRun missing = CliRun.of("eval", "--backend", "cpu", "--model", dir.resolve("none.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, missing.code());
        assertTrue(missing.err().contains("none.safetensors"), missing.err());
    }

    @Test
    void helpDescribesEveryCommandWithoutFormatErrors() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream picocliWarnings = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(picocliWarnings, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            String train = CliRun.of("train", "--help").ok().out();
            assertTrue(train.contains("20% of") && !train.contains("%%"), train);
            assertTrue(CliRun.of("eval", "--help").ok().out().contains("--model=FILE"));
            assertTrue(CliRun.of("predict", "--help").ok().out().contains("--index=SPEC"));
            assertTrue(CliRun.of("--help").ok().out().contains("train"));
        } finally {
            System.setErr(saved);
        }
        assertEquals("", picocliWarnings.toString(java.nio.charset.StandardCharsets.UTF_8),
                "picocli reports descriptions it cannot format on System.err");
    }

    @Test
    void predictChecksIndicesAndRows() {
        Path model = dir.resolve("m.safetensors");
        train("--epochs", "1", "--out", model.toString()).ok();
        CliRun range = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--index", "0..2,59").ok();
        assertEquals(4, range.out().split("top 3:", -1).length - 1, range.out());
        assertTrue(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--index", "60").err().contains("outside the 60 test examples"));
        assertTrue(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row", "1,2")
                .err().contains("--row has 2 values, the model takes 4 features"));
        CliRun asRegression = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--task", "regression");
        assertTrue(asRegression.err().contains("has 3 output(s), which cannot score 1 target column(s)"),
                asRegression.err());
        CliRun row = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row", "1,1,0,0").ok();
        assertTrue(row.out().contains("row\n  probabilities:  class 0 "), row.out());
    }

    @Test
    void tensorCorePrecisionsAreRefusedOffCudaAndUnknownOnesEverywhere() {
        CliRun tf32 = train("--precision", "tf32");
        assertNotEquals(0, tf32.code());
        assertTrue(tf32.err().contains("--precision tf32 needs the cuda backend; cpu computes float32 GEMMs in fp32"
                + " only"), tf32.err());
        CliRun odd = train("--precision", "fp16");
        assertNotEquals(0, odd.code());
        assertTrue(odd.err().contains("--precision must be fp32, tf32 or bf16, got 'fp16'"), odd.err());
        train("--precision", "fp32").ok();
    }
}
