package dev.backprop.onnx;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.backprop.data.Dataset;
import dev.backprop.model.InputShape;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.LayerSpec;
import dev.backprop.onnx.proto.Onnx;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models exported by PyTorch's {@code torch.onnx.export} (fixtures written by src/test/python/make_fixtures.py):
 * they import, score PyTorch's own test accuracy to 4 decimals and give its logits (the CNNs on {@code [B, 1, 28, 28]}
 * batches, batch norm on the running statistics the file holds), and keep PyTorch's parameter names. The
 * convolutional fixtures are also written back through every image row of the operator table and checked in ONNX
 * Runtime against PyTorch's own file.
 */
class TorchFixturesTest extends CpuBackendTest {

    @TempDir
    Path dir;


    @ParameterizedTest
    @ValueSource(strings = {"torch_mlp.onnx", "torch_mlp_opset9.onnx", "torch_mlp_matmul.onnx",
        "torch_mlp_layernorm.onnx"})
    void scoresPyTorchsAccuracy(String name) throws Exception {
        try (SavedModel.Loaded m = OnnxImport.load(OnnxTesting.fixture(name), cpu)) {
            assertEquals(Task.CLASSIFICATION, m.task());
            assertNull(m.classNames());
            assertScoresLikePyTorch(name, m, 28, 28);
        }
    }

    /**
     * Accuracy and loss on the test set, and the first logits, against PyTorch's; the examples shaped as the network
     * takes them ({@code dims}), as {@code backprop eval} shapes them.
     */
    private static void assertScoresLikePyTorch(String name, SavedModel.Loaded m, int... dims) throws Exception {
        JsonObject expected = OnnxTesting.manifest(name);
        Dataset test = OnnxTesting.testImages();
        assertArrayEquals(dims, InputShape.of(m.model().spec(), test.featureShape()));
        Evaluation ev = Evaluator.evaluate(m.model(), m.task(), test.withFeatureShape(dims), 1000);
        double torchAccuracy = expected.get("accuracy").getAsDouble();
        System.out.printf(Locale.ROOT, "%s: PyTorch accuracy %.4f loss %.4f, Backprop accuracy %.4f loss %.4f%n", name,
                torchAccuracy, expected.get("loss").getAsDouble(), ev.accuracy(), ev.loss());
        assertEquals(String.format(Locale.ROOT, "%.4f", torchAccuracy),
                String.format(Locale.ROOT, "%.4f", ev.accuracy()), "accuracy to 4 decimals");
        assertEquals(expected.get("loss").getAsDouble(), ev.loss(), 1e-4, "mean loss");
        int[] batch = new int[dims.length + 1];
        batch[0] = 8;
        System.arraycopy(dims, 0, batch, 1, dims.length);
        float[] logits = OnnxTesting.forward(m.model(), cpu, OnnxTesting.images(8), batch);
        double rel = OnnxTesting.maxRelative(logits, firstLogits(expected), 10);
        assertTrue(rel <= 1e-5, "logits of the first test images differ from PyTorch's by " + rel);
    }

    static float[] firstLogits(JsonObject expected) {
        JsonArray rows = expected.getAsJsonArray("first_logits");
        float[] out = new float[rows.size() * 10];
        for (int r = 0; r < rows.size(); r++) {
            for (int j = 0; j < 10; j++) {
                out[r * 10 + j] = rows.get(r).getAsJsonArray().get(j).getAsFloat();
            }
        }
        return out;
    }

