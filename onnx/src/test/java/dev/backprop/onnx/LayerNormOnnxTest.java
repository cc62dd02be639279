package dev.backprop.onnx;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
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
