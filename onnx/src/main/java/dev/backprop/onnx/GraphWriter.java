package dev.backprop.onnx;

import com.google.protobuf.ByteString;
import dev.backprop.onnx.proto.Onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the ONNX graph of a chain of layers: each {@link OperatorTable} export row appends nodes that read the
 * current tensor, and takes its weights from the model's state by {@code state_dict} name, written as initializers
 * under that name (raw little-endian float32, so the bits are kept). Tracks the per-example shape to declare the
 * output and to check layer sizes against each other.
 */
final class GraphWriter {
    /** The name of the batch dimension in the declared input and output shapes. */
    static final String BATCH = "batch";

    private final Map<String, HostTensor> state;
    private final Set<String> written = new HashSet<>();
    private final Map<String, Integer> nodeNames = new HashMap<>();
    private final List<Onnx.NodeProto.Builder> nodes = new ArrayList<>();
    private final List<Onnx.TensorProto> initializers = new ArrayList<>();
    private final String inputName;
    private final int[] inputSample;
    private String current;
    private int[] sample;

    /**
     * @param state       the model's tensors by full {@code state_dict} name
     * @param inputName   the graph input's name
     * @param inputSample the input's dimensions after the batch (-1 where left symbolic)
     */
    GraphWriter(Map<String, HostTensor> state, String inputName, int[] inputSample) {
        this.state = state;
        this.inputName = inputName;
        this.inputSample = inputSample.clone();
        this.current = inputName;
        this.sample = inputSample.clone();
    }

    /** The per-example shape of the current tensor (-1 where unknown). */
    int[] sample() {
        return sample.clone();
    }

    /** Requires the current tensor to be {@code [batch, features]}: a dense layer's input. */
    void requireFeatures(String prefix, int features) {
        if (sample.length != 1 || (sample[0] != -1 && sample[0] != features)) {
            throw new IllegalArgumentException("layer " + layer(prefix) + " takes " + features + " features, its "
                    + "input has per-example shape " + OperatorTable.shapeText(sample)
                    + (sample.length > 1 ? " (a flatten layer must come first)" : ""));
        }
    }

    /** Requires the current tensor to have {@code rank} dimensions after the batch, {@code channels} the first. */
    void requireChannels(String prefix, String type, int rank, int channels) {
        if (sample.length != rank || (channels > 0 && sample[0] != -1 && sample[0] != channels)) {
            throw new IllegalArgumentException("layer " + layer(prefix) + " (" + type + ") takes per-example shape "
                    + (rank == 3 ? "[" + channels + ", height, width]" : "[" + channels + "]") + ", its input has "
                    + OperatorTable.shapeText(sample));
        }
    }

    /** Writes the model's tensor {@code name} (which must have {@code dims}) as an initializer; returns its name. */
    String weight(String name, int... dims) {
        HostTensor t = state.get(name);
        if (t == null || !t.hasDims(dims)) {
            throw new IllegalArgumentException("the model has no tensor '" + name + "' of shape "
                    + Arrays.toString(dims) + (t == null ? "" : " (it is " + Arrays.toString(t.dims()) + ")"));
        }
        return constant(name, t);
    }

    /** Writes a constant as an initializer; returns its name. */
    String constant(String name, HostTensor t) {
        if (!written.add(name)) {
            throw new IllegalStateException("tensor '" + name + "' written twice");
        }
        ByteBuffer b = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.data());
        Onnx.TensorProto.Builder p = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
        for (int d : t.dims()) {
            p.addDims(d);
        }
        initializers.add(p.build());
        return name;
    }

    /** Names of the state tensors written so far. */
    Set<String> written() {
        return written;
    }

    /**
     * Appends a node reading the current tensor and then {@code inputs}; its output, of per-example shape
     * {@code out}, becomes the current tensor.
     */
    void node(String op, String prefix, int[] out, List<String> inputs, Onnx.AttributeProto... attributes) {
        String base = prefix.isEmpty() ? "/" + op : "/" + layer(prefix).replace('.', '/') + "/" + op;
        int seen = nodeNames.merge(base, 1, Integer::sum);
        String name = seen == 1 ? base : base + "_" + seen;
        String output = name + "_output_0";
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setName(name).setOpType(op).addInput(current)
                .addAllInput(inputs).addOutput(output);
        for (Onnx.AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        nodes.add(n);
        current = output;
        sample = out.clone();
    }

    /** The graph, its last node's output renamed {@code outputName}. */
    Onnx.GraphProto finish(String graphName, String outputName) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("the model has no layers to export");
        }
        nodes.get(nodes.size() - 1).setOutput(0, outputName);
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName(graphName);
        nodes.forEach(n -> g.addNode(n.build()));
        g.addAllInitializer(initializers);
        g.addInput(valueInfo(inputName, inputSample, true));
        g.addOutput(valueInfo(outputName, sample, false));
        return g.build();
    }

    /** {@code [batch, ...]} of FLOAT; unknown dimensions get names in the input, none in the output. */
    private static Onnx.ValueInfoProto valueInfo(String name, int[] sample, boolean named) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder()
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
        for (int i = 0; i < sample.length; i++) {
            Onnx.TensorShapeProto.Dimension.Builder d = Onnx.TensorShapeProto.Dimension.newBuilder();
            if (sample[i] >= 0) {
                d.setDimValue(sample[i]);
            } else if (named) {
                d.setDimParam(sample.length == 3 && i > 0 ? (i == 1 ? "height" : "width") : "dim" + (i + 1));
            }
            shape.addDim(d);
        }
        Onnx.TypeProto.Tensor.Builder t = Onnx.TypeProto.Tensor.newBuilder()
                .setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(shape);
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(t))
                .build();
    }

    /** {@code 3} for prefix {@code 3.}. */
    private static String layer(String prefix) {
        return prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
    }

    static Onnx.AttributeProto attr(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(value).build();
    }

    static Onnx.AttributeProto attr(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT)
                .setF(value).build();
    }

    static Onnx.AttributeProto ints(String name, int... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (int v : values) {
            a.addInts(v);
        }
        return a.build();
    }
}