    @Test
    void keepsPyTorchsLayersAndParameterNames() throws Exception {
        OnnxImport.Graph mlp = OnnxImport.read(OnnxTesting.fixture("torch_mlp.onnx"));
        assertEquals(List.of("flatten", "dense", "relu", "identity", "dense", "tanh", "dense"), types(mlp.spec()));
        assertEquals(List.of("1.weight", "1.bias", "4.weight", "4.bias", "6.weight", "6.bias"),
                List.copyOf(mlp.state().keySet()), "nn.Dropout at index 3 is not in the file: an identity fills in");
        assertArrayEquals(new int[] {1, 28, 28}, mlp.inputShape());
        assertEquals("images", mlp.inputName());
        OnnxImport.Graph opset9 = OnnxImport.read(OnnxTesting.fixture("torch_mlp_opset9.onnx"));
        assertEquals(mlp.spec(), opset9.spec());
        assertEquals(mlp.state(), opset9.state(), "initializers listed as inputs are read as initializers");

        OnnxImport.Graph matmul = OnnxImport.read(OnnxTesting.fixture("torch_mlp_matmul.onnx"));
        assertEquals(List.of("flatten", "dense", "sigmoid", "dense"), types(matmul.spec()));
        assertEquals(0, matmul.spec().layers().get(1).arg("bias"));
        assertEquals(List.of("1.weight", "3.weight", "3.bias"), List.copyOf(matmul.state().keySet()),
                "the MatMul's weight, renamed by PyTorch, gets its name from the node /1/MatMul");
        Onnx.ModelProto file = Onnx.ModelProto.parseFrom(Files.readAllBytes(OnnxTesting.fixture(
                "torch_mlp_matmul.onnx")));
        Onnx.TensorProto transposed = file.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().startsWith("onnx::MatMul")).findFirst().orElseThrow();
        assertEquals(OnnxReader.floats(transposed, "w").transposed(), matmul.state().get("1.weight"),
                "MatMul's [in, out] weight becomes nn.Linear's [out, in]");

