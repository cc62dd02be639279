package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's examples, run for real on the cpu backend: Fashion-MNIST classification (a subset and a small network,
 * to keep CI short; the full default run is measured by hand, see the README), binary one-vs-rest classification
 * with binary cross-entropy, and regression on the README's plane.csv ({@link PlaneCsv}), reaching a known fit.
 */
class TrainExamplesTest {
    @TempDir
    Path dir;

    @Test
    void fashionMnistClassificationTrainsSavesPlotsEvaluatesAndPredicts() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("fashion.safetensors");
        Path plot = dir.resolve("fashion.png");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--train-limit", "6000", "--test-limit", "2000",
                "--layers", "784-64-10", "--epochs", "2", "--out", model.toString(), "--plot", plot.toString()).ok();
        assertTrue(train.out().startsWith("backend: cpu on "), train.out());
        assertTrue(train.out().contains("sgd lr 0.1, batch 128 (47 steps per epoch, last batch 112)"), train.out());
        assertTrue(train.out().contains("\n    2 "), "one line per epoch:\n" + train.out());
        double acc = train.field("summary:", "test_acc");
        assertTrue(acc >= 0.65, "2 epochs on 6000 images reach about 0.71, got " + acc);
        assertTrue(train.field("summary:", "median_epoch_s") > 0);

        BufferedImage png = ImageIO.read(plot.toFile());
        assertNotNull(png, "--plot writes a PNG");
        assertTrue(png.getWidth() >= 600 && png.getHeight() >= 300, png.getWidth() + "x" + png.getHeight());

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "2000").ok();
        assertEquals(String.format(Locale.ROOT, "%.4f", acc),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats train's figure");

        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "0..1").ok();
        assertTrue(predict.out().contains("test example 0 (label: Ankle boot)"), predict.out());
        assertTrue(predict.out().contains("top 3:  1. "), predict.out());
        assertTrue(predict.out().contains("probabilities:  T-shirt/top "), predict.out());
    }

    @Test
    void binaryOneVsRestWithBinaryCrossEntropy() {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("trouser.safetensors");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--task", "binary", "--positive-class", "1",
                "--train-limit", "4000", "--test-limit", "2000", "--layers", "784-32-1", "--epochs", "2",
                "--out", model.toString()).ok();
        assertTrue(train.out().contains("'Trouser' (class 1) against the rest"), train.out());
        assertTrue(train.out().contains("loss bce_with_logits"), train.out());
        double acc = train.field("summary:", "test_acc");
        assertTrue(acc >= 0.95, "always saying 'not a trouser' scores 0.90; training reaches about 0.98, got " + acc);

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "2000").ok();
        assertEquals(acc, eval.field("eval:", "test_acc"), 5e-5, "the positive class comes from the model file");
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "2").ok();
        assertTrue(predict.out().contains("test example 2 (label: Trouser): P(Trouser) = "), predict.out());

        // the report's class 1 is the trouser (1000 of the 10,000 test images), class 0 the other nine classes
        CliRun report = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--report").ok();
        assertTrue(report.out().matches("(?s).*\nnot Trouser( +[0-9.]+){3} +9000\nTrouser( +[0-9.]+){3} +1000\n.*"),
                report.out());
        // the model's one output scores Trouser: labels made for class 3 would be tallied and named as trousers
        for (String command : new String[] {"eval", "predict"}) {
            CliRun other = CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--positive-class", "3");
            assertEquals(1, other.code(), other.out() + other.err());
            assertEquals("backprop: --positive-class 3 is not the class " + model + " was trained to score against "
                    + "the rest, 1: leave it out or give 1", other.err().strip());
        }
        CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "100", "--positive-class",
                "1").ok();
    }

    @Test
    void regressionOnACsvReachesTheKnownFit() throws IOException {
        Path csv = dir.resolve("plane.csv");
        PlaneCsv.write(csv);
        Path model = dir.resolve("plane.safetensors");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--task", "regression", "--csv", csv.toString(),
                "--layers", "2-32-1", "--activation", "tanh", "--optimizer", "adam", "--lr", "0.01",
                "--batch-size", "32", "--epochs", "30", "--out", model.toString()).ok();
        assertTrue(train.out().contains("800 train, 200 test"), train.out());
        double rmse = train.field("summary:", "test_rmse");
        assertTrue(rmse < 0.05, "y has a spread of about 1.45; the fit reaches about 0.03, got " + rmse);

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString()).ok();
        assertEquals(rmse, eval.field("eval:", "test_rmse"), 5e-5, "the same seeded hold-out split");
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row",
                "0.5,-0.5").ok();
        double v = Double.parseDouble(predict.out().replaceAll("(?s).*row: value ([-0-9.]+).*", "$1"));
        assertEquals(1.625, v, 0.1, "1.5·0.5 − 2·(−0.5) + 0.5·0.5·(−0.5)");
    }
}
