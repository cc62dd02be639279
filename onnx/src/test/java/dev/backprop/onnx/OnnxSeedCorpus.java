package dev.backprop.onnx;

import com.google.protobuf.ByteString;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.LayerSpec;
import dev.backprop.onnx.proto.Onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the ONNX fuzz target's seed corpus: small valid files ({@code valid-*}) that between them reach every row
 * of the operator table, both of PyTorch's layouts and the counters property, and near misses ({@code near-*}), under
 * {@code src/test/resources/dev/backprop/fuzz/OnnxFuzzTestInputs/onnx/}; {@link OnnxSeedCorpusTest} keeps them so.
 * Run from {@code onnx} after a change of what is written, once the tests are compiled, with the test class path
 * ({@code target/test-classes}, {@code target/classes}, core's classes and test classes, protobuf-java, Gson, JUnit):
 * {@code java -cp CLASSPATH dev.backprop.onnx.OnnxSeedCorpus src/test/resources}.
 */
public final class OnnxSeedCorpus {
    private OnnxSeedCorpus() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createDirectories(Path.of(args[0], "dev", "backprop", "fuzz", "OnnxFuzzTestInputs", "onnx"));
        Files.write(dir.resolve("valid-mlp-softmax"), OnnxExport.toModel(OnnxTesting.mlpSpec(),
                OnnxTesting.mlpState(), OnnxExport.Options.defaults().withSoftmax(true), Map.of(SavedModel.TASK_KEY,
                        "classification", SavedModel.CLASS_NAMES_KEY, "[\"a\",\"b\"]")).toByteArray());
        Files.write(dir.resolve("valid-activations"), activations().toByteArray());
        Files.write(dir.resolve("valid-image-layers"), images().toByteArray());
        Files.write(dir.resolve("valid-pytorch-style"), pytorchStyle().toByteArray());
        Files.write(dir.resolve("valid-layer-norms"), layerNorms().toByteArray());
        Onnx.GraphProto.Builder ln = layerNorms().getGraph().toBuilder();
        ln.getNodeBuilder(1).addOutput("/1/Mean_output_0");
        Files.write(dir.resolve("near-layer-norm-mean"), layerNorms().toBuilder().setGraph(ln).build().toByteArray());
        Onnx.ModelProto small = OnnxTesting.small();
        Files.write(dir.resolve("near-opset-99"), small.toBuilder().setOpsetImport(0,
                small.getOpsetImport(0).toBuilder().setVersion(99)).build().toByteArray());
        Onnx.GraphProto.Builder g = small.getGraph().toBuilder();
        g.setNode(0, g.getNode(0).toBuilder().setInput(0, g.getNode(2).getOutput(0)));
        Files.write(dir.resolve("near-cycle"), small.toBuilder().setGraph(g).build().toByteArray());
    }

    /** Flatten, sigmoid, a dense layer without bias, tanh, identity, threshold. */
    private static Onnx.ModelProto activations() {
        LayerSpec spec = OnnxTesting.sequential(LayerSpec.of("flatten", Map.of()), OperatorTable.dense(4, 3, true),
                LayerSpec.of("sigmoid", Map.of()), OperatorTable.dense(3, 3, false), LayerSpec.of("tanh", Map.of()),
                LayerSpec.of("identity", Map.of()), LayerSpec.of("threshold", Map.of()),
                OperatorTable.dense(3, 2, true));
        Map<String, HostTensor> state = new LinkedHashMap<>();
        state.put("1.weight", OnnxTesting.filled(3, 4));
        state.put("1.bias", OnnxTesting.filled(3));
        state.put("3.weight", OnnxTesting.filled(3, 3));
        state.put("7.weight", OnnxTesting.filled(2, 3));
        state.put("7.bias", OnnxTesting.filled(2));
        return OnnxExport.toModel(spec, state, OnnxExport.Options.defaults().withInputShape(2, 2), Map.of());
    }

    /** A dense layer, a layer norm with weight and bias, relu, one without them (a Scale of ones, eps 1e-6). */
    private static Onnx.ModelProto layerNorms() {
        LayerSpec spec = OnnxTesting.sequential(OperatorTable.dense(4, 3, true), LayerNorm.spec(3, 1e-5, true),
                LayerSpec.of("relu", Map.of()), LayerNorm.spec(3, 1e-6, false));
        Map<String, HostTensor> state = new LinkedHashMap<>();
        state.put("0.weight", OnnxTesting.filled(3, 4));
        state.put("0.bias", OnnxTesting.filled(3));
        state.put("1.weight", OnnxTesting.filled(3));
        state.put("1.bias", OnnxTesting.filled(3));
        return OnnxExport.toModel(spec, state, OnnxExport.Options.defaults(), Map.of());
    }

    /** Conv, max and average pooling, both batch norms, dropout on a 1x6x6 input. */
    private static Onnx.ModelProto images() {
        Map<String, Integer> conv = new LinkedHashMap<>();
        for (String k : List.of("in", "out", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w",
                "dilation_h", "dilation_w", "bias")) {
            conv.put(k, k.startsWith("kernel") ? 3 : k.startsWith("pad") ? 1 : k.equals("out") ? 2 : 1);
        }
        Map<String, Integer> pool = Map.of("kernel_h", 2, "kernel_w", 2, "stride_h", 2, "stride_w", 2, "pad_h", 0,
                "pad_w", 0);
        Map<String, Integer> avg = new LinkedHashMap<>(pool);
        avg.put("count_include_pad", 1);
        LayerSpec spec = OnnxTesting.sequential(LayerSpec.of("conv2d", conv),
                LayerSpec.of("batchnorm2d", Map.of("features", 2)), LayerSpec.of("maxpool2d", pool),
                LayerSpec.of("avgpool2d", avg), LayerSpec.of("dropout", Map.of("p_ppm", 250_000)),
                LayerSpec.of("flatten", Map.of()), OperatorTable.dense(2, 3, true),
                LayerSpec.of("batchnorm1d", Map.of("features", 3)));
        Map<String, HostTensor> state = new LinkedHashMap<>();
        state.put("0.weight", OnnxTesting.filled(2, 1, 3, 3));
        state.put("0.bias", OnnxTesting.filled(2));
        for (String k : List.of("weight", "bias", "running_mean", "running_var")) {
            state.put("1." + k, OnnxTesting.filled(2));
            state.put("7." + k, OnnxTesting.filled(3));
        }
        state.put("6.weight", OnnxTesting.filled(3, 2));
        state.put("6.bias", OnnxTesting.filled(3));
        return OnnxExport.toModel(spec, state, OnnxExport.Options.defaults().withInputShape(1, 6, 6),
                Map.of(Counters.KEY, "{\"1.num_batches_tracked\":3,\"7.num_batches_tracked\":3}"));
    }

    /** What older PyTorch exports look like: opset 11, initializers as inputs, Constant, Reshape, MatMul + Add. */
    private static Onnx.ModelProto pytorchStyle() {
        Onnx.ModelProto small = OnnxTesting.small();
        Onnx.GraphProto.Builder g = small.getGraph().toBuilder().clearNode().clearInitializer();
        Onnx.TensorProto shape = Onnx.TensorProto.newBuilder().setDataType(Onnx.TensorProto.DataType.INT64_VALUE)
                .addDims(2).setRawData(ByteString.copyFrom(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(-1).putLong(4).array())).build();
        Onnx.TensorProto w = tensor("onnx::MatMul_7", OnnxTesting.filled(4, 3));
        Onnx.TensorProto b = tensor("1.bias", OnnxTesting.filled(3));
        g.addInitializer(w).addInitializer(b);
        for (Onnx.TensorProto t : List.of(w, b)) {
            g.addInput(Onnx.ValueInfoProto.newBuilder().setName(t.getName()));
        }
        g.setInput(0, g.getInput(0).toBuilder().setType(g.getInput(0).getType().toBuilder().setTensorType(
                g.getInput(0).getType().getTensorType().toBuilder().setShape(Onnx.TensorShapeProto.newBuilder()
                        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(2))
                        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(2))))));
        g.addNode(node("Constant", List.of(), "shape").addAttribute(Onnx.AttributeProto.newBuilder().setName("value")
                .setType(Onnx.AttributeProto.AttributeType.TENSOR).setT(shape)));
        g.addNode(node("Reshape", List.of(OnnxExport.INPUT, "shape"), "flat"));
        g.addNode(node("MatMul", List.of("flat", w.getName()), "mm"));
        g.addNode(node("Add", List.of("mm", b.getName()), "z"));
        g.addNode(node("Dropout", List.of("z"), "d").addAttribute(GraphWriter.attr("ratio", 0.5f)));
        g.addNode(node("LogSoftmax", List.of("d"), OnnxExport.OUTPUT).addAttribute(GraphWriter.attr("axis", 1)));
        return small.toBuilder().setIrVersion(6).setOpsetImport(0, small.getOpsetImport(0).toBuilder().setVersion(11))
                .setGraph(g.setOutput(0, g.getOutput(0).toBuilder().setType(Onnx.TypeProto.getDefaultInstance())))
                .build();
    }

    private static Onnx.NodeProto.Builder node(String op, List<String> inputs, String output) {
        return Onnx.NodeProto.newBuilder().setOpType(op).setName("/" + op).addAllInput(inputs).addOutput(output);
    }

    private static Onnx.TensorProto tensor(String name, HostTensor t) {
        ByteBuffer b = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.data());
        Onnx.TensorProto.Builder p = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
        for (int d : t.dims()) {
            p.addDims(d);
        }
        return p.build();
    }
}