        OnnxImport.Graph ln = OnnxImport.read(OnnxTesting.fixture("torch_mlp_layernorm.onnx"));
        assertEquals(List.of("flatten", "dense", "layernorm", "relu", "dense", "layernorm", "tanh", "dense"),
                types(ln.spec()));
        assertEquals(LayerNorm.spec(64, 1e-5, true), ln.spec().layers().get(2));
        assertEquals(LayerNorm.spec(32, 1e-6, true), ln.spec().layers().get(5), "epsilon 1e-6f read as 1e-6");
        assertEquals(List.of("1.weight", "1.bias", "2.weight", "2.bias", "4.weight", "4.bias", "5.weight", "5.bias",
                "7.weight", "7.bias"), List.copyOf(ln.state().keySet()), "nn.LayerNorm's state_dict names");
    }

    /**
     * PyTorch's binary classifier for {@code nn.BCELoss} ends with a Sigmoid: it is the binary task's own, so the model
     * read ends with the logit, predicts PyTorch's probabilities and scores its accuracy at 0.5 and its loss; a
     * file whose metadata names another task keeps the Sigmoid as a layer.
     */
    @Test
    void aFinalSigmoidIsTheBinaryTasks() throws Exception {
        String name = "torch_binary_sigmoid.onnx";
        Path torch = OnnxTesting.fixture(name);
        OnnxImport.Graph g = OnnxImport.read(torch);
        assertEquals(List.of("flatten", "dense", "relu", "dense"), types(g.spec()));
        assertEquals("Sigmoid", g.outputTransform());
        JsonObject expected = OnnxTesting.manifest(name);
        try (SavedModel.Loaded m = OnnxImport.load(torch, cpu)) {
            assertEquals(Task.BINARY, m.task());
            Evaluation ev = Evaluator.evaluate(m.model(), m.task(), OnnxTesting.testImages().oneVsRest(0), 1000);
            assertEquals(String.format(Locale.ROOT, "%.4f", expected.get("accuracy").getAsDouble()),
                    String.format(Locale.ROOT, "%.4f", ev.accuracy()), "accuracy at 0.5 to 4 decimals");
            assertEquals(expected.get("loss").getAsDouble(), ev.loss(), 1e-4, "mean binary cross-entropy");
            float[] p = new Predictor(m.model(), m.task()).predict(OnnxTesting.images(8), 8);
            JsonArray rows = expected.getAsJsonArray("first_probabilities");
            for (int r = 0; r < 8; r++) {
                float want = rows.get(r).getAsJsonArray().get(0).getAsFloat();
                assertEquals(want, p[r], 1e-5 * Math.max(want, 1e-2f), "probability of test image " + r);
            }
        }
        Onnx.ModelProto regression = Onnx.ModelProto.parseFrom(Files.readAllBytes(torch)).toBuilder()
                .addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(SavedModel.TASK_KEY)
                        .setValue(Task.REGRESSION.id()))
                .build();
        Path kept = dir.resolve("regression.onnx");
        Files.write(kept, regression.toByteArray());
        OnnxImport.Graph r = OnnxImport.read(kept);
        assertEquals(List.of("flatten", "dense", "relu", "dense", "sigmoid"), types(r.spec()));
        assertNull(r.outputTransform());
    }

    /** The layer types of a sequential spec. */
    static List<String> types(LayerSpec spec) {
        return spec.layers().stream().map(LayerSpec::type).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"torch_cnn.onnx", "torch_cnn_bn_dropout.onnx"})
    void convolutionalNetworksGoThroughTheImageRows(String name) throws Exception {
        Path torch = OnnxTesting.fixture(name);
        OnnxImport.Graph g = OnnxImport.read(torch);
        assertEquals(EXPECTED_LAYERS.get(name), types(g.spec()));
        for (LayerSpec l : g.spec().layers()) {
            if (l.type().equals("avgpool2d")) {
                assertEquals(Map.of("kernel_h", 2, "kernel_w", 2, "stride_h", 2, "stride_w", 2, "pad_h", 0, "pad_w", 0,
                        "count_include_pad", 1), l.args(), "Pad + AveragePool is AvgPool2d(2, count_include_pad=True)");
            }
        }
        Path ours = dir.resolve("backprop_" + name);
        Files.write(ours, OnnxExport.toModel(g.spec(), g.state(), OnnxExport.Options.defaults()
                .withInputShape(1, 28, 28), Map.of()).toByteArray());
        float[] x = OnnxTesting.images(1000);
        float[] fromTorch = OnnxTesting.runtime(torch, x, 1000, 1, 28, 28);
        float[] fromOurs = OnnxTesting.runtime(ours, x, 1000, 1, 28, 28);
        double rel = OnnxTesting.maxRelative(fromOurs, fromTorch, 10);
        System.out.printf(Locale.ROOT, "%s: ONNX Runtime on PyTorch's file vs on Backprop's re-export: max relative "
                + "difference %.3g%n", name, rel);
        assertTrue(rel <= 1e-5, "re-exported " + name + " differs in ONNX Runtime by " + rel);
        float[] first = java.util.Arrays.copyOf(fromOurs, 80);
        double vsTorch = OnnxTesting.maxRelative(first, firstLogits(OnnxTesting.manifest(name)), 10);
        assertTrue(vsTorch <= 1e-5, "ONNX Runtime differs from PyTorch's logits by " + vsTorch);
        try (SavedModel.Loaded m = OnnxImport.load(torch, cpu)) {
            assertScoresLikePyTorch(name, m, 1, 28, 28);
            assertEquals("1,28,28", m.metadata().get(OnnxExport.INPUT_SHAPE_KEY), "the declared input, for export");
            m.model().counters().forEach((counter, value) -> assertEquals(0, value[0], counter + ": ONNX has no "
                    + "counters; PyTorch's file starts them at 0"));
            assertEquals(name.contains("_bn_") ? 4 : 0, m.model().buffers().size(), "two batch norms' statistics");
            m.model().buffers().forEach((buffer, value) -> assertArrayEquals(g.state().get(buffer).data(),
                    value.toFloatArray(), buffer + " holds the file's running statistics"));
        }
    }

    private static final Map<String, List<String>> EXPECTED_LAYERS = Map.of(
            "torch_cnn.onnx", List.of("conv2d", "relu", "maxpool2d", "conv2d", "relu", "maxpool2d", "flatten", "dense",
                    "relu", "dense"),
            // PyTorch folds the first BatchNorm2d into its Conv and drops the Dropouts; identities fill the indices.
            "torch_cnn_bn_dropout.onnx", List.of("conv2d", "relu", "maxpool2d", "identity", "conv2d", "relu",
                    "batchnorm2d", "avgpool2d", "flatten", "identity", "dense", "batchnorm1d", "relu", "identity",
                    "dense"));
}
