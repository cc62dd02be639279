package dev.backprop.onnx;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Sequential;
import dev.backprop.onnx.proto.Onnx;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LayerNorm} as ONNX's {@code LayerNormalization}: written with axis -1 and its epsilon, read back as the same
 * layer with the same bits, and each attribute or input Backprop's layer does not compute refused in one line naming
 * the node and the value. ONNX Runtime runs the written file in {@code OnnxRuntimeTest}; PyTorch's own export is
 * {@code TorchFixturesTest}'s {@code torch_mlp_layernorm.onnx}.
 */
class LayerNormOnnxTest extends CpuBackendTest {
    @TempDir
    Path dir;

    /** Dense 4 -> 3, a layer norm with weight and bias, relu, one without them (eps 1e-6), dense 3 -> 2. */
    private static Sequential model() {
        Sequential m = Sequential.builder(cpu, DType.FLOAT32).seed(3).dense(4, 3).layerNorm(3).relu()
                .layerNorm(3, 1e-6, false).dense(3, 2).build();
        try (Tensor w = Tensor.of(cpu, new float[] {0.5f, 1.25f, -2}, 3);
             Tensor b = Tensor.of(cpu, new float[] {0.1f, -0.3f, 0.7f}, 3)) {
            Elementwise.copy(w, m.parameters().get("1.weight").value());
            Elementwise.copy(b, m.parameters().get("1.bias").value());
        }
        return m;
    }

