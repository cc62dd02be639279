package dev.backprop.cli;

import com.google.gson.Gson;
import dev.backprop.model.SavedModel;
import dev.backprop.onnx.OnnxImport;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.TrainingSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code backprop train --spark MASTER}: a real two-rank run on {@code local[2]} (Spark is on this module's test
 * class path, as bin/backprop puts it beside backprop.jar), the model it saves read back by {@code eval} and
 * {@code predict}, the Spark options in train's one parser and the refusals, the spark-submit entry point, and the
 * error when Spark is missing.
 */
class SparkTrainCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainsOnLocalSparkWithTwoRanksAndSavesAModelEvalAndPredictRead() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("spark.safetensors");
        CliRun train = CliRun.of("train", "--spark", "local[2]", "--train-limit", "4096", "--layers", "784-64-10",
                "--batch-size", "64", "--optimizer", "adam", "--epochs", "1", "--out", model.toString()).ok();
        String out = train.out();
        assertTrue(out.startsWith("spark:   local[2], 2 ranks, adam lr 0.001, task classification, batch 64 per "
                + "rank, 1 epoch, "), out);
        assertTrue(out.contains("\nepoch   1  loss "), "one line per epoch:\n" + out);
        // 4096 examples over two ranks, 64 each per step: 32 steps, every rank reporting the backend it ran.
        for (int r = 0; r < 2; r++) {
            assertTrue(out.contains("rank " + r + "/2 (attempt 0) on "), out);
        }
        assertTrue(out.contains("]: cpu (1 thread) on "), "each rank runs cpu with spark.task.cpus threads:\n" + out);
        assertTrue(out.contains("shard 2048, steps 0-32 of 32"), out);
        assertEquals(32, train.field("result:", "steps"));
        double acc = train.field("result:", "test_accuracy");
        assertTrue(acc > 0.5, "32 Adam steps on 4096 images score well above chance (0.1), got " + acc);
        assertTrue(out.contains("saved:   " + model), out);
        assertEquals("784", SavedModel.metadata(model).get(SavedModel.INPUT_SHAPE_KEY), "the MLP's input rows");
        assertTrue(SavedModel.metadata(model).get("backprop.training").startsWith("Spark, 2 ranks, task "
                + "classification, batch 64 per rank, 1 epoch, "), "the model file's words leave the optimizer out");

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString()).ok();
        assertEquals(String.format(Locale.ROOT, "%.4f", acc),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats the driver's score");
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "0").ok();
        assertTrue(predict.out().contains("test example 0 (label: Ankle boot)"), "class names saved:\n"
                + predict.out());
    }

    /**
     * {@code --arch cnn} on two ranks: the images reach each rank's CNN and the driver's scoring as 1x28x28, and the
     * model file records that input shape as a plain {@code train} does, so its ONNX export fixes height and width.
     */
    @Test
    void trainsTheCnnOnTwoRanks() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("spark-cnn.safetensors");
        CliRun train = CliRun.of("train", "--spark", "local[2]", "--arch", "cnn", "--train-limit", "512",
                "--batch-size", "64", "--optimizer", "adam", "--epochs", "1", "--out", model.toString()).ok();
        assertTrue(train.out().contains("shard 256, steps 0-4 of 4"), train.out());
        double acc = train.field("result:", "test_accuracy");
        assertTrue(acc > 0.2, "4 Adam steps of the CNN score above chance (0.1), got " + acc);
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString()).ok();
        assertTrue(eval.out().contains(": cnn conv(1->32,3,p1) relu maxpool(2)"), eval.out());
        assertEquals(String.format(Locale.ROOT, "%.4f", acc),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats the driver's score");

        Path plain = dir.resolve("plain-cnn.safetensors");
        CliRun.of("train", "--backend", "cpu", "--arch", "cnn", "--train-limit", "128", "--batch-size", "64",
                "--epochs", "1", "--out", plain.toString()).ok();
        String shape = SavedModel.metadata(plain).get(SavedModel.INPUT_SHAPE_KEY);
        assertEquals("1,28,28", shape);
        assertEquals(shape, SavedModel.metadata(model).get(SavedModel.INPUT_SHAPE_KEY));
        Path onnx = dir.resolve("spark-cnn.onnx");
        CliRun.of("export", "--backend", "cpu", "--model", model.toString(), "--onnx", onnx.toString()).ok();
        assertArrayEquals(new int[] {1, 28, 28}, OnnxImport.read(onnx).inputShape(), "no symbolic dimension");
    }

    @Test
    void oneParserTakesTheSparkOptionsAndRefusesWhatDoesNotApplyByName() {
        CliRun help = CliRun.of("train", "--help").ok();
        assertTrue(help.out().contains("--spark=MASTER") && help.out().contains("--ranks=N")
                && help.out().contains("--sync=MODE"), help.out());
        // Snapshots.MUST_MATCH and the loss settings: a data size of as many steps per epoch resumes.
        assertTrue(help.out().replaceAll("\\s+", " ").contains("a rerun resumes from the newest, and one with other "
                + "ranks, batch size, steps per epoch, seed, --sync or loss settings is refused."), help.out());

        CliRun plot = CliRun.of("train", "--spark=local[2]", "--plot", "loss.png", "--no-progress");
        assertEquals(2, plot.code(), plot.err());
        assertTrue(plot.err().contains("--spark runs do not take --plot, --no-progress: they apply to training on "
                + "this machine"), plot.err());
        // Refused as local-only, not sent to --validation, which a Spark run refuses too.
        CliRun monitor = CliRun.of("train", "--spark=local[2]", "--monitor", "val_acc");
        assertEquals(2, monitor.code(), monitor.err());
        assertEquals("backprop: --spark runs do not take --monitor: it applies to training on this machine; see "
                + "'backprop train --help'", monitor.err().strip());
        CliRun plateau = CliRun.of("train", "--spark=local[2]", "--schedule", "plateau");
        assertEquals(2, plateau.code(), plateau.err());
        assertEquals("backprop: --spark runs do not take --schedule plateau: it follows a validation value, which "
                + "Spark training does not compute; choose none, step or cosine; see 'backprop train --help'",
                plateau.err().strip());
        CliRun ranks = CliRun.of("train", "--epochs", "1", "--ranks", "2");
        assertEquals(2, ranks.code(), ranks.err());
        assertTrue(ranks.err().contains("--ranks applies only with --spark MASTER"), ranks.err());

        CliRun noMaster = CliRun.of("train", "--epochs", "1", "--spark");
        assertEquals(2, noMaster.code(), noMaster.err());
        assertTrue(noMaster.err().contains("Missing required parameter for option '--spark' (MASTER)"),
                noMaster.err());
    }

    /** The checks of train's own options hold for Spark runs too, before Spark starts (the positive-size one too). */
    @Test
    void sparkRunsCheckTheirSettingsBeforeSparkStarts() {
        CliRun zero = CliRun.of("train", "--spark", "local[2]", "--layers", "784-0-10");
        assertEquals(Main.EXIT_ERROR, zero.code(), zero.err());
        assertTrue(zero.err().contains("--layers: layer sizes 784-0-10: sizes must be positive, got 0"), zero.err());
        assertTrue(CliRun.of("train", "--spark", "local[2]", "--sync", "sometimes").err()
                .contains("--sync: sync mode sometimes: choose gradients or parameters:K"));
        assertTrue(CliRun.of("train", "--spark", "local[2]", "--optimizer", "rmsprop").err()
                .contains("choose sgd, momentum, adam or adamw"));
        assertTrue(CliRun.of("train", "--spark", "local[2]", "--batch-size", "0").err()
                .contains("--batch-size must be at least 1"));
        // the task's data options, as the one-machine train refuses them (the data directory need not exist)
        CliRun targets = CliRun.of("train", "--spark", "local[2]", "--data", "no-such-dir", "--targets", "2");
        assertEquals(Main.EXIT_ERROR, targets.code(), targets.err());
        assertEquals("backprop: --targets 2 applies to --task regression (the CSV's trailing target columns), not to "
                + "--task classification; leave it out", targets.err().strip());
        assertTrue(CliRun.of("train", "--spark", "local[2]", "--data", "no-such-dir", "--task", "binary",
                "--targets", "3").err().contains("--targets 3 applies to --task regression (the CSV's trailing "
                + "target columns), not to --task binary; leave it out"));
    }

    /**
     * Options refused before Spark starts and before anything is printed: the data directory does not exist, so a
     * refusal after Spark started would name it instead.
     */
    @Test
    void sparkRefusesBadOptionsBeforeSparkStartsAndBeforeItPrints() throws IOException {
        String[] spark = {"train", "--spark", "local[2]", "--data", "no-such-dir", "--epochs", "1"};
        CliRun ranks = CliRun.of(concat(spark, new String[] {"--ranks", "3"}));
        CliRun.assertRefused(ranks, "--ranks 3: the ranks train in one barrier stage, which runs all of them at "
                + "once, but --spark local[2] runs 2 tasks at once (spark.task.cpus 1); give --ranks 2 or fewer, or a "
                + "master with more threads, such as local[3]");
        CliRun.assertRefused(CliRun.of("train", "--spark", "local-cluster[2,1,1024]", "--data", "no-such-dir",
                "--ranks", "4"), "--ranks 4: the ranks train in one barrier stage, which runs all of them at once, "
                + "but --spark local-cluster[2,1,1024] runs 2 tasks at once (spark.task.cpus 1); give --ranks 2 or "
                + "fewer, or a master with more threads, such as local[4]");
        CliRun.assertRefused(CliRun.of(concat(spark, new String[] {"--checkpoint-every", "4"})),
                "--checkpoint-every 4 applies only to --checkpoint-dir DIR, and there is none: leave it out or give "
                        + "--checkpoint-dir");
        Path ckpt = dir.resolve("ckpt");
        CliRun.assertRefused(CliRun.of(concat(spark, new String[] {"--sync", "parameters:2", "--checkpoint-dir",
            ckpt.toString(), "--checkpoint-every", "3"})), "--checkpoint-every: checkpoint interval 3 must be a "
                + "multiple of the parameter averaging interval 2 (only averaged models are the same on every rank)");
        assertFalse(Files.exists(ckpt), "no checkpoint directory made");
        // Refused as local training refuses them (it reads its data first, so it gets a CSV here).
        Path csv = threeClassCsv();
        for (String[] bad : new String[][] {{"--backend", "nonsense"}, {"--threads", "100000"}}) {
            CliRun local = CliRun.of(concat(new String[] {"train", "--csv", csv.toString(), "--epochs", "1", "--out",
                dir.resolve("never.safetensors").toString()}, bad));
            assertEquals(Main.EXIT_ERROR, local.code(), local.out() + local.err());
            CliRun.assertRefused(CliRun.of(concat(spark, bad)), local.err().strip().substring("backprop: ".length()));
        }
        for (CliRun r : List.of(ranks, CliRun.of(concat(spark, new String[] {"--backend", "nonsense"})))) {
            assertEquals("", r.out(), "nothing printed");
        }
    }

    /**
     * An executor of a cluster may hold a backend this JVM lacks (on {@code spark.executor.extraClassPath}), so an
     * unknown {@code --backend} is refused up front only where the ranks are threads of this JVM; on {@code yarn}
     * and {@code k8s://} the run goes on to the cluster manager's module, which this class path lacks.
     */
    @Test
    void aBackendUnknownHereIsLeftToTheExecutorsOfACluster() {
        for (String master : List.of("yarn", "k8s://https://host:443")) {
            CliRun run = CliRun.of("train", "--spark", master, "--data", "no-such-dir", "--backend", "elsewhere");
            assertEquals(Main.EXIT_ERROR, run.code(), run.err());
            assertTrue(run.err().startsWith("backprop: --spark " + master + " needs Spark's spark-"), run.err());
        }
        CliRun local = CliRun.of("train", "--spark", "local", "--data", "no-such-dir", "--backend", "elsewhere");
        assertEquals(Main.EXIT_ERROR, local.code(), local.err());
        assertTrue(local.err().startsWith("backprop: unknown backend 'elsewhere'; known backends: "), local.err());
    }

    /**
     * A loss that diverges under gradient averaging ends the run as it ends local training: exit 1 and one line
     * naming the step and the learning rate (rank 0's, every rank having stopped at the same step), no model.
     */
    @Test
    void aDivergingLossEndsTheRunWithOneLineAndExit1AsLocally() throws IOException {
        Path csv = threeClassCsv();
        String[] common = {"--csv", csv.toString(), "--layers", "4-8-3", "--epochs", "2", "--batch-size", "20",
            "--lr", "1e30"};
        Path model = dir.resolve("never.safetensors");
        CliRun local = CliRun.of(concat(new String[] {"train", "--backend", "cpu", "--out", model.toString()},
                common));
        CliRun spark = CliRun.of(concat(new String[] {"train", "--spark", "local[2]", "--ranks", "2", "--out",
            model.toString()}, common));
        for (CliRun run : List.of(local, spark)) {
            assertEquals(Main.EXIT_ERROR, run.code(), run.out() + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().contains(" loss is NaN at step ") && run.err().contains("the learning rate 1E+30 is "
                    + "probably too high for this model"), run.err());
        }
        assertTrue(spark.err().startsWith("backprop: training stopped on rank 0: the global batch's cross_entropy "
                + "loss is NaN at step "), spark.err());
        assertFalse(Files.exists(model), "nothing saved");
    }

    /**
     * Under parameter averaging each rank judges its own loss, and a diverging one ends the run as under gradient
     * averaging: exit 1 and one line naming the rank, the step and the learning rate, after one attempt of each
     * stage (the rank that stops tells the others at the next average, so none waits for it and fails), no model.
     */
    @Test
    void aDivergingLossUnderParameterAveragingEndsTheRunWithOneLineAndNoRerun() throws IOException {
        Path csv = threeClassCsv();
        Path model = dir.resolve("never.safetensors");
        StageAttempts.SEEN.clear();
        System.setProperty("spark.extraListeners", StageAttempts.class.getName());
        CliRun spark;
        try {
            spark = CliRun.of("train", "--spark", "local[2]", "--ranks", "2", "--sync", "parameters:2", "--csv",
                    csv.toString(), "--layers", "4-8-3", "--epochs", "2", "--batch-size", "20", "--lr", "1e30",
                    "--out", model.toString());
        } finally {
            System.clearProperty("spark.extraListeners");
        }
        assertEquals(Main.EXIT_ERROR, spark.code(), spark.out() + spark.err());
        List<String> lines = spark.err().lines().filter(l -> l.startsWith("backprop:")).toList();
        assertEquals(1, lines.size(), spark.err());
        assertTrue(lines.get(0).startsWith("backprop: training stopped on rank ") && lines.get(0).contains(
                " loss is NaN at step ") && lines.get(0).contains("the learning rate 1E+30 is probably too high for "
                + "this model"), spark.err());
        assertEquals(java.util.Set.of(0), StageAttempts.SEEN, "every stage ran once");
        assertTrue(spark.out().startsWith("spark:   local[2], 2 ranks, sgd lr 1E+30, "), spark.out());
        assertFalse(Files.exists(model), "nothing saved");
    }

    /** The spark-submit entry point runs the same parser with the master spark-submit set. */
    @Test
    void theSparkSubmitEntryPointTrainsFromACsvWithTheSameOptions() throws IOException {
        Path csv = threeClassCsv();
        Path model = dir.resolve("model.safetensors");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = SparkTrainMain.run(new PrintWriter(out), new PrintWriter(err), "local[2]", "--csv", csv.toString(),
                "--ranks", "2", "--layers", "4-8-3", "--epochs", "2", "--batch-size", "20", "--optimizer", "adam",
                "--checkpoint-dir", dir.resolve("ckpt").toString(), "--out", model.toString());
        assertEquals(0, code, out + "\n" + err);
        assertTrue(out.toString().contains("saved:   " + model), out.toString());
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString()).ok();
        assertTrue(eval.out().contains("4-8-3 relu, classification"), eval.out());
        try (var files = Files.list(dir.resolve("ckpt"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().matches("checkpoint-\\d{12}\\.safetensors")),
                    "rank 0 wrote checkpoints");
        }
        StringWriter noMaster = new StringWriter();
        assertEquals(2, SparkTrainMain.run(new PrintWriter(out), new PrintWriter(noMaster), null, "--epochs", "1"));
        assertTrue(noMaster.toString().contains("runs under spark-submit, which sets spark.master"),
                noMaster.toString());
        StringWriter bad = new StringWriter();
        assertEquals(2, SparkTrainMain.run(new PrintWriter(out), new PrintWriter(bad), "local[2]", "--epochs", "x"));
        assertTrue(bad.toString().contains("Invalid value for option '--epochs'"), bad.toString());
    }

    /** 120 rows of 4 features and 3 classes, 56 of class 0, 28 of class 1, 36 of class 2. */
    private Path threeClassCsv() throws IOException {
        StringBuilder sb = new StringBuilder("a,b,c,d,label\n");
        java.util.Random r = new java.util.Random(9);
        for (int i = 0; i < 120; i++) {
            double x = r.nextGaussian();
            double y = r.nextGaussian();
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%.5f,%.5f,%d%n", x, y, r.nextGaussian(),
                    r.nextGaussian(), x > 0 ? (y > 0 ? 2 : 1) : 0));
        }
        Path csv = dir.resolve("train.csv");
        Files.writeString(csv, sb);
        return csv;
    }

    /**
     * {@code --class-weights} and {@code --label-smoothing} on Spark: the model file records them as local training
     * does ({@code backprop.loss}), balanced weights counted over all partitions, and {@code eval} reads them.
     */
    @Test
    void classWeightsAndLabelSmoothingTrainOnSparkAndAreRecordedAsLocally() throws IOException {
        Path csv = threeClassCsv();
        long[] count = new long[3];
        for (String line : Files.readAllLines(csv).subList(1, 121)) {
            count[Integer.parseInt(line.substring(line.lastIndexOf(',') + 1))]++;
        }
        Path local = dir.resolve("local.safetensors");
        Path spark = dir.resolve("spark.safetensors");
        String[] common = {"--csv", csv.toString(), "--layers", "4-8-3", "--epochs", "1", "--batch-size", "20",
                "--class-weights", "0.5,2,1", "--label-smoothing", "0.1"};
        CliRun.of(concat(new String[] {"train", "--backend", "cpu", "--out", local.toString()}, common)).ok();
        CliRun run = CliRun.of(concat(new String[] {"train", "--spark", "local[2]", "--ranks", "2", "--out",
                spark.toString()}, common)).ok();
        assertTrue(run.out().contains("task classification, class weights 0.5000,2.000,1.000, label smoothing 0.1, "
                + "batch 20 per rank"), run.out());
        String recorded = SavedModel.metadata(local).get(LossOptions.KEY);
        assertEquals("{\"class_weights\":\"0.5,2,1\",\"weight\":[0.5,2.0,1.0],\"label_smoothing\":0.1}", recorded);
        assertEquals(recorded, SavedModel.metadata(spark).get(LossOptions.KEY));
        // eval reads the setting back strictly and scores with that loss.
        CliRun.of("eval", "--backend", "cpu", "--model", spark.toString(), "--csv", csv.toString()).ok();

        Path balanced = dir.resolve("balanced.safetensors");
        CliRun.of("train", "--spark", "local[2]", "--ranks", "2", "--csv", csv.toString(), "--layers", "4-8-3",
                "--epochs", "1", "--batch-size", "20", "--class-weights", "balanced", "--out", balanced.toString())
                .ok();
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(
                SavedModel.metadata(balanced).get(LossOptions.KEY)).getAsJsonObject();
        assertEquals("balanced", o.get("class_weights").getAsString());
        for (int c = 0; c < 3; c++) {
            assertEquals(120.0 / (3.0 * count[c]), o.getAsJsonArray("weight").get(c).getAsDouble(), 0.0,
                    "scikit-learn's n / (K count) for class " + c);
        }
    }

    /**
     * A {@code --checkpoint-dir} checkpoint records the loss settings as a local checkpoint does, and a rerun with
     * other ones (or none) is refused in one line naming both, before the model file is written; the same resume.
     */
    @Test
    void aSparkCheckpointOfOtherLossSettingsIsRefused() throws IOException {
        Path csv = threeClassCsv();
        Path ckpt = dir.resolve("ckpt");
        String[] common = {"train", "--spark", "local[2]", "--ranks", "2", "--csv", csv.toString(), "--layers",
                "4-8-3", "--epochs", "1", "--batch-size", "20", "--checkpoint-dir", ckpt.toString()};
        Path first = dir.resolve("first.safetensors");
        CliRun.of(concat(common, new String[] {"--class-weights", "0.5,2,1", "--out", first.toString()})).ok();
        String recorded = "{\"class_weights\":\"0.5,2,1\",\"weight\":[0.5,2.0,1.0],\"label_smoothing\":0.0}";
        try (var files = Files.list(ckpt)) {
            for (Path f : files.toList()) {
                assertEquals(recorded, SavedModel.metadata(f).get(LossOptions.KEY), f.toString());
            }
        }
        Path out = dir.resolve("other.safetensors");
        for (String[] other : new String[][] {{"--class-weights", "1,1,1"}, {"--label-smoothing", "0.1"}}) {
            CliRun run = CliRun.of(concat(common, concat(other, new String[] {"--out", out.toString()})));
            assertEquals(Main.EXIT_ERROR, run.code(), run.out() + run.err());
            assertTrue(run.err().startsWith("backprop: cannot resume from ") && run.err().contains(": the checkpoint "
                    + "was written by a run with loss settings " + recorded + ", this run has "), run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertEquals("", run.out(), "refused before the start lines");
            assertFalse(Files.exists(out), "nothing written");
        }
        CliRun.of(concat(common, new String[] {"--class-weights", "0.5,2,1", "--out", out.toString()})).ok();
        assertTrue(Files.exists(out));
    }

    /**
     * A {@code --checkpoint-dir} checkpoint of balanced weights records the counted weights, so a rerun over data of
     * other class counts (as many rows, one relabelled) is refused naming both, before the model file is written.
     */
    @Test
    void aSparkCheckpointOfBalancedWeightsRefusesOtherClassCounts() throws IOException {
        Path csv = threeClassCsv();
        Path ckpt = dir.resolve("ckpt");
        String[] common = {"train", "--spark", "local[2]", "--ranks", "2", "--layers", "4-8-3", "--epochs", "1",
                "--batch-size", "20", "--checkpoint-dir", ckpt.toString(), "--class-weights", "balanced"};
        CliRun.of(concat(common, new String[] {"--csv", csv.toString(), "--out",
                dir.resolve("first.safetensors").toString()})).ok();
        List<String> lines = Files.readAllLines(csv);
        int first = lines.indexOf(lines.stream().filter(l -> l.endsWith(",1")).findFirst().orElseThrow());
        lines.set(first, lines.get(first).substring(0, lines.get(first).length() - 1) + "0");
        Path relabelled = Files.write(dir.resolve("relabelled.csv"), lines);
        Path out = dir.resolve("other.safetensors");
        CliRun run = CliRun.of(concat(common, new String[] {"--csv", relabelled.toString(), "--out",
                out.toString()}));
        assertEquals(Main.EXIT_ERROR, run.code(), run.out() + run.err());
        // 56, 28 and 36 examples of the classes: 120 / (3 count).
        String recorded = "{\"class_weights\":\"balanced\",\"weight\":[0.7142857142857143,1.4285714285714286,"
                + "1.1111111111111112],\"label_smoothing\":0.0}";
        try (var files = Files.list(ckpt)) {
            assertEquals(recorded, SavedModel.metadata(files.findFirst().orElseThrow()).get(LossOptions.KEY));
        }
        // 57 of class 0 and 27 of class 1 after the relabelling.
        assertTrue(run.err().contains(": the checkpoint was written by a run with loss settings " + recorded + ", this "
                + "run has {\"class_weights\":\"balanced\",\"weight\":[0.7017543859649122,1.4814814814814814,"),
                run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    /** The loss options' checks hold for Spark runs, each a one-line error naming the value. */
    @Test
    void badLossSettingsAreRefusedOnSparkAsLocally() throws IOException {
        Path csv = threeClassCsv();
        CliRun smoothing = CliRun.of("train", "--spark", "local[2]", "--label-smoothing", "1");
        assertEquals(Main.EXIT_ERROR, smoothing.code(), smoothing.err());
        assertTrue(smoothing.err().contains("--label-smoothing must lie in [0, 1), got 1.0"), smoothing.err());
        CliRun negative = CliRun.of("train", "--spark", "local[2]", "--class-weights", "1,-2,1");
        assertTrue(negative.err().contains("--class-weights: weights must be positive and finite, got -2 for class 1"),
                negative.err());
        CliRun regression = CliRun.of("train", "--spark", "local[2]", "--task", "regression", "--class-weights",
                "1,2");
        assertTrue(regression.err().contains("--class-weights applies to --task classification (softmax "
                + "cross-entropy), not to --task regression"), regression.err());
        Path out = dir.resolve("never.safetensors");
        CliRun count = CliRun.of("train", "--spark", "local[2]", "--ranks", "2", "--csv", csv.toString(), "--layers",
                "4-8-3", "--class-weights", "1,2", "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, count.code(), count.err());
        assertTrue(count.err().contains("--class-weights has 2 weights, but the data has 3 classes"), count.err());
        assertFalse(Files.exists(out), "nothing written");
        Path gap = dir.resolve("gap.csv");
        Files.write(gap, Files.readAllLines(csv).stream().filter(l -> !l.endsWith(",1")).toList());
        String[] balanced = {"--csv", gap.toString(), "--layers", "4-8-3", "--class-weights", "balanced", "--out",
                out.toString()};
        // The test set given, local training trains on all rows, as Spark does.
        CliRun local = CliRun.of(concat(new String[] {"train", "--backend", "cpu", "--test-csv", gap.toString()},
                balanced));
        CliRun spark = CliRun.of(concat(new String[] {"train", "--spark", "local[2]", "--ranks", "2"}, balanced));
        assertEquals("backprop: --class-weights balanced: class 1 has no example among the 92 training examples",
                local.err().strip());
        assertEquals(local.err(), spark.err(), "one message for local and Spark training");
        assertEquals("", spark.out(), "refused before the start lines, as local training refuses before its own");
        assertFalse(Files.exists(out), "nothing written");
    }

    /**
     * One class's rows train a one-logit softmax whose loss is 0 whatever the weights: Spark refuses them with
     * local training's message (the Spark engine counts the classes itself), before anything is written.
     */
    @Test
    void oneClassIsRefusedOnSparkAsLocally() throws IOException {
        Path csv = threeClassCsv();
        Path one = dir.resolve("one.csv");
        Files.write(one, Files.readAllLines(csv).stream().filter(l -> !l.endsWith(",1") && !l.endsWith(",2"))
                .toList());
        Path out = dir.resolve("never.safetensors");
        String[] args = {"--csv", one.toString(), "--layers", "4-8-1", "--epochs", "1", "--out", out.toString()};
        CliRun local = CliRun.of(concat(new String[] {"train", "--backend", "cpu", "--test-csv", one.toString()},
                args));
        CliRun spark = CliRun.of(concat(new String[] {"train", "--spark", "local[2]", "--ranks", "2"}, args));
        assertEquals("backprop: task classification needs at least 2 classes to train, but the data has 1; give "
                + "examples of another class", local.err().strip());
        assertEquals(Main.EXIT_ERROR, spark.code(), spark.err());
        assertEquals(local.err().strip(), spark.err().lines().filter(l -> l.startsWith("backprop:"))
                .collect(java.util.stream.Collectors.joining("\n")), "one message for local and Spark training");
        assertFalse(Files.exists(out), "nothing written");
    }

    /**
     * A CSV without a header line and {@code --label-column} naming a column: refused as locally. Resuming from a
     * {@code --checkpoint-dir} whose checkpoint records the name, the message is {@code train --resume}'s for a
     * checkpoint that records it (add the training file's header line: an index would be refused as another column),
     * given before the CSV is read; without such a checkpoint, local training's (the file has no header line).
     */
    @Test
    void aHeaderlessCsvForARecordedColumnNameIsRefusedAsOnResume() throws IOException {
        Path csv = threeClassCsv();
        List<String> lines = Files.readAllLines(csv);
        Path bare = Files.write(dir.resolve("bare.csv"), lines.subList(1, lines.size()));
        Path ckpt = dir.resolve("ckpt");
        Path out = dir.resolve("never.safetensors");
        String[] common = {"train", "--spark", "local[2]", "--ranks", "2", "--layers", "4-8-3", "--epochs", "1",
            "--batch-size", "20", "--label-column", "label"};
        String[] withCkpt = concat(common, new String[] {"--checkpoint-dir", ckpt.toString()});

        CliRun fresh = CliRun.of(concat(withCkpt, new String[] {"--csv", bare.toString(), "--out", out.toString()}));
        CliRun local = CliRun.of("train", "--backend", "cpu", "--csv", bare.toString(), "--label-column", "label",
                "--out", out.toString());
        assertEquals("backprop: " + bare + ": label column 'label' names a header column, but the file has no header "
                + "line; give a 0-based index below 5", local.err().strip());
        assertEquals(local.err(), fresh.err(), "no checkpoint records the name yet: local training's message");
        assertFalse(Files.exists(ckpt), "a refused run makes no checkpoint directory");

        CliRun.of(concat(withCkpt, new String[] {"--csv", csv.toString(), "--out",
            dir.resolve("first.safetensors").toString()})).ok();
        Path recorded;
        try (var files = Files.list(ckpt)) {
            recorded = files.filter(f -> f.getFileName().toString().startsWith("checkpoint-")).max(Path::compareTo)
                    .orElseThrow();
        }
        assertEquals("label", SavedModel.metadata(recorded).get(SavedModel.LABEL_COLUMN_KEY));
        CliRun resumed = CliRun.of(concat(withCkpt, new String[] {"--csv", bare.toString(), "--out", out.toString()}));
        assertEquals("backprop: --csv " + bare + " has no header line, but " + recorded + " reads its label from the "
                + "column named 'label' (backprop.label_column), as the file it was trained on had a header naming "
                + "it: add that header line, naming 'label' in the label's place, as the first line of " + bare,
                resumed.err().strip());
        assertEquals(Main.EXIT_ERROR, resumed.code());
        assertEquals("", resumed.out(), "refused before the start lines");
        assertFalse(Files.exists(out), "nothing written");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * backprop.jar without Spark's jars: a JVM whose class path holds only what the command line needs up to the
     * check (the cli, core and the Spark trainer, picocli, Gson) fails with the explanation, not a
     * NoClassDefFoundError.
     */
    @Test
    void withoutSparkOnTheClassPathTheErrorSaysHowToGetIt() throws Exception {
        List<String> cp = new ArrayList<>();
        for (Class<?> c : List.of(Main.class, Backends.class, TrainingSpec.class, CommandLine.class, Gson.class)) {
            cp.add(codeSource(c));
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", String.join(File.pathSeparator, cp),
                Main.class.getName(), "train", "--spark", "local[2]", "--epochs", "1")
                .redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM without Spark finishes");
        String err = Files.readString(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_ERROR, p.exitValue(), err);
        assertTrue(err.startsWith("backprop: --spark needs Apache Spark (spark-core_2.13, Spark 4) on the class path"),
                err);
        assertTrue(err.contains("bin/backprop") && err.contains("spark-submit"), err);
        assertFalse(err.contains("Exception"), "no stack trace:\n" + err);
        assertEquals("", Files.readString(dir.resolve("stdout.txt"), StandardCharsets.UTF_8));
    }

    private static String codeSource(Class<?> c) throws URISyntaxException, IOException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toRealPath().toString();
    }
}
