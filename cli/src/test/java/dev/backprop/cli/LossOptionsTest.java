package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.runtime.Backends;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train's {@code --class-weights} and {@code --label-smoothing}: their effect, the resume rule and the refusals. */
class LossOptionsTest {
    private static final int FEATURES = 4;
    /** Class centres in the first two features; class 2 is the rare one. */
    private static final double[][] CENTRES = {{0, 0}, {2.2, 0}, {1.1, 1.6}};

    @TempDir
    Path dir;

    /** Rows of four features (two informative, two noise) and a label, {@code counts[c]} of class c, shuffled. */
    private static List<double[]> rows(long seed, int... counts) {
        Random r = new Random(seed);
        List<double[]> rows = new ArrayList<>();
        for (int c = 0; c < counts.length; c++) {
            for (int i = 0; i < counts[c]; i++) {
                rows.add(new double[] {CENTRES[c][0] + r.nextGaussian(), CENTRES[c][1] + r.nextGaussian(),
                        r.nextGaussian(), r.nextGaussian(), c});
            }
        }
        java.util.Collections.shuffle(rows, r);
        return rows;
    }

    private Path csv(String name, List<double[]> rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (double[] row : rows) {
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%.5f,%.5f,%d%n", row[0], row[1], row[2], row[3],
                    (int) row[4]));
        }
        Path p = dir.resolve(name);
        Files.writeString(p, sb);
        return p;
    }

    private CliRun train(Path train, Path test, String out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--backend", "cpu", "--csv", train.toString(),
                "--layers", "4-16-3", "--batch-size", "32", "--out", dir.resolve(out).toString()));
        if (test != null) {
            args.addAll(List.of("--test-csv", test.toString()));
        }
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    /** The fraction of the test rows of {@code label} that the model of {@code file} assigns to it. */
    private static double recall(Path file, List<double[]> test, int label) throws IOException {
        try (Backend be = Backends.create("cpu", BackendOptions.of(Map.of()));
             SavedModel.Loaded m = SavedModel.load(file, be)) {
            float[] x = new float[test.size() * FEATURES];
            for (int i = 0; i < test.size(); i++) {
                for (int f = 0; f < FEATURES; f++) {
                    x[i * FEATURES + f] = (float) test.get(i)[f];
                }
            }
            float[] p = new Predictor(m.model(), m.task()).predict(x, test.size());
            int k = p.length / test.size(), hits = 0, of = 0;
            for (int i = 0; i < test.size(); i++) {
                if ((int) test.get(i)[4] != label) {
                    continue;
                }
                of++;
                int best = 0;
                for (int c = 1; c < k; c++) {
                    best = p[i * k + c] > p[i * k + best] ? c : best;
                }
                hits += best == label ? 1 : 0;
            }
            return (double) hits / of;
        }
    }

    @Test
    void balancedWeightsRaiseTheRareClassRecall() throws IOException {
        Path train = csv("skewed.csv", rows(1, 600, 600, 40));
        List<double[]> testRows = rows(2, 200, 200, 200);
        Path test = csv("test.csv", testRows);
        CliRun plain = train(train, test, "plain.safetensors", "--epochs", "8").ok();
        CliRun balanced = train(train, test, "balanced.safetensors", "--epochs", "8", "--class-weights", "balanced")
                .ok();
        // sklearn's n / (K·count): 1240 / (3·600) and 1240 / (3·40).
        assertTrue(balanced.out().contains("loss cross_entropy (class weights 0.6889,0.6889,10.33)"),
                balanced.out());
        assertFalse(plain.out().contains("class weights"), plain.out());
        double before = recall(dir.resolve("plain.safetensors"), testRows, 2);
        double after = recall(dir.resolve("balanced.safetensors"), testRows, 2);
        assertTrue(after > before + 0.2, "rare-class recall " + before + " plain, " + after + " balanced");
        assertTrue(SavedModel.metadata(dir.resolve("balanced.safetensors")).get(LossOptions.KEY)
                .contains("\"class_weights\":\"balanced\""));
        assertFalse(SavedModel.metadata(dir.resolve("plain.safetensors")).containsKey(LossOptions.KEY));
    }

    @Test
    void aResumeKeepsTheLossSettingsAndRefusesOthers() throws IOException {
        Path train = ThreeClassCsv.write(dir);
        Path ck = dir.resolve("ck.safetensors");
        String[] loss = {"--class-weights", "1,2.5,0.5", "--label-smoothing", "0.1"};
        CliRun straight = train(train, null, "straight.safetensors", with(loss, "--epochs", "3")).ok();
        assertTrue(straight.out().contains("(class weights 1.000,2.500,0.5000, label smoothing 0.1)"),
                straight.out());
        train(train, null, "half.safetensors", with(loss, "--epochs", "2", "--checkpoint", ck.toString())).ok();
        train(train, null, "resumed.safetensors", "--epochs", "3", "--resume", ck.toString()).ok();
        assertArrayEquals(Files.readAllBytes(dir.resolve("straight.safetensors")),
                Files.readAllBytes(dir.resolve("resumed.safetensors")), "the resume keeps the weighted, smoothed loss");

        CliRun other = train(train, null, "x.safetensors", "--epochs", "3", "--resume", ck.toString(),
                "--label-smoothing", "0.2");
        assertNotEquals(0, other.code());
        assertTrue(other.err().contains("--label-smoothing 0.2: " + ck + " was trained with --label-smoothing 0.1"),
                other.err());
        Path plainCk = dir.resolve("plain-ck.safetensors");
        train(train, null, "p.safetensors", "--epochs", "1", "--checkpoint", plainCk.toString()).ok();
        CliRun added = train(train, null, "y.safetensors", "--epochs", "2", "--resume", plainCk.toString(),
                "--class-weights", "balanced");
        assertTrue(added.err().contains("--class-weights balanced: " + plainCk + " was trained with --class-weights "
                + "none"), added.err());
    }

    /**
     * Balanced weights are counted from the data, so a checkpoint trained with them fixes the weights it recorded:
     * a resume on data of other class counts (beside a test CSV: held out of them, the rows would be refused as not the
     * checkpoint's before their counts) is refused in one line naming both weights, whether
     * {@code --class-weights balanced} is given again or left out; the same data resumes to the uninterrupted bits.
     */
    @Test
    void aBalancedResumeOnOtherClassCountsIsRefused() throws IOException {
        Path train = ThreeClassCsv.write(dir);
        // a test CSV, so that no hold-out split is recorded: one of the same rows would refuse other rows first
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 60);
        Path ck = dir.resolve("ck.safetensors");
        train(train, test, "straight.safetensors", "--epochs", "2", "--class-weights", "balanced").ok();
        train(train, test, "half.safetensors", "--epochs", "1", "--class-weights", "balanced", "--checkpoint",
                ck.toString()).ok();
        List<String> lines = Files.readAllLines(train);
        int first = lines.indexOf(lines.stream().filter(l -> l.endsWith(",1")).findFirst().orElseThrow());
        lines.set(first, lines.get(first).substring(0, lines.get(first).length() - 1) + "0");
        Path relabelled = dir.resolve("relabelled.csv");
        Files.write(relabelled, lines);
        String recorded = numbers(SavedModel.metadata(ck).get(LossOptions.KEY));
        for (String[] given : new String[][] {{}, {"--class-weights", "balanced"}}) {
            CliRun other = train(relabelled, test, "x.safetensors", with(given, "--epochs", "2", "--resume",
                    ck.toString()));
            assertNotEquals(0, other.code());
            assertTrue(other.err().contains("--class-weights balanced: the training data balances to weights "),
                    other.err());
            assertTrue(other.err().contains(", but " + ck + " was trained with balanced weights " + recorded
                    + " (other class counts); resume on the same training data, or start a new run without "
                    + "--resume"), other.err());
            assertEquals(1, other.err().lines().count(), other.err());
            assertFalse(Files.exists(dir.resolve("x.safetensors")), "nothing written");
        }
        train(train, test, "resumed.safetensors", "--epochs", "2", "--resume", ck.toString()).ok();
        assertArrayEquals(Files.readAllBytes(dir.resolve("straight.safetensors")),
                Files.readAllBytes(dir.resolve("resumed.safetensors")), "the same data resumes");
    }

    /** The {@code weight} numbers of a {@value LossOptions#KEY} record as {@code --class-weights} takes them. */
    private static String numbers(String json) {
        List<String> w = new ArrayList<>();
        com.google.gson.JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("weight")
                .forEach(e -> w.add(dev.backprop.optim.OptimizerChoice.number(e.getAsDouble())));
        return String.join(",", w);
    }

    private static String[] with(String[] loss, String... more) {
        List<String> all = new ArrayList<>(List.of(loss));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void smoothingChangesTheTrainingAndZeroIsThePlainRun() throws IOException {
        Path train = ThreeClassCsv.write(dir);
        train(train, null, "plain.safetensors", "--epochs", "2").ok();
        train(train, null, "zero.safetensors", "--epochs", "2", "--label-smoothing", "0").ok();
        CliRun smoothed = train(train, null, "smooth.safetensors", "--epochs", "2", "--label-smoothing", "0.2").ok();
        assertTrue(smoothed.out().contains("loss cross_entropy (label smoothing 0.2)"), smoothed.out());
        // eval scores with the loss the model was trained with, so it repeats train's last test loss.
        String[] last = smoothed.out().lines().filter(l -> l.matches("\\s*2\\s.*")).findFirst().orElseThrow()
                .trim().split("\\s+");
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", dir.resolve("smooth.safetensors").toString(),
                "--csv", train.toString()).ok();
        assertEquals(Double.parseDouble(last[4]), eval.field("eval:", "test_loss"), 5e-5, smoothed.out());
        byte[] plain = Files.readAllBytes(dir.resolve("plain.safetensors"));
        assertArrayEquals(plain, Files.readAllBytes(dir.resolve("zero.safetensors")));
        assertFalse(java.util.Arrays.equals(plain, Files.readAllBytes(dir.resolve("smooth.safetensors"))));
    }

    @Test
    void badSettingsAreRefusedByName() throws IOException {
        Path train = ThreeClassCsv.write(dir);
        assertRefused(train(train, null, "a.safetensors", "--task", "regression", "--class-weights", "balanced"),
                "--class-weights applies to --task classification (softmax cross-entropy), not to --task regression");
        assertRefused(train(train, null, "a.safetensors", "--task", "binary", "--label-smoothing", "0.1"),
                "--label-smoothing applies to --task classification (softmax cross-entropy), not to --task binary");
        assertRefused(train(train, null, "a.safetensors", "--class-weights", "1,2"),
                "--class-weights has 2 weights, but the data has 3 classes");
        assertRefused(train(train, null, "a.safetensors", "--class-weights", "1,-2,1"),
                "--class-weights: weights must be positive and finite, got -2 for class 1");
        assertRefused(train(train, null, "a.safetensors", "--class-weights", "1,x,1"),
                "'x' (weight 2) is not a number");
        assertRefused(train(train, null, "a.safetensors", "--label-smoothing", "1"),
                "--label-smoothing must lie in [0, 1), got 1.0");
        List<double[]> noMiddle = rows(4, 50, 0, 50);
        assertRefused(train(csv("gap.csv", noMiddle), null, "a.safetensors", "--class-weights", "balanced"),
                "--class-weights balanced: class 1 has no example among the");
    }

    /**
     * A model file's or checkpoint's {@value LossOptions#KEY} is untrusted: whatever it holds, {@code eval} and
     * {@code --resume} either read a loss setting from it or refuse it with an {@link IllegalArgumentException} naming
     * the file and the key (one line from the command), never another exception or a value the options refuse later
     * as if typed.
     */
    @Test
    void hostileLossMetadataIsRefusedNamingTheFile() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        String[] hostile = {"", "[1]", "{}", "{\"label_smoothing\":null}", "{\"label_smoothing\":{}}",
            "{\"label_smoothing\":[0.1]}", "{\"label_smoothing\":\"0.1\"}", "{\"label_smoothing\":7}",
            "{\"label_smoothing\":NaN}", "{\"label_smoothing\":" + deep + "}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\"}",
            "{\"label_smoothing\":0,\"weight\":[1,2,3]}",
            "{\"label_smoothing\":0,\"class_weights\":\"garbage\",\"weight\":[1,2,3]}",
            "{\"label_smoothing\":0,\"class_weights\":\"1,2,4\",\"weight\":[1,2,3]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[null,1,1]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[[1],1,1]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[\"1\",1,1]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[1,-1,1]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[1,1e999,1]}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":{\"0\":1}}",
            "{\"label_smoothing\":0,\"class_weights\":\"balanced\",\"weight\":[]}"};
        for (String json : hostile) {
            Map<String, String> meta = Map.of(LossOptions.KEY, json);
            String label = json.length() > 80 ? json.substring(0, 80) + "..." : json;
            for (int resume = 0; resume < 2; resume++) {
                Exception e;
                try {
                    if (resume == 0) {
                        LossOptions.trainedWith(meta, Task.CLASSIFICATION, "m.safetensors");
                    } else {
                        TrainCommand cmd = new TrainCommand();
                        new CommandLine(cmd).parseArgs("--resume", "m.safetensors");
                        cmd.lossOptions.reconcile(meta, "m.safetensors", cmd.spec);
                    }
                    e = null;
                } catch (Exception thrown) {
                    e = thrown;
                }
                String what = (resume == 0 ? "eval" : "resume") + " of " + label;
                assertTrue(e instanceof IllegalArgumentException, what + ": " + e);
                assertTrue(e.getMessage().startsWith("m.safetensors: metadata 'backprop.loss' is not a loss setting"),
                        what + ": " + e.getMessage());
            }
        }
        String good = "{\"class_weights\":\"1,2.5,0.5\",\"weight\":[1.0,2.5,0.5],\"label_smoothing\":0.1}";
        SoftmaxCrossEntropy ce = (SoftmaxCrossEntropy) LossOptions.trainedWith(Map.of(LossOptions.KEY, good),
                Task.CLASSIFICATION, "m.safetensors");
        assertArrayEquals(new double[] {1, 2.5, 0.5}, ce.weights());
        assertEquals(0.1, ce.labelSmoothing());
    }

    private static void assertRefused(CliRun run, String phrase) {
        assertNotEquals(0, run.code(), run.out());
        assertTrue(run.err().contains(phrase) && run.err().strip().lines().count() <= 2,
                "expected '" + phrase + "' in:\n" + run.err());
    }
}
