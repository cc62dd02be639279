package dev.backprop.examples;

import dev.backprop.testing.FashionMnistData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link OnnxExample} on the model {@link SaveLoadPredict} writes: ONNX Runtime predicts what Backprop predicted. */
class OnnxExampleTest {
    @Test
    void onnxRuntimeClassifiesAsBackpropDoes(@TempDir Path dir) throws Exception {
        FashionMnistData.assume();
        Path model = dir.resolve("fashion.safetensors");
        Path onnx = dir.resolve("fashion.onnx");
        List<String> backprop = predicted(ExampleRun.run(SaveLoadPredict::main, model.toString(), "12000"));
        List<String> runtime = predicted(ExampleRun.run(OnnxExample::main, model.toString(), onnx.toString()));
        assertTrue(Files.size(onnx) > 0, "no ONNX file written");
        assertEquals(16, runtime.size());
        assertEquals(backprop, runtime, "ONNX Runtime's classes against Backprop's");
    }

    /** The predicted class of each {@code test image} line. */
    private static List<String> predicted(String out) {
        return out.lines().filter(l -> l.startsWith("test image ")).map(l -> l.substring(15, 26).trim()).toList();
    }
}
