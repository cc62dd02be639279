package dev.backprop.onnx;

import dev.backprop.backend.DType;
import dev.backprop.data.FashionMnist;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Export then import gives the same network: the same layers, bit-identical weights and outputs, the same task. */
class RoundTripTest extends CpuBackendTest {

    @TempDir
    Path dir;


    @Test
    void aSavedModelComesBackBitForBitWithItsTaskAndClassNames() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).seed(3).flatten().dense(784, 40).relu()
                .dense(40, 30, false).sigmoid().identity().dense(30, 20).tanh().dense(20, 16).threshold()
                .dense(16, 10).build()) {
            SavedModel.save(file, model, Task.CLASSIFICATION, FashionMnist.CLASS_NAMES, Map.of("backprop.seed", "3"));
        }
        Path onnx = dir.resolve("model.onnx");
        Path again = dir.resolve("again.onnx");
        try (SavedModel.Loaded saved = ModelFormats.load(file, cpu)) {
            OnnxExport.write(saved, onnx, OnnxExport.Options.defaults());
            try (SavedModel.Loaded back = ModelFormats.load(onnx, cpu)) {
                assertEquals(saved.model().spec(), back.model().spec());
                assertEquals(saved.model().parameters().keySet(), back.model().parameters().keySet());
                saved.model().parameters().forEach((name, v) -> assertArrayEquals(v.value().toFloatArray(),
                        back.model().parameters().get(name).value().toFloatArray(), name));
                float[] x = OnnxTesting.images(1000);
                assertArrayEquals(OnnxTesting.forward(saved.model(), cpu, x, 1000, 784),
                        OnnxTesting.forward(back.model(), cpu, x, 1000, 784), "outputs bit for bit");
                assertEquals(Task.CLASSIFICATION, back.task());
                assertEquals(FashionMnist.CLASS_NAMES, back.classNames());
                assertEquals("3", back.metadata().get("backprop.seed"));
                OnnxExport.write(back, again, OnnxExport.Options.defaults());
            }
        }
        assertArrayEquals(Files.readAllBytes(onnx), Files.readAllBytes(again), "a re-export writes the same bytes");
    }

    @Test
    void aTrainedCnnComesBackBitForBitWithItsRunningStatisticsCountersAndInputShape() throws IOException {
        Path file = dir.resolve("cnn.safetensors");
        try (Sequential model = OnnxTesting.trainedCnn(cpu)) {
            SavedModel.save(file, model, Task.CLASSIFICATION, FashionMnist.CLASS_NAMES,
                    Map.of(OnnxExport.INPUT_SHAPE_KEY, "1,28,28"));
        }
        Path onnx = dir.resolve("cnn.onnx");
        Path again = dir.resolve("again.onnx");
        try (SavedModel.Loaded saved = ModelFormats.load(file, cpu)) {
            OnnxExport.write(saved, onnx, OnnxExport.Options.defaults());
            OnnxImport.Graph g = OnnxImport.read(onnx);
            assertArrayEquals(new int[] {1, 28, 28}, g.inputShape(), "the model file's input shape is declared");
            assertEquals("{\"1.num_batches_tracked\":10,\"10.num_batches_tracked\":10}",
                    g.metadata().get(Counters.KEY));
            try (SavedModel.Loaded back = ModelFormats.load(onnx, cpu)) {
                Layer a = saved.model(), b = back.model();
                assertEquals(a.spec(), b.spec());
                assertEquals(a.parameters().keySet(), b.parameters().keySet());
                a.parameters().forEach((name, v) -> assertArrayEquals(v.value().toFloatArray(),
                        b.parameters().get(name).value().toFloatArray(), name));
                assertEquals(List.of("1.running_mean", "1.running_var", "10.running_mean", "10.running_var"),
                        List.copyOf(b.buffers().keySet()));
                a.buffers().forEach((name, t) -> assertArrayEquals(t.toFloatArray(), b.buffers().get(name)
                        .toFloatArray(), name));
                a.counters().forEach((name, v) -> assertEquals(v[0], b.counters().get(name)[0], name));
                float[] x = OnnxTesting.images(1000);
                assertArrayEquals(OnnxTesting.forward(a, cpu, x, 1000, 1, 28, 28),
                        OnnxTesting.forward(b, cpu, x, 1000, 1, 28, 28), "outputs bit for bit");
                assertEquals("1,28,28", back.metadata().get(OnnxExport.INPUT_SHAPE_KEY));
                OnnxExport.write(back, again, OnnxExport.Options.defaults());
            }
        }
        assertArrayEquals(Files.readAllBytes(onnx), Files.readAllBytes(again), "a re-export writes the same bytes");
    }

    /**
     * A layer used twice (PyTorch's {@code nn.Sequential(lin, nn.Tanh(), lin)}, whose {@code state_dict} holds
     * {@code 0.weight} and {@code 2.weight}, one tensor) is exported with the tensor under each name: the graph, and
     * the model imported from it, compute the tied model's outputs bit for bit.
     */
    @Test
    void aLayerUsedTwiceIsExportedUnderBothNames() throws Exception {
        Path onnx = dir.resolve("tied.onnx");
        Layer lin = Sequential.builder(cpu, DType.FLOAT32).seed(5).dense(6, 6).build().layers().get(0);
        try (Sequential model = Sequential.of(lin, Activation.tanh(), lin)) {
            assertEquals(Map.of("2.weight", "0.weight", "2.bias", "0.bias"), model.sharedParameters());
            OnnxExport.write(model, onnx, OnnxExport.Options.defaults());
            try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
                assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                        List.copyOf(back.model().parameters().keySet()));
                for (String name : List.of("weight", "bias")) {
                    float[] tied = model.parameters().get("0." + name).value().toFloatArray();
                    assertArrayEquals(tied, back.model().parameters().get("0." + name).value().toFloatArray());
                    assertArrayEquals(tied, back.model().parameters().get("2." + name).value().toFloatArray());
                }
                float[] x = new float[5 * 6];
                for (int k = 0; k < x.length; k++) {
                    x[k] = (k % 7 - 3) / 4f;
                }
                float[] ours = OnnxTesting.forward(model, cpu, x, 5, 6);
                assertArrayEquals(ours, OnnxTesting.forward(back.model(), cpu, x, 5, 6), "outputs bit for bit");
                double rel = OnnxTesting.maxRelative(OnnxTesting.runtime(onnx, x, 5, 6), ours, 6);
                assertTrue(rel < 1e-5, "ONNX Runtime's outputs differ by " + rel);
            }
        }
    }

    @Test
    void theTaskComesFromTheMetadataElseFromTheOutputs() throws IOException {
        Path onnx = dir.resolve("binary.onnx");
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).dense(5, 3).relu().dense(3, 1).build()) {
            OnnxExport.write(model, onnx, OnnxExport.Options.defaults());
            try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
                assertEquals(Task.BINARY, back.task(), "one output, no metadata: binary");
                assertNull(back.classNames());
            }
            OnnxExport.write(new SavedModel.Loaded(model, Task.REGRESSION, null, Map.of()), onnx,
                    OnnxExport.Options.defaults());
            try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
                assertEquals(Task.REGRESSION, back.task());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(
                    new SavedModel.Loaded(model, Task.REGRESSION, null, Map.of()), onnx,
                    OnnxExport.Options.defaults().withSoftmax(true)));
            assertTrue(e.getMessage().contains("softmax output is for classification models"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(new SavedModel.Loaded(model,
                    Task.BINARY, List.of("no", "maybe", "yes"), Map.of()), onnx, OnnxExport.Options.defaults()));
            assertEquals("3 class names for task binary (it takes 2, class 0 then class 1, or none)", e.getMessage());
        }
    }

    @Test
    void exportRefusesWhatHasNoOnnxForm() throws IOException {
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).dense(6, 4).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(model,
                    dir.resolve("x.onnx"), OnnxExport.Options.defaults().withInputShape(2, 3)));
            assertEquals("layer 0 takes 6 features, its input has per-example shape [2, 3] (a flatten layer must come "
                    + "first)", e.getMessage());
        }
        try (Layer model = Sequential.builder(cpu, DType.FLOAT64).dense(6, 4).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.write(model,
                    dir.resolve("x.onnx"), OnnxExport.Options.defaults()));
            assertTrue(e.getMessage().contains("writes FLOAT32 models; parameter '0.weight' is FLOAT64"),
                    e.getMessage());
        }
        assertEquals(List.of(), List.of(dir.toFile().list()), "nothing written on failure");
    }
}
