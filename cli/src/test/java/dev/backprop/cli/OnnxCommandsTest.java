package dev.backprop.cli;

import dev.backprop.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ONNX side of the command line: {@code export} writes a trained model as ONNX, {@code eval} and {@code predict}
 * read that file to the same figures, {@code train --init} fine-tunes a model PyTorch exported, and a broken ONNX
 * file gets one line on stderr.
 */
class OnnxCommandsTest {
    /** A model PyTorch exported (the onnx module's fixture, written by its make_fixtures.py). */
    static final Path TORCH_MLP = Path.of("../onnx/src/test/resources/dev/backprop/onnx/torch_mlp.onnx");

    @TempDir
    Path dir;

    @Test
    void aTrainedModelExportsAndEvaluatesToTheSameFigures() {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("mlp.safetensors");
        CliRun.of("train", "--backend", "cpu", "--train-limit", "3000", "--test-limit", "1000", "--layers",
                "784-32-10", "--epochs", "1", "--out", model.toString()).ok();
        exportsAndScoresAlike(model, "1000", "input 'input' [batch, 784], output 'output' [batch, 10], 25450 "
                + "parameters, task classification");
    }

    @Test
    void aTrainedCnnExportsAsImagesAndEvaluatesToTheSameFigures() {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("cnn.safetensors");
        CliRun.of("train", "--backend", "cpu", "--arch", "cnn", "--train-limit", "256", "--test-limit", "200",
                "--batch-size", "64", "--optimizer", "adam", "--epochs", "1", "--no-progress", "--out",
                model.toString()).ok();
        Path onnx = exportsAndScoresAlike(model, "200", "input 'input' [batch, 1, 28, 28], output 'output' "
                + "[batch, 10], 421642 parameters, task classification");
        assertTrue(CliRun.of("eval", "--backend", "cpu", "--model", onnx.toString(), "--test-limit", "1").ok().out()
                .contains(": cnn conv(1->32,3,p1) relu maxpool(2)"), "the ONNX file is the same network");
        assertTrue(CliRun.of("export", "--backend", "cpu", "--model", onnx.toString(), "--onnx",
                dir.resolve("again.onnx").toString()).ok().out().contains("input 'input' [batch, 1, 28, 28]"),
                "an ONNX file's declared input is kept");
    }

    /**
     * Exports {@code model} (its line must say {@code written}), and checks that {@code eval} of the ONNX file on
     * {@code testLimit} test examples gives the model file's figures and {@code predict} its class names.
     *
     * @return the ONNX file
     */
    private Path exportsAndScoresAlike(Path model, String testLimit, String written) {
        Path onnx = dir.resolve(model.getFileName().toString().replace(".safetensors", ".onnx"));
        CliRun export = CliRun.of("export", "--backend", "cpu", "--model", model.toString(), "--onnx",
                onnx.toString()).ok();
        assertTrue(export.out().startsWith("wrote " + onnx + ": ONNX opset 17, " + written), export.out());
        CliRun fromFile = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit",
                testLimit).ok();
        CliRun fromOnnx = CliRun.of("eval", "--backend", "cpu", "--model", onnx.toString(), "--test-limit",
                testLimit).ok();
        assertEquals(fromFile.field("eval:", "test_acc"), fromOnnx.field("eval:", "test_acc"));
        assertEquals(fromFile.field("eval:", "test_loss"), fromOnnx.field("eval:", "test_loss"));
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", onnx.toString(), "--index", "0").ok();
        assertTrue(predict.out().contains("test example 0 (label: Ankle boot)"), "class names travel: "
                + predict.out());
        return onnx;
    }

    @Test
    void trainInitFineTunesAPyTorchExportUnderPyTorchsNames() throws IOException {
        CliRun.assumeFashionMnist();
        Path out = dir.resolve("tuned.safetensors");
        CliRun before = CliRun.of("eval", "--backend", "cpu", "--model", TORCH_MLP.toString(), "--test-limit",
                "1000").ok();
        assertTrue(before.out().contains("flatten dense(784->64) relu identity dense(64->32) tanh dense(32->10)"),
                before.out());
        CliRun train = CliRun.of("train", "--backend", "cpu", "--init", TORCH_MLP.toString(), "--train-limit",
                "2000", "--test-limit", "1000", "--epochs", "1", "--lr", "0.01", "--out", out.toString()).ok();
        assertTrue(train.field("summary:", "test_acc") > 0.8, train.out());
        try (SafeTensorsFile f = SafeTensorsFile.open(out)) {
            assertEquals(Set.of("1.weight", "1.bias", "4.weight", "4.bias", "6.weight", "6.bias"),
                    f.shapes().keySet(), "nn.Sequential's state_dict names, ready for load_state_dict");
        }
    }

    @Test
    void aBrokenOnnxFileGetsOneLine() throws IOException {
        Path bad = dir.resolve("bad.onnx");
        byte[] good = Files.readAllBytes(TORCH_MLP);
        Files.write(bad, java.util.Arrays.copyOf(good, good.length / 3));
        for (List<String> args : List.of(List.of("eval", "--model", bad.toString()),
                List.of("predict", "--model", bad.toString()),
                List.of("export", "--model", bad.toString(), "--onnx", dir.resolve("x.onnx").toString()))) {
            List<String> all = new java.util.ArrayList<>(args);
            all.addAll(List.of("--backend", "cpu"));
            CliRun r = CliRun.of(all.toArray(String[]::new));
            assertEquals(Main.EXIT_ERROR, r.code(), r.err());
            assertTrue(r.err().startsWith("backprop: " + bad + ": not a readable ONNX file: "), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
        }
        CliRun softmax = CliRun.of("export", "--backend", "cpu", "--model", TORCH_MLP.toString(), "--onnx",
                dir.resolve("p.onnx").toString(), "--softmax", "--input-shape", "1,28,x");
        assertEquals(Main.EXIT_ERROR, softmax.code());
        assertEquals("backprop: input shape '1,28,x' must be positive integers like 1,28,28", softmax.err().trim());
    }
}
