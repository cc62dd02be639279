package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

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

    /** Three classes by the sign pattern of two of four features. */
    @BeforeEach
    void writeCsv() throws IOException {
        csv = dir.resolve("three.csv");
        StringBuilder sb = new StringBuilder();
        Random r = new Random(3);
        for (int i = 0; i < 300; i++) {
            double[] x = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            int label = x[0] > 0 ? (x[1] > 0 ? 2 : 1) : 0;
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%.5f,%.5f,%d%n", x[0], x[1], x[2], x[3], label));
        }
        Files.writeString(csv, sb);
    }

    /** train on the CSV with these settings unless {@code more} (option-value pairs) gives others. */
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
        for (int i = 0; i + 1 < more.length; i += 2) {
            opts.put(more[i], more[i + 1]);
        }
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train"));
        opts.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return CliRun.of(args.toArray(String[]::new));
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

        CliRun other = train("--resume", ck.toString(), "--seed", "5", "--out", resumed.toString());
        assertEquals(Main.EXIT_ERROR, other.code());
        assertTrue(other.err().contains("trained with seed 0 and batch size 16, this run uses seed 5 and batch "
                + "size 16"), other.err());
        CliRun done = train("--resume", ck.toString(), "--epochs", "2", "--out", resumed.toString());
        assertTrue(done.err().contains("already has 2 epoch(s)"), done.err());
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