    @Test
    void exportThenImportGivesTheSameLayersAndBits() throws Exception {
        Path onnx = dir.resolve("ln.onnx");
        try (Sequential m = model()) {
            OnnxExport.write(m, onnx, OnnxExport.Options.defaults());
            Onnx.GraphProto g = Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx)).getGraph();
            Onnx.NodeProto affine = g.getNode(1), plain = g.getNode(3);
            assertEquals("LayerNormalization", affine.getOpType());
            assertEquals(List.of("/0/Gemm_output_0", "1.weight", "1.bias"), affine.getInputList());
            assertEquals(List.of("axis", "epsilon"), affine.getAttributeList().stream()
                    .map(Onnx.AttributeProto::getName).toList());
            assertEquals(-1, affine.getAttribute(0).getI());
            assertEquals(1e-5f, affine.getAttribute(1).getF());
            assertEquals(List.of("/2/Relu_output_0", "3.layernorm_scale"), plain.getInputList(),
                    "ONNX requires a Scale: ones, and no B");
            assertEquals(1e-6f, plain.getAttribute(1).getF());
            try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
                assertEquals(m.spec(), back.model().spec());
                assertEquals(m.parameters().keySet(), back.model().parameters().keySet());
                for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                    assertArrayEquals(e.getValue().value().toFloatArray(),
                            back.model().parameters().get(e.getKey()).value().toFloatArray(), e.getKey());
                }
                float[] x = {1, -2, 0.5f, 3, 0, 0.25f, -1, 2};
                assertArrayEquals(OnnxTesting.forward(m, cpu, x, 2, 4), OnnxTesting.forward(back.model(), cpu, x, 2,
                        4));
            }
        }
    }

    /**
     * ONNX holds epsilon as a float32; the eps read back is that float's shortest decimal, which is the eps written
     * for any of up to 6 significant digits (float32's guarantee) and for these, so the layer and the model file
     * saved from the import are the same.
     */
    @Test
    void epsThroughFloat32ComesBackAsTheSameDecimalAndModelFile() throws Exception {
        for (double eps : new double[] {1e-5, 1e-6, 1e-8, 1e-12, 2.5e-7, 1e-3, 0.1, 1, 3.3e-6, 1.2345678e-5}) {
            LayerSpec written = LayerNorm.spec(4, eps, true);
            Map<String, HostTensor> state = Map.of("0.weight", OnnxTesting.filled(4), "0.bias", OnnxTesting.filled(4));
            Path file = dir.resolve("eps.onnx");
            Files.write(file, OnnxExport.toModel(OnnxTesting.sequential(written), state,
                    OnnxExport.Options.defaults(), Map.of()).toByteArray());
            assertEquals(written, OnnxImport.read(file).spec().layers().get(0), "eps " + eps);
        }
        Path saved = dir.resolve("ln.safetensors"), onnx = dir.resolve("ln.onnx"), again = dir.resolve("again.st");
        try (Sequential m = Sequential.builder(cpu, DType.FLOAT32).seed(4).dense(4, 3).layerNorm(3, 1e-12, true)
                .tanh().layerNorm(3, 2.5e-7, false).dense(3, 2).build()) {
            SavedModel.save(saved, m, Task.CLASSIFICATION, List.of("a", "b"), Map.of());
        }
        try (SavedModel.Loaded loaded = SavedModel.load(saved, cpu)) {
            OnnxExport.write(loaded, onnx, OnnxExport.Options.defaults());
        }
        try (SavedModel.Loaded back = OnnxImport.load(onnx, cpu)) {
            SavedModel.save(again, back.model(), back.task(), back.classNames(), Map.of());
        }
        assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(again), "the model file from the import");
    }

    /** A layer norm's own ONNX graph, {@code [4]} per example: weight and bias 0.25 when affine. */
    private static Onnx.ModelProto layerNorm(boolean affine) {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        if (affine) {
            state.put("0.weight", OnnxTesting.filled(4));
            state.put("0.bias", OnnxTesting.filled(4));
        }
        return OnnxExport.toModel(OnnxTesting.sequential(LayerNorm.spec(4, 1e-5, affine),
                LayerSpec.of("relu", Map.of())), state, OnnxExport.Options.defaults(), Map.of());
    }

    private LayerSpec read(Onnx.ModelProto m) throws Exception {
        Path file = dir.resolve("read.onnx");
        Files.write(file, m.toByteArray());
        return OnnxImport.read(file).spec().layers().get(0);
    }

    private static Onnx.ModelProto edit(Onnx.ModelProto m, UnaryOperator<Onnx.NodeProto.Builder> node) {
        Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
        node.apply(g.getNodeBuilder(0));
        return m.toBuilder().setGraph(g).build();
    }

    /** PyTorch 1.13 leaves Scale empty without affine parameters; a Scale of ones without B is the same layer. */
    @Test
    void aNodeWithoutScaleOrWithOnesAndNoBiasIsALayerWithoutAffineParameters() throws Exception {
        assertEquals(LayerNorm.spec(4, 1e-5, false), read(layerNorm(false)));
        assertEquals(LayerNorm.spec(4, 1e-5, false), read(edit(layerNorm(false), n -> n.setInput(1, ""))));
        assertEquals(LayerNorm.spec(4, 1e-5, true), read(layerNorm(true)));
        Onnx.ModelProto noBias = edit(layerNorm(true), n -> n.clearInput()
                .addAllInput(layerNorm(true).getGraph().getNode(0).getInputList().subList(0, 2)));
        Path file = dir.resolve("nobias.onnx");
        Files.write(file, noBias.toByteArray());
        OnnxImport.Graph g = OnnxImport.read(file);
        assertEquals(LayerNorm.spec(4, 1e-5, true), g.spec().layers().get(0), "a Scale of 0.25 is affine");
        assertArrayEquals(new float[4], g.state().get("0.bias").data(), "the bias B leaves out is zeros");
    }

    @Test
    void epsilonIsReadAsItsShortestDecimal() throws Exception {
        Onnx.ModelProto m = edit(layerNorm(true), n -> n.setAttribute(1, GraphWriter.attr("epsilon", 1e-12f)));
        assertEquals(1e-12, LayerNorm.eps(read(m)));
        m = edit(layerNorm(true), n -> n.removeAttribute(1));
        assertEquals(1e-5, LayerNorm.eps(read(m)), "ONNX's default epsilon");
        m = edit(layerNorm(true), n -> n.setAttribute(0, GraphWriter.attr("axis", 1)));
        assertEquals(LayerNorm.spec(4, 1e-5, true), read(m), "axis 1 of [batch, 4] is the last");
    }

    private void refused(String what, Onnx.ModelProto m, String message) throws Exception {
        Path file = dir.resolve("bad.onnx");
        Files.write(file, m.toByteArray());
        long before = cpu.memoryStats().liveBuffers();
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxImport.load(file, cpu).close(), what);
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().endsWith(message)
                && !e.getMessage().contains("\n"), what + ": " + e.getMessage());
        assertEquals(before, cpu.memoryStats().liveBuffers(), what + ": buffers left");
    }

    @Test
    void whatTheLayerDoesNotComputeIsRefusedNamingTheNodeAndValue() throws Exception {
        String node = ": node '/0/LayerNormalization' (LayerNormalization): ";
        refused("axis 0", edit(layerNorm(true), n -> n.setAttribute(0, GraphWriter.attr("axis", 0))),
                node + "attribute 'axis' = 0 is not supported (Backprop normalizes the last dimension: -1 or 1 here)");
        refused("epsilon 0", edit(layerNorm(true), n -> n.setAttribute(1, GraphWriter.attr("epsilon", 0f))),
                node + "attribute 'epsilon' = 0.0, expected a positive finite value");
        refused("epsilon NaN", edit(layerNorm(true), n -> n.setAttribute(1, GraphWriter.attr("epsilon", Float.NaN))),
                node + "attribute 'epsilon' = NaN, expected a positive finite value");
        refused("stash_type 0", edit(layerNorm(true), n -> n.addAttribute(GraphWriter.attr("stash_type", 0))),
                node + "attribute 'stash_type' = 0 is not supported (Backprop reads only 1)");
        refused("the Mean output", edit(layerNorm(true), n -> n.addOutput("mean")),
                node + "its Mean and InvStdDev outputs are not supported (Backprop's layer gives only Y)");
        refused("B without Scale", edit(layerNorm(true), n -> n.setInput(1, "")),
                node + "has a B input without a Scale input");
        Onnx.ModelProto opset13 = layerNorm(true).toBuilder().setOpsetImport(0, Onnx.OperatorSetIdProto.newBuilder()
                .setDomain("").setVersion(13)).build();
        refused("opset 13", opset13, node + "LayerNormalization is an opset 17 operator; the model imports opset 13");
    }

    /** What a hostile or broken file may put in the node: each refused in one line, nothing allocated. */
    @Test
    void aMalformedNodeIsRefusedInOneLine() throws Exception {
        String node = ": node '/0/LayerNormalization' (LayerNormalization): ";
        refused("epsilon as an INT", edit(layerNorm(true), n -> n.setAttribute(1, GraphWriter.attr("epsilon", 1))),
                node + "attribute 'epsilon' is INT, expected FLOAT");
        refused("epsilon infinite", edit(layerNorm(true), n -> n.setAttribute(1, GraphWriter.attr("epsilon",
                Float.POSITIVE_INFINITY))), node + "attribute 'epsilon' = Infinity, expected a positive finite value");
        refused("an unknown attribute", edit(layerNorm(true), n -> n.addAttribute(GraphWriter.attr("axes", 1))),
                node + "attribute 'axes' is not supported (this operator is read with axis, epsilon, stash_type)");
        refused("Scale from the graph's input", edit(layerNorm(true), n -> n.setInput(1, n.getInput(0))),
                node + "input 'input' must be a constant");
        refused("four inputs", edit(layerNorm(true), n -> n.addInput("0.bias")),
                node + "has 4 inputs, expected 1 to 3");
        Onnx.ModelProto m = layerNorm(true);
        Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
        g.getInitializerBuilder(0).setDataType(Onnx.TensorProto.DataType.INT64_VALUE).setRawData(
                com.google.protobuf.ByteString.copyFrom(new byte[32]));
        refused("an INT64 Scale", m.toBuilder().setGraph(g).build(), "scale '0.weight' is INT64, expected FLOAT");
    }

    /** Random corruptions of a file with both forms of the node load or are refused in one line. */
    @Test
    void everyCorruptionOfALayerNormFileLoadsOrIsRefusedWithOneLine() throws Exception {
        Path original = dir.resolve("original.onnx");
        try (Sequential m = model()) {
            OnnxExport.write(m, original, OnnxExport.Options.defaults());
        }
        int refused = OnnxMutationTest.survives(Files.readAllBytes(original), 17, 300, dir.resolve("mutant.onnx"));
        assertTrue(refused > 150, "most corruptions are caught: " + refused + " of 300");
    }

    @Test
    void aScaleOfAnotherSizeIsRefused() throws Exception {
        Onnx.ModelProto m = layerNorm(true);
        Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
        g.getInitializerBuilder(0).clearDims().addDims(3).setRawData(com.google.protobuf.ByteString.copyFrom(
                new byte[12]));
        refused("scale [3]", m.toBuilder().setGraph(g).build(), ": node '/0/LayerNormalization' (LayerNormalization): "
                + "scale '0.weight' is [3], expected [4]");
    }

    @Test
    void exportRefusesAnInputOfAnotherWidthAndAnEpsWithoutAFloat() {
        LayerSpec spec = OnnxTesting.sequential(OperatorTable.dense(4, 3, true), LayerNorm.spec(5, 1e-5, false));
        Map<String, HostTensor> state = Map.of("0.weight", OnnxTesting.filled(3, 4), "0.bias", OnnxTesting.filled(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.toModel(spec,
                state, OnnxExport.Options.defaults(), Map.of()));
        assertEquals("layer 1 (layernorm) takes per-example shape [..., 5], its input has [3]", e.getMessage());
        LayerSpec tiny = OnnxTesting.sequential(LayerNorm.spec(4, 1e-50, false));
        e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.toModel(tiny, Map.of(),
                OnnxExport.Options.defaults(), Map.of()));
        assertEquals("layer 0 (layernorm): eps 1.0E-50 has no float32 value, which ONNX's epsilon attribute is",
                e.getMessage());
    }

    @Test
    void aLayerNormFirstMakesTheInputItsFeatures() throws Exception {
        try (Layer m = Sequential.builder(cpu, DType.FLOAT32).layerNorm(6).dense(6, 2).build()) {
            Path onnx = dir.resolve("first.onnx");
            OnnxExport.write(m, onnx, OnnxExport.Options.defaults());
            assertArrayEquals(new int[] {6}, OnnxImport.read(onnx).inputShape());
            assertFalse(OnnxImport.read(onnx).spec().layers().isEmpty());
        }
    }
}
