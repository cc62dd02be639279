package dev.backprop.onnx;

import com.google.protobuf.ByteString;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Pool2d;
import dev.backprop.onnx.proto.Onnx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hostile and broken ONNX files: each is refused with a {@link ModelFileException} whose one-line message names the
 * file and the problem, before anything is allocated on the backend.
 */
class HostileOnnxTest extends CpuBackendTest {

    @TempDir
    Path dir;


    private static byte[] graph(UnaryOperator<Onnx.GraphProto.Builder> edit) {
        Onnx.ModelProto m = OnnxTesting.small();
        return m.toBuilder().setGraph(edit.apply(m.getGraph().toBuilder())).build().toByteArray();
    }

    private static byte[] model(UnaryOperator<Onnx.ModelProto.Builder> edit) {
        return edit.apply(OnnxTesting.small().toBuilder()).build().toByteArray();
    }

    private static Onnx.NodeProto.Builder relu(String in, String out) {
        return Onnx.NodeProto.newBuilder().setOpType("Relu").setName("evil").addInput(in).addOutput(out);
    }

    private static Onnx.TensorProto.Builder weight(Onnx.GraphProto.Builder g) {
        return g.getInitializerBuilder(0);
    }

    static Stream<Arguments> cases() {
        byte[] good = OnnxTesting.small().toByteArray();
        Onnx.TypeProto.Builder deep = Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder());
        for (int i = 0; i < 100; i++) {
            deep = Onnx.TypeProto.newBuilder().setSequenceType(Onnx.TypeProto.Sequence.newBuilder().setElemType(deep));
        }
        Onnx.TypeProto nested = deep.build();
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        return Stream.of(
                Arguments.of("empty file", new byte[0], "the file is empty"),
                Arguments.of("truncated to half", Arrays.copyOf(good, good.length / 2), "not a readable ONNX file"),
                Arguments.of("truncated by 3 bytes", Arrays.copyOf(good, good.length - 3), "not a readable ONNX file"),
                Arguments.of("random bytes", random, "ONNX"),
                Arguments.of("not ONNX: IR version 0", model(m -> m.clearIrVersion()), "IR version 0 is not supported"),
                Arguments.of("no graph", model(m -> m.clearGraph()), "the model has no graph"),
                Arguments.of("opset 99",
                        model(m -> m.setOpsetImport(0, m.getOpsetImport(0).toBuilder().setVersion(99))),
                        "opset 99 is not supported (Backprop reads opsets 9 to 21)"),
                Arguments.of("no opset", model(m -> m.clearOpsetImport()), "no ai.onnx opset is imported"),
                Arguments.of("nesting 100 deep", graph(g -> g.setInput(0, g.getInput(0).toBuilder().setType(nested))),
                        "too many levels of nesting"),
                Arguments.of("cyclic graph", graph(g -> g.clearNode()
                                .addNode(relu("b", "a")).addNode(relu("a", "b")).setOutput(0,
                                        g.getOutput(0).toBuilder().setName("b"))),
                        "reads 'b' before any node writes it (the graph is cyclic or not sorted)"),
                Arguments.of("branch", graph(g -> g.addNode(1, relu("input", "side"))),
                        "reads 'input', not the output of the layer before it"),
                Arguments.of("unknown operator", graph(g -> g.setNode(1, g.getNode(1).toBuilder().setOpType("LSTM"))),
                        "operator 'LSTM' is not supported (Backprop reads Add, AveragePool, BatchNormalization"),
                Arguments.of("custom domain", graph(g -> g.setNode(1, g.getNode(1).toBuilder().setDomain("com.evil"))),
                        "operators of domain 'com.evil' are not supported"),
                Arguments.of("subgraph attribute", graph(g -> g.setNode(1, g.getNode(1).toBuilder().setOpType("If")
                                .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch")
                                        .setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(g.build())))),
                        "operator 'If' is not supported"),
                Arguments.of("unknown attribute", graph(g -> g.setNode(0, g.getNode(0).toBuilder().addAttribute(
                                GraphWriter.attr("foo", 1)))),
                        "node '/0/Gemm' (Gemm): attribute 'foo' is not supported"),
                Arguments.of("unsupported value", graph(g -> g.setNode(0, g.getNode(0).toBuilder().addAttribute(
                                GraphWriter.attr("alpha", 0.5f)))),
                        "attribute 'alpha' = 0.5 is not supported (Backprop reads only 1.0)"),
                Arguments.of("raw data shorter than the dims", graph(g -> {
                    weight(g).setRawData(ByteString.copyFrom(new byte[40]));
                    return g;
                }), "'0.weight' has 12 elements by its dimensions but its data holds 40 bytes (48 expected)"),
                Arguments.of("typed data longer than the dims", graph(g -> {
                    weight(g).clearRawData().addAllFloatData(List.of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 1f, 2f, 3f,
                            4f));
                    return g;
                }), "has 12 elements by its dimensions but its data holds 13 values"),
                Arguments.of("layer sizes that disagree", graph(g -> {
                    weight(g).clearDims().addDims(3).addDims(6).setRawData(ByteString.copyFrom(new byte[72]));
                    return g;
                }), "weight [3, 6] takes 6 features, the input has per-example shape [4]"),
                Arguments.of("external data", graph(g -> {
                    weight(g).clearRawData().setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                            .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location")
                                    .setValue("/etc/passwd"));
                    return g;
                }), "keeps its data in '/etc/passwd'; Backprop reads only self-contained ONNX files"),
                Arguments.of("absurd dimensions", graph(g -> {
                    weight(g).clearDims().addDims(1L << 20).addDims(1L << 20).addDims(1L << 20);
                    return g;
                }), "more elements than one tensor can hold"),
                Arguments.of("dimension past 2^31", graph(g -> {
                    weight(g).clearDims().addDims(1L << 40);
                    return g;
                }), "has dimension 1099511627776"),
                Arguments.of("negative dimension", graph(g -> {
                    weight(g).clearDims().addDims(-3).addDims(-4);
                    return g;
                }), "has dimension -3"),
                Arguments.of("large claim, little data", graph(g -> {
                    weight(g).clearDims().addDims(20_000).addDims(20_000);
                    return g;
                }), "has 400000000 elements by its dimensions but its data holds 48 bytes"),
                Arguments.of("name defined twice", graph(g -> g.setNode(1, g.getNode(1).toBuilder().setOutput(0,
                        "0.weight"))), "'0.weight' is defined twice"),
                Arguments.of("ten thousand nodes", graph(g -> {
                    for (int i = 0; i < GraphImporter.MAX_NODES; i++) {
                        g.addNode(Onnx.NodeProto.newBuilder().setOpType("Identity"));
                    }
                    return g;
                }), "the graph has 10003 nodes; Backprop reads at most 10000"),
                Arguments.of("two data inputs", graph(g -> g.addInput(g.getInput(0).toBuilder().setName("x2"))),
                        "the graph has 2 data inputs"),
                Arguments.of("two outputs", graph(g -> g.addOutput(g.getOutput(0))), "the graph has 2 outputs"),
                Arguments.of("output not at the end", graph(g -> g.setOutput(0, g.getOutput(0).toBuilder()
                        .setName("/0/Gemm_output_0"))), "is not the end of its chain of layers"),
                Arguments.of("a mask nobody computes", graph(g -> g.setNode(1, Onnx.NodeProto.newBuilder()
                                .setOpType("Dropout").addInput("/0/Gemm_output_0").addOutput("/1/Relu_output_0")
                                .addOutput("mask")).setNode(2, g.getNode(2).toBuilder().setInput(0, "mask"))),
                        "reads 'mask', an output Backprop does not compute"),
                Arguments.of("softmax in the middle", graph(g -> g.setNode(1, g.getNode(1).toBuilder()
                        .setOpType("Softmax"))), "follows the output Softmax; it must be the graph's last operator"),
                Arguments.of("a name with a line break", graph(g -> g.setNode(1, g.getNode(1).toBuilder()
                        .setName("evil\nname").setOpType("Evil\r\nOp"))), "node 'evil\\u000Aname'"),
                Arguments.of("a metadata key given twice", model(m -> m.addMetadataProps(classNames("[\"cat\"]"))
                        .addMetadataProps(classNames("[\"dog\"]"))),
                        "metadata key 'backprop.class_names' is given twice"),
                Arguments.of("class names that do not fit", model(m -> m.addMetadataProps(classNames(
                        "[\"cat\", \"dog\", \"cow\"]"))), "metadata backprop.class_names holds 3 class names for a "
                        + "network with 2 outputs (classification takes one per output)"),
                Arguments.of("a class name with an escape", model(m -> m.addMetadataProps(classNames(
                        "[\"cat\", \"\\u001b[2Jdog\"]"))), "class name '\\u001B[2Jdog' holds U+001B, a "
                        + "control character"),
                Arguments.of("a class name with a right-to-left override", model(m -> m.addMetadataProps(classNames(
                        "[\"cat\", \"god\\u202e\"]"))), "class name 'god\\u202E' holds U+202E, a bidirectional "
                        + "control character"),
                Arguments.of("task binary for two outputs", model(m -> m.addMetadataProps(Onnx.StringStringEntryProto
                        .newBuilder().setKey(SavedModel.TASK_KEY).setValue("binary"))), "metadata backprop.task: task "
                        + "binary takes one output per example (the logit of class 1), but the network's last layer "
                        + "gives 2"));
    }

    private static Onnx.StringStringEntryProto classNames(String json) {
        return Onnx.StringStringEntryProto.newBuilder().setKey(SavedModel.CLASS_NAMES_KEY).setValue(json).build();
    }

    /**
     * A valid small CNN on {@code [1, 6, 6]} inputs: /0/Conv (1 to 2 channels, 3x3, pads 1), /1/BatchNormalization,
     * /2/Relu, /3/Dropout, /4/MaxPool (2x2), /5/Flatten, /6/Gemm (18 to 2).
     */
    static Onnx.ModelProto smallCnn() {
        int[] two = {2, 2};
        LayerSpec spec = OnnxTesting.sequential(Conv2d.options(1, 2, 3).padding(1).spec(),
                LayerSpec.of("batchnorm2d", Map.of("features", 2)), LayerSpec.of("relu", Map.of()),
                LayerSpec.of("dropout", Map.of("p_ppm", 250_000)), Pool2d.spec(true, two, two, new int[2], true),
                LayerSpec.of("flatten", Map.of()), OperatorTable.dense(18, 2, true));
        Map<String, HostTensor> state = new java.util.LinkedHashMap<>();
        state.put("0.weight", OnnxTesting.filled(2, 1, 3, 3));
        state.put("0.bias", OnnxTesting.filled(2));
        for (String name : List.of("weight", "bias", "running_mean", "running_var")) {
            state.put("1." + name, OnnxTesting.filled(2));
        }
        state.put("6.weight", OnnxTesting.filled(2, 18));
        state.put("6.bias", OnnxTesting.filled(2));
        return OnnxExport.toModel(spec, state, OnnxExport.Options.defaults().withInputShape(1, 6, 6),
                Map.of(Counters.KEY, "{\"1.num_batches_tracked\":7}"));
    }

    /**
     * A convolution (1 to 2 channels, 3x3, pads 1) and a flatten on {@code [1, 6, 6]} inputs, 72 outputs, whose
     * width only its declared input shape tells, with these class names.
     */
    private static byte[] convEnding(String classNames) {
        LayerSpec spec = OnnxTesting.sequential(Conv2d.options(1, 2, 3).padding(1).spec(),
                LayerSpec.of("flatten", Map.of()));
        Map<String, HostTensor> state = Map.of("0.weight", OnnxTesting.filled(2, 1, 3, 3), "0.bias",
                OnnxTesting.filled(2));
        return OnnxExport.toModel(spec, state, OnnxExport.Options.defaults().withInputShape(1, 6, 6),
                Map.of(SavedModel.CLASS_NAMES_KEY, classNames)).toByteArray();
    }

    private static byte[] cnn(UnaryOperator<Onnx.GraphProto.Builder> edit) {
        Onnx.ModelProto m = smallCnn();
        return m.toBuilder().setGraph(edit.apply(m.getGraph().toBuilder())).build().toByteArray();
    }

    /** The small CNN with node {@code i}'s attribute of that name set (replaced, or added). */
    private static byte[] cnnAttribute(int i, Onnx.AttributeProto a) {
        return cnn(g -> {
            Onnx.NodeProto.Builder n = g.getNodeBuilder(i);
            List<Onnx.AttributeProto> kept = n.getAttributeList().stream()
                    .filter(x -> !x.getName().equals(a.getName())).toList();
            n.clearAttribute().addAllAttribute(kept).addAttribute(a);
            return g;
        });
    }

    /** The small CNN with its batch norm's running variance {@code [0.25, -0.25]}. */
    private static byte[] negativeVariance() {
        return cnn(g -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putFloat(0.25f).putFloat(-0.25f);
            g.getInitializerBuilderList().stream().filter(t -> t.getName().equals("1.running_var")).findFirst()
                    .orElseThrow().clearFloatData().setRawData(ByteString.copyFrom(b.array()));
            return g;
        });
    }

    @Test
    void aNegativeRunningVarianceIsRefusedEvenWhenNonFiniteWeightsAreAllowed() throws IOException {
        Path file = dir.resolve("variance.onnx");
        Files.write(file, negativeVariance());
        assertOneLine(assertThrows(ModelFileException.class, () -> ModelFormats.load(file, cpu, true).close()),
                file, "1.running_var[1] is -0.25: a variance cannot be negative");
    }

    /** The small CNN with metadata property {@link Counters#KEY} set to {@code json}. */
    private static byte[] cnnCounters(String json) {
        Onnx.ModelProto.Builder m = smallCnn().toBuilder().clearMetadataProps();
        return m.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(Counters.KEY).setValue(json))
                .build().toByteArray();
    }

    /** Image operators with bad attributes, sizes or modes, and bad counters: each names the node and the values. */
    static Stream<Arguments> imageCases() {
        return Stream.of(
                Arguments.of("class names for a network ending in a convolution", convEnding("[\"a\", \"b\"]"),
                        "metadata backprop.class_names holds 2 class names for a network with 72 outputs"),
                Arguments.of("stride 0", cnnAttribute(0, GraphWriter.ints("strides", 0, 1)),
                        "node '/0/Conv' (Conv): attribute 'strides' [0, 1] has 0, expected 1 to 2147483647"),
                Arguments.of("pads of the wrong length", cnnAttribute(0, GraphWriter.ints("pads", 1, 1)),
                        "node '/0/Conv' (Conv): attribute 'pads' has 2 values, expected 4"),
                Arguments.of("pads unlike on the two sides", cnnAttribute(0, GraphWriter.ints("pads", 1, 1, 0, 0)),
                        "node '/0/Conv' (Conv): attribute 'pads' [1, 1, 0, 0] is not supported (Backprop pads both "
                                + "sides alike)"),
                Arguments.of("group 2", cnnAttribute(0, GraphWriter.attr("group", 2)),
                        "node '/0/Conv' (Conv): attribute 'group' = 2 is not supported (Backprop reads only 1)"),
                Arguments.of("kernel_shape unlike the weight's",
                        cnnAttribute(0, GraphWriter.ints("kernel_shape", 5, 5)),
                        "node '/0/Conv' (Conv): attribute 'kernel_shape' [5, 5] differs from the weight's "
                                + "[2, 1, 3, 3]"),
                Arguments.of("kernel larger than the padded input", cnn(g -> {
                    g.getNodeBuilder(4).clearAttribute().addAttribute(GraphWriter.ints("kernel_shape", 9, 9))
                            .addAttribute(GraphWriter.ints("pads", 1, 1, 1, 1));
                    return g;
                }),
                        "node '/4/MaxPool' (MaxPool): kernel_shape [9, 9] with dilations [1, 1] does not fit "
                                + "per-example input [2, 6, 6] padded by [1, 1] on each side: it leaves no output"),
                Arguments.of("dilated pooling", cnnAttribute(4, GraphWriter.ints("dilations", 2, 2)),
                        "node '/4/MaxPool' (MaxPool): attribute 'dilations' [2, 2] has 2, expected 1 to 1"),
                Arguments.of("input channels unlike the weight's", cnn(g -> {
                    Onnx.ValueInfoProto.Builder in = g.getInputBuilder(0);
                    in.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(1).setDimValue(3);
                    return g;
                }), "node '/0/Conv' (Conv): weight [2, 1, 3, 3] does not fit per-example input [3, 6, 6]"),
                Arguments.of("batch norm of other channels", cnn(g -> {
                    Onnx.TensorProto.Builder scale = g.getInitializerBuilderList().stream()
                            .filter(t -> t.getName().equals("1.weight")).findFirst().orElseThrow();
                    scale.clearDims().addDims(3).setRawData(ByteString.copyFrom(new byte[12]));
                    return g;
                }), "node '/1/BatchNormalization' (BatchNormalization): weight '1.weight' is [3], expected [2]"),
                Arguments.of("batch norm in training mode", cnnAttribute(1, GraphWriter.attr("training_mode", 1)),
                        "attribute 'training_mode' = 1 is not supported (Backprop reads only 0)"),
                Arguments.of("dropout in training mode", cnn(g -> {
                    g.addInitializer(Onnx.TensorProto.newBuilder().setName("train")
                            .setDataType(Onnx.TensorProto.DataType.BOOL_VALUE).setRawData(ByteString.copyFrom(
                                    new byte[] {1})));
                    g.getNodeBuilder(3).addInput("train");
                    return g;
                }), "node '/3/Dropout' (Dropout): training_mode is true; Backprop reads Dropout in inference mode"),
                Arguments.of("a negative running variance", negativeVariance(),
                        "1.running_var[1] is -0.25: a variance cannot be negative"),
                Arguments.of("a negative count", cnnCounters("{\"1.num_batches_tracked\":-3}"),
                        "metadata backprop.counters: counter '1.num_batches_tracked' is '-3', a count must be a whole "
                                + "number >= 0"),
                Arguments.of("a fractional count", cnnCounters("{\"1.num_batches_tracked\":2.5}"), "is '2.5', a count"),
                Arguments.of("a count of a billion digits", cnnCounters("{\"1.num_batches_tracked\":1e999999999}"),
                        "is '1e999999999', a count must be a whole number >= 0"),
                Arguments.of("counts not an object", cnnCounters("[7]"),
                        "metadata backprop.counters must be a JSON object of counts by name"),
                Arguments.of("counts of other layers", cnnCounters("{\"9.num_batches_tracked\":7}"),
                        "metadata backprop.counters names ['9.num_batches_tracked'], the network's counters are "
                                + "[1.num_batches_tracked]"));
    }

    @Test
    void theSmallCnnItselfLoadsWithItsCounter() throws IOException {
        Path file = dir.resolve("cnn.onnx");
        Files.write(file, smallCnn().toByteArray());
        try (SavedModel.Loaded m = OnnxImport.load(file, cpu)) {
            assertEquals(7, m.model().counters().get("1.num_batches_tracked")[0]);
        }
    }

    /**
     * An ONNX Dropout's ratio is a float, rarely a whole number of millionths: it is rounded to the nearest millionth
     * as {@code Dropout.spec} rounds every probability (0.1234567 to 123457 ppm; 0.3f, which is 0.300000011920929,
     * to 300000).
     */
    @Test
    void aDropoutRatioIsRoundedToMillionthsAsDropoutSpecRoundsIt() throws IOException {
        float[] ratios = {0.1234567f, 0.3f, 0.0000004f};
        int[] ppm = {123457, 300000, 0};
        Path file = dir.resolve("ratio.onnx");
        for (int i = 0; i < ratios.length; i++) {
            float ratio = ratios[i];
            Files.write(file, cnnWithDropoutRatio(ratio));
            try (SavedModel.Loaded m = OnnxImport.load(file, cpu)) {
                LayerSpec dropout = m.model().spec().layers().stream().filter(l -> l.type().equals("dropout"))
                        .findFirst().orElseThrow();
                assertEquals(ppm[i], dropout.arg("p_ppm"), "ratio " + ratio);
                assertEquals(dev.backprop.nn.Dropout.spec(ratio), dropout, "ratio " + ratio);
            }
        }
        // Below 1 as a float, but 1 in millionths: a dropout that would zero everything once fine-tuned.
        Files.write(file, cnnWithDropoutRatio(0.9999996f));
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxImport.load(file, cpu).close());
        assertOneLine(e, file, "node '/3/Dropout' (Dropout): ratio 0.9999996 rounds to 1 in millionths, which "
                + "Backprop keeps it in: outside [0, 1)");
    }

    /** The small CNN with its Dropout's ratio set to {@code ratio}. */
    private static byte[] cnnWithDropoutRatio(float ratio) {
        return cnn(g -> {
            Onnx.TensorProto.Builder r = g.getInitializerBuilderList().stream()
                    .filter(t -> t.getName().endsWith("dropout_ratio")).findFirst().orElseThrow();
            r.setRawData(ByteString.copyFrom(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putFloat(ratio).array()));
            return g;
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"cases", "imageCases"})
    void isRefusedWithOneLine(String what, byte[] bytes, String expected) throws IOException {
        Path file = dir.resolve("hostile.onnx");
        Files.write(file, bytes);
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxImport.load(file, cpu).close());
        assertOneLine(e, file, expected);
    }

    @Test
    void aFileOverTwoGibibytesIsRefusedBeforeReading() throws IOException {
        Path file = dir.resolve("huge.onnx");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: no disk used
        }
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxImport.load(file, cpu).close());
        assertOneLine(e, file, "3221225472 bytes is more than an ONNX file can hold (2 GiB)");
    }

    @Test
    void nonFiniteWeightsAreRefusedUnlessAllowed() throws IOException {
        Path file = dir.resolve("nan.onnx");
        Files.write(file, graph(g -> {
            float[] w = new float[12];
            w[5] = Float.NaN;
            w[7] = Float.POSITIVE_INFINITY;
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(48).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(w);
            weight(g).setRawData(ByteString.copyFrom(b.array()));
            return g;
        }));
        assertOneLine(assertThrows(ModelFileException.class, () -> OnnxImport.load(file, cpu).close()), file,
                "tensor '0.weight' holds 2 non-finite values (the first, NaN, at [1, 1]): the weights are corrupt");
        try (SavedModel.Loaded m = ModelFormats.load(file, cpu, true)) {
            assertTrue(Float.isNaN(m.model().parameters().get("0.weight").value().toFloatArray()[5]));
        }
    }

    @Test
    void aMissingFileOrADirectoryIsNamed() {
        Path missing = dir.resolve("missing.onnx");
        assertOneLine(assertThrows(ModelFileException.class, () -> OnnxImport.load(missing, cpu).close()), missing,
                "no such file or directory");
        assertOneLine(assertThrows(ModelFileException.class, () -> OnnxImport.load(dir, cpu).close()), dir,
                "is a directory, not a file");
    }

    /** A pipe where a model should be: refused by its kind, not opened (open(2) would wait for a writer). */
    @Test
    void aNamedPipeIsRefusedNotWaitedOn() throws Exception {
        for (String name : List.of("model", "model.onnx")) {
            Path pipe = dir.resolve(name);
            assumeTrue(new ProcessBuilder("mkfifo", pipe.toString()).inheritIO().start().waitFor() == 0,
                    "no mkfifo here");
            ModelFileException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> assertThrows(ModelFileException.class, () -> ModelFormats.load(pipe, cpu, false).close()));
            assertOneLine(e, pipe, "not a regular file");
        }
    }

    static void assertOneLine(ModelFileException e, Path file, String expected) {
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString() + ": "), m);
        assertTrue(m.contains(expected), () -> "expected '" + expected + "' in: " + m);
        assertFalse(m.contains("\n") || m.contains("\r"), m);
    }
}
