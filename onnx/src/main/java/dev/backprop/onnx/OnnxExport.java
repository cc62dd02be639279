package dev.backprop.onnx;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.io.AtomicFile;
import dev.backprop.io.ModelFile;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.onnx.proto.Onnx;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes Backprop networks as ONNX files (opset {@value #OPSET}) that ONNX Runtime, and whatever serves ONNX, runs:
 * one graph input {@value #INPUT} {@code [batch, ...]} (the batch dimension symbolic), one output {@value #OUTPUT}
 * (the network's raw outputs: logits for classification), or {@value #PROBABILITIES} when a final {@code Softmax} is
 * asked for; the weights and a batch norm's running statistics are initializers under their {@code state_dict}
 * names, bit for bit, and every layer is written with its inference semantics (evaluation mode: batch norm
 * normalizes with the running statistics, dropout passes its input through). The model's task, class names,
 * training facts and counters ({@code num_batches_tracked}) go into the metadata properties, so {@link OnnxImport}
 * gets back what it wrote.
 */
public final class OnnxExport {
    /** The ai.onnx opset written: ONNX 1.12's, the newest Debian 12's ONNX and PyTorch 1.13 know. */
    public static final int OPSET = 17;
    /** The IR version of ONNX 1.12. */
    public static final int IR_VERSION = 8;
    /** The graph input's name. */
    public static final String INPUT = "input";
    /** The graph output's name without a softmax. */
    public static final String OUTPUT = "output";
    /** The graph output's name with {@link Options#softmax()}. */
    public static final String PROBABILITIES = "probabilities";
    /**
     * Metadata key of the input's dimensions after the batch ({@code 1,28,28}), which trainers record in their model
     * files ({@link SavedModel#putInputShape}): the input shape written when {@link Options#inputShape()} gives
     * none. In an ONNX file the graph input declares them, and {@link OnnxImport#load} puts them back under this key.
     */
    public static final String INPUT_SHAPE_KEY = SavedModel.INPUT_SHAPE_KEY;
    /**
     * Metadata not copied from a loaded model into ONNX files: the safetensors format's own (the graph replaces the
     * architecture), and what the export writes afresh (the input shape is the graph input's, the counters the
     * model's now).
     */
    private static final Set<String> REWRITTEN_KEYS = Set.of("format", ModelFile.ARCHITECTURE_KEY,
            ModelFile.VERSION_KEY, INPUT_SHAPE_KEY, Counters.KEY);

    private OnnxExport() {
    }

    /**
     * How to export.
     *
     * @param softmax    end the graph with a Softmax over the classes (output {@value #PROBABILITIES})
     * @param inputShape the input's dimensions after the batch (for example {@code 1, 28, 28}), -1 for a symbolic one;
     *                   null to take them from the loaded model's {@value #INPUT_SHAPE_KEY}, else from the first
     *                   layer ({@code [in]} of a dense layer, {@code [in, height, width]} of a convolution, height
     *                   and width symbolic)
     */
    public record Options(boolean softmax, int[] inputShape) {
        /** No softmax, the input shape from the model (see {@link #inputShape()}). */
        public static Options defaults() {
            return new Options(false, null);
        }

        /** These options with or without the final softmax. */
        public Options withSoftmax(boolean on) {
            return new Options(on, inputShape);
        }

        /** These options with the given input dimensions after the batch. */
        public Options withInputShape(int... dims) {
            return new Options(softmax, dims.clone());
        }
    }

    /** Writes {@code model} to {@code path}, atomically. */
    public static void write(Layer model, Path path, Options options) throws IOException {
        write(toModel(model.spec(), hostState(model), options, withCounters(new LinkedHashMap<>(), model)), path);
    }

    /** Writes a loaded model with its task, class names and metadata; a softmax only for classification. */
    public static void write(SavedModel.Loaded model, Path path, Options options) throws IOException {
        write(toModel(model, options), path);
    }

    /** The ONNX model of a loaded model; the input shape, unless given, from its {@value #INPUT_SHAPE_KEY}. */
    private static Onnx.ModelProto toModel(SavedModel.Loaded model, Options options) {
        if (options.softmax() && model.task() != Task.CLASSIFICATION) {
            throw new IllegalArgumentException("a softmax output is for classification models; this one is "
                    + model.task().id());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        model.metadata().forEach((k, v) -> {
            if (!REWRITTEN_KEYS.contains(k)) {
                meta.put(k, v);
            }
        });
        meta.putAll(SavedModel.metadata(model.model(), model.task(), model.classNames(), Map.of()));
        withCounters(meta, model.model());
        String recorded = model.metadata().get(INPUT_SHAPE_KEY);
        if (options.inputShape() == null && recorded != null) {
            try {
                options = options.withInputShape(SavedModel.parseShape(recorded));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("metadata " + INPUT_SHAPE_KEY + ": " + e.getMessage(), e);
            }
        }
        return toModel(model.model().spec(), hostState(model.model()), options, meta);
    }

    /** Adds the model's counters ({@code num_batches_tracked}), which ONNX has no place for, to {@code meta}. */
    private static Map<String, String> withCounters(Map<String, String> meta, Layer model) {
        String counters = Counters.write(model.counters());
        if (counters != null) {
            meta.put(Counters.KEY, counters);
        }
        return meta;
    }

    /**
     * Reads a model file (safetensors or ONNX) on {@code backend} and writes it as ONNX.
     *
     * @return a line saying what was written
     */
    public static String convert(Path model, Path onnx, Options options, Backend backend) throws IOException {
        try (SavedModel.Loaded m = ModelFormats.load(model, backend)) {
            Onnx.ModelProto proto = toModel(m, options);
            write(proto, onnx);
            Onnx.GraphProto g = proto.getGraph();
            return "wrote " + onnx + ": ONNX opset " + OPSET + ", input '" + INPUT + "' " + shape(g.getInput(0))
                    + ", output '" + g.getOutput(0).getName() + "' " + shape(g.getOutput(0)) + ", "
                    + m.model().parameterCount() + " parameters, task " + m.task().id();
        }
    }

    /** {@code [batch, 1, 28, 28]}: a declared shape, its symbolic dimensions by name ({@code ?} when unnamed). */
    private static String shape(Onnx.ValueInfoProto v) {
        List<String> dims = new ArrayList<>();
        for (Onnx.TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
            dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
        }
        return dims.toString();
    }

    /**
     * The model's FLOAT32 parameters and buffers (a batch norm's running statistics, which inference normalizes
     * with) on the heap, by {@code state_dict} name. A parameter the model uses in two places ({@link
     * Layer#sharedParameters()}) is there under each name, as in PyTorch's {@code state_dict}: the graph holds one
     * initializer per layer, and inference, which never updates them, computes the tied model's function.
     */
    static Map<String, HostTensor> hostState(Layer model) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Variable> params = model.parameters();
        params.forEach((name, v) -> tensors.put(name, v.value()));
        model.sharedParameters().forEach((name, first) -> tensors.put(name, params.get(first).value()));
        tensors.putAll(model.buffers());
        Map<String, HostTensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getValue().dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("ONNX export writes FLOAT32 models; "
                        + (model.buffers().containsKey(e.getKey()) ? "buffer" : "parameter") + " '" + e.getKey()
                        + "' is " + e.getValue().dtype());
            }
            state.put(e.getKey(), new HostTensor(e.getValue().shape().dims(), e.getValue().toFloatArray()));
        }
        return state;
    }

    /**
     * The ONNX model of a network given by its spec and tensors (no backend needed).
     *
     * @throws IllegalArgumentException when a layer has no ONNX form, a tensor is missing or left over, or the layer
     *                                  sizes do not fit together
     */
    static Onnx.ModelProto toModel(LayerSpec spec, Map<String, HostTensor> state, Options options,
                                   Map<String, String> metadata) {
        int[] input = options.inputShape() != null ? options.inputShape() : inputShape(spec);
        GraphWriter g = new GraphWriter(state, INPUT, input);
        writeLayer(spec, "", g);
        Set<String> unused = new TreeSet<>(state.keySet());
        unused.removeAll(g.written());
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("tensors " + unused + " belong to no exported layer");
        }
        if (options.softmax()) {
            if (g.sample().length != 1) {
                throw new IllegalArgumentException("a softmax output needs [batch, classes] outputs, the model's are "
                        + "[batch, " + OperatorTable.shapeText(g.sample()).substring(1));
            }
            g.node("Softmax", "", g.sample(), List.of(), GraphWriter.attr("axis", 1));
        }
        Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("backprop").setProducerVersion(version())
                .setGraph(g.finish("backprop", options.softmax() ? PROBABILITIES : OUTPUT));
        metadata.forEach((k, v) -> m.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    private static void writeLayer(LayerSpec spec, String prefix, GraphWriter g) {
        if (spec.type().equals("sequential")) {
            for (int i = 0; i < spec.layers().size(); i++) {
                writeLayer(spec.layers().get(i), prefix + i + ".", g);
            }
            return;
        }
        OperatorTable.Exporter row = OperatorTable.EXPORTERS.get(spec.type());
        if (row == null) {
            throw new IllegalArgumentException("layer '" + spec.type() + "' has no ONNX form (exported: "
                    + new TreeSet<>(OperatorTable.EXPORTERS.keySet()) + ")");
        }
        row.write(spec, prefix, g);
    }

    /** The input's dimensions after the batch, from the first layer that fixes them. */
    static int[] inputShape(LayerSpec spec) {
        for (LayerSpec l : spec.type().equals("sequential") ? spec.layers() : List.of(spec)) {
            switch (l.type()) {
                case "dense":
                    return new int[] {l.arg("in")};
                case "conv2d":
                    return new int[] {l.arg("in"), -1, -1};
                case "batchnorm1d", "layernorm":
                    return new int[] {l.arg("features")};
                case "batchnorm2d":
                    return new int[] {l.arg("features"), -1, -1};
                case "maxpool2d", "avgpool2d":
                    return new int[] {-1, -1, -1};
                case "sequential":
                    return inputShape(l);
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("cannot tell the model's input shape from its layers; give it "
                + "(Options.withInputShape, --input-shape)");
    }

    private static void write(Onnx.ModelProto model, Path path) throws IOException {
        AtomicFile.write(path, model::writeTo);
    }

    private static String version() {
        String v = OnnxExport.class.getPackage().getImplementationVersion();
        return v != null ? v : "development";
    }
}
