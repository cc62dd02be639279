package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --arch cnn} through {@code train}, {@code eval} and {@code predict} on the cpu backend (small subsets of
 * Fashion-MNIST to keep CI short), plain PyTorch {@code state_dict} files in both directions, and the refusals of
 * options and files that do not fit.
 */
class CnnCommandsTest {
    @TempDir
    Path dir;

    private static CliRun train(String... args) {
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--arch", "cnn", "--train-limit", "256",
                "--test-limit", "200", "--batch-size", "64", "--optimizer", "adam", "--no-progress"));
        Collections.addAll(a, args);
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void theCnnTrainsSavesEvaluatesPredictsAndResumesExactly() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("cnn.safetensors");
        CliRun run = train("--epochs", "2", "--out", model.toString()).ok();
        assertTrue(run.out().contains("model:   cnn conv(1->32,3,p1) relu maxpool(2) conv(32->64,3,p1) relu maxpool(2) "
                + "flatten dense(3136->128) relu dense(128->10), 421642 parameters, loss cross_entropy, weights seed 0 "
                + "(pytorch init)"), run.out());
        double acc = run.field("summary:", "test_acc");
        assertTrue(acc > 0.3, "2 epochs of 4 steps learn something (10 classes): " + acc);
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "200").ok();
        assertEquals(String.format(Locale.ROOT, "%.4f", acc),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats train's figure");
        assertTrue(eval.out().contains(": cnn conv(1->32,3,p1) relu"), eval.out());
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "0..1").ok();
        assertTrue(predict.out().contains("test example 0 (label: Ankle boot)"), predict.out());
        String zeros = String.join(",", Collections.nCopies(784, "0"));
        assertTrue(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row", zeros).ok().out()
                .contains("top 3:  1. "), "a CSV row of 28x28 pixels is an image");
        CliRun shortRow = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--row", "1,2,3");
        assertTrue(shortRow.err().contains("the examples are [3] (a flat row is read as one square channel only when "
                + "its length is a square"), shortRow.err());

        Path ck = dir.resolve("ck.safetensors");
        train("--epochs", "1", "--checkpoint", ck.toString(), "--out", dir.resolve("half.safetensors").toString())
                .ok();
        Path resumed = dir.resolve("resumed.safetensors");
        train("--epochs", "2", "--resume", ck.toString(), "--out", resumed.toString()).ok();
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(resumed), "a resumed CNN run ends in the "
                + "same bytes as an uninterrupted one");
    }

    @Test
    void optionsThatDescribeAnMlpOrOtherDataAreRefusedByName() throws IOException {
        CliRun layers = train("--layers", "784-10");
        assertEquals(Main.EXIT_ERROR, layers.code());
        assertTrue(layers.err().contains("--layers describes an MLP; --arch cnn is a fixed network (leave it out)"),
                layers.err());
        assertTrue(train("--layers", "784-10", "--activation", "tanh").err().contains("--layers and --activation "
                + "describe an MLP"));
        assertTrue(CliRun.of("train", "--arch", "rnn").err().contains("--arch: unknown architecture 'rnn': choose mlp "
                + "or cnn"));
        Path csv = dir.resolve("five.csv");
        Files.writeString(csv, "1,2,3,4,5,0\n2,3,4,5,6,1\n3,4,5,6,7,0\n4,5,6,7,8,1\n5,6,7,8,9,0\n");
        CliRun flat = CliRun.of("train", "--backend", "cpu", "--arch", "cnn", "--csv", csv.toString());
        assertTrue(flat.err().contains("--arch cnn: the network takes images [C, H, W], but the examples are [5]"),
                flat.err());
        Path square = dir.resolve("four.csv");
        Files.writeString(square, "1,2,3,4,0\n2,3,4,5,1\n3,4,5,6,0\n4,5,6,7,1\n5,6,7,8,0\n");
        CliRun tiny = CliRun.of("train", "--backend", "cpu", "--arch", "cnn", "--csv", square.toString());
        assertTrue(tiny.err().contains("--arch cnn: the CNN needs at least 1 channel, images of at least 4x4 and 1 "
                + "output, got 1x2x2 images"), tiny.err());
    }

    @Test
    void plainPyTorchStateDictsLoadIntoTheNamedNetwork() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("cnn.safetensors");
        double acc = train("--epochs", "1", "--out", model.toString()).ok().field("summary:", "test_acc");
        Path plain = dir.resolve("plain.safetensors");
        CliRun.writePlain(model, plain);

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString(), "--arch", "cnn",
                "--test-limit", "200").ok();
        assertEquals(acc, eval.field("eval:", "test_acc"), 5e-5, "the same weights score the same");
        CliRun unnamed = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString());
        assertEquals(Main.EXIT_ERROR, unnamed.code());
        assertTrue(unnamed.err().contains("no 'backprop.architecture' in the metadata (a plain PyTorch state_dict?), "
                + "so the network cannot be rebuilt from the file; name it with --arch cnn"), unnamed.err());
        CliRun asMlp = CliRun.of("predict", "--backend", "cpu", "--model", plain.toString(), "--arch", "mlp");
        assertTrue(asMlp.err().contains("tensor '0.weight' has shape [32, 1, 3, 3], expected [256, 784]"),
                asMlp.err());
        CliRun recorded = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--arch", "mlp");
        assertTrue(recorded.err().contains("records its network (cnn conv(1->32,3,p1)"), recorded.err());

        CliRun init = train("--epochs", "1", "--init", plain.toString(), "--out", dir.resolve("more.safetensors")
                .toString()).ok();
        assertTrue(init.out().contains("weights from " + plain), init.out());
        CliRun wrongInit = CliRun.of("train", "--backend", "cpu", "--init", plain.toString(), "--train-limit", "64");
        assertTrue(wrongInit.err().contains("tensor '0.weight' has shape [32, 1, 3, 3], expected [256, 784]"),
                wrongInit.err());
        CliRun mlpOverCnn = CliRun.of("train", "--backend", "cpu", "--init", model.toString(), "--arch", "mlp",
                "--train-limit", "64");
        assertTrue(mlpOverCnn.err().contains("--arch mlp differs from the model in " + model), mlpOverCnn.err());
    }
}
