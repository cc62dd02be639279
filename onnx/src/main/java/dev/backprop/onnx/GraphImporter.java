package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.LayerSpec;
import dev.backprop.onnx.proto.Onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX graph as a chain of layers: walks the nodes in file order, where each node must read the output of
 * the one before it (plus constants), and lets the {@link OperatorTable} row of its operator turn it into a layer.
 * Anything else (a branch, a cycle, an unsorted graph, an operator or attribute outside the table) is refused with
 * the node named. Tracks the per-example shape, so layer sizes are checked against each other as they are read.
 */
final class GraphImporter {
    /** The ai.onnx opsets whose operator definitions the table follows. */
    static final int MIN_OPSET = 9;
    static final int MAX_OPSET = 21;
    /** IR versions 3 (the first with opset imports) to 10 (ONNX 1.16). */
    static final int MIN_IR = 3;
    static final int MAX_IR = 10;
    /** More nodes than a chain of layers Backprop builds has; bounds the objects a small file can make. */
    static final int MAX_NODES = 10_000;

    /**
     * A layer read from one or more nodes.
     *
     * @param spec     what layer it is
     * @param state    its parameters under their names within the layer ({@code weight})
     * @param sources  the initializer each parameter was read from as it is, by name within the layer
     * @param nodeName the name of the (first) node, as in the file
     * @param where    the node, for messages
     * @param output   the tensor it writes
     */
    record Draft(LayerSpec spec, Map<String, HostTensor> state, Map<String, String> sources, String nodeName,
                 String where, String output) {
    }

    /**
     * The first node of a two-node pattern, waiting for the second: a comparison's booleans for the Cast of a
     * threshold, a Pad's amounts for PyTorch's {@code AvgPool2d(count_include_pad=True)}.
     *
     * @param kind   what it is ({@link #COMPARISON}, {@link #PAD})
     * @param values its numbers (the pad's {@code {h, w}})
     * @param op     the operator that left it
     * @param next   the operator that must come next, for messages
     */
    record Pending(String kind, int[] values, String op, String next) {
    }

    /** {@link Pending#kind()} of a comparison (GreaterOrEqual). */
    static final String COMPARISON = "comparison";
    /** {@link Pending#kind()} of a Pad. */
    static final String PAD = "pad";

    private final String file;
    private final Map<String, Onnx.TensorProto> constants = new HashMap<>();
    private final Set<String> written = new HashSet<>();
    private final Set<String> unusable = new HashSet<>();
    private final List<Draft> layers = new ArrayList<>();
    private String current;
    private int[] sample;
    private Pending pending;
    private String outputTransform;
    private int nodeIndex;

    private GraphImporter(String file) {
        this.file = file;
    }

    /** Reads a parsed model; {@code file} names it in messages. */
    static OnnxImport.Graph read(String file, Onnx.ModelProto model) throws ModelFileException {
        return new GraphImporter(file).read(model);
    }

    private OnnxImport.Graph read(Onnx.ModelProto model) throws ModelFileException {
        int opset = opset(model);
        Onnx.GraphProto g = model.getGraph();
        if (g.getNodeCount() > MAX_NODES) {
            throw new ModelFileException(file + ": the graph has " + g.getNodeCount() + " nodes; Backprop reads at "
                    + "most " + MAX_NODES);
        }
        if (g.getSparseInitializerCount() > 0) {
            throw new ModelFileException(file + ": sparse initializers are not supported");
        }
        for (Onnx.TensorProto t : g.getInitializerList()) {
            define(t.getName(), "initializer");
            constants.put(t.getName(), t);
        }
        Onnx.ValueInfoProto input = dataInput(g);
        int[] inputShape = inputShape(input);
        sample = inputShape.clone();
        String inputName = input.getName();
        current = inputName;
        for (Onnx.NodeProto node : g.getNodeList()) {
            readNode(node, opset);
            nodeIndex++;
        }
        if (g.getOutputCount() != 1) {
            throw new ModelFileException(file + ": the graph has " + g.getOutputCount() + " outputs; Backprop reads "
                    + "models with one");
        }
        String out = g.getOutput(0).getName();
        if (layers.isEmpty() || !out.equals(current) || pending != null) {
            throw new ModelFileException(file + ": the graph output " + OnnxReader.quote(out) + " is not the end of "
                    + "its chain of layers (" + (layers.isEmpty() ? "no layers were read" : "the chain ends at "
                    + OnnxReader.quote(current)) + ")");
        }
        Map<String, String> metadata = metadata(model);
        readSigmoidOutput(metadata.get(SavedModel.TASK_KEY));
        return graph(model, inputShape, inputName, out, metadata);
    }

    /**
     * Takes a final Sigmoid on one output per example as the binary task's own (what a PyTorch model trained with
     * {@code nn.BCELoss} ends with), as a final Softmax is the classification task's: kept as a layer, the task
     * would apply the sigmoid a second time. A file that says its task is another keeps it as a layer.
     */
    private void readSigmoidOutput(String task) {
        Draft last = layers.get(layers.size() - 1);
        boolean binary = task == null || task.equals(Task.BINARY.id());
        if (binary && outputTransform == null && last.spec().type().equals("sigmoid") && sample.length == 1
                && sample[0] == 1) {
            layers.remove(layers.size() - 1);
            outputTransform = "Sigmoid";
        }
    }

    /** The layers read, with identities where PyTorch's indices skip, as one sequential network. */
    private OnnxImport.Graph graph(Onnx.ModelProto model, int[] inputShape, String inputName, String out,
                                   Map<String, String> metadata) {
        List<Draft> aligned = TorchNames.align(layers);
        Map<String, HostTensor> state = new LinkedHashMap<>();
        List<LayerSpec> specs = new ArrayList<>();
        List<String> origins = new ArrayList<>();
        for (int i = 0; i < aligned.size(); i++) {
            Draft d = aligned.get(i);
            specs.add(d.spec());
            origins.add(d.where());
            for (Map.Entry<String, HostTensor> e : d.state().entrySet()) {
                state.put(i + "." + e.getKey(), e.getValue());
            }
        }
        return new OnnxImport.Graph(new LayerSpec("sequential", Map.of(), specs), state, origins, metadata,
                outputTransform, inputShape, inputName, out);
    }

    private int opset(Onnx.ModelProto model) throws ModelFileException {
        long ir = model.getIrVersion();
        if (ir < MIN_IR || ir > MAX_IR) {
            throw new ModelFileException(file + ": ONNX IR version " + ir + " is not supported (Backprop reads "
                    + MIN_IR + " to " + MAX_IR + ")" + (ir == 0 ? "; is this an ONNX file?" : ""));
        }
        if (!model.hasGraph()) {
            throw new ModelFileException(file + ": the model has no graph");
        }
        Long version = null;
        for (Onnx.OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                if (version != null) {
                    throw new ModelFileException(file + ": the ai.onnx opset is imported twice");
                }
                version = o.getVersion();
            }
        }
        if (version == null || version < MIN_OPSET || version > MAX_OPSET) {
            throw new ModelFileException(file + ": " + (version == null ? "no ai.onnx opset is imported"
                    : "opset " + version + " is not supported") + " (Backprop reads opsets " + MIN_OPSET + " to "
                    + MAX_OPSET + ")");
        }
        return version.intValue();
    }

    /** The one graph input that is not an initializer (older exporters list the initializers as inputs too). */
    private Onnx.ValueInfoProto dataInput(Onnx.GraphProto g) throws ModelFileException {
        List<Onnx.ValueInfoProto> data = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getInputList()) {
            if (!constants.containsKey(v.getName())) {
                define(v.getName(), "graph input");
                data.add(v);
            }
        }
        if (data.size() != 1) {
            throw new ModelFileException(file + ": the graph has " + data.size() + " data inputs; Backprop reads "
                    + "models with one");
        }
        return data.get(0);
    }

    /** The input's dimensions after the batch: -1 where symbolic. */
    private int[] inputShape(Onnx.ValueInfoProto v) throws ModelFileException {
        String name = OnnxReader.quote(v.getName());
        Onnx.TypeProto.Tensor t = v.getType().getTensorType();
        if (!v.getType().hasTensorType() || t.getElemType() != Onnx.TensorProto.DataType.FLOAT_VALUE) {
            throw new ModelFileException(file + ": input " + name + " must be a FLOAT tensor, is "
                    + (v.getType().hasTensorType() ? OnnxReader.typeName(t.getElemType()) : "not a tensor"));
        }
        if (!t.hasShape() || t.getShape().getDimCount() < 2 || t.getShape().getDimCount() > 5) {
            throw new ModelFileException(file + ": input " + name + " needs a declared shape [batch, ...] of rank 2 "
                    + "to 5, has " + (t.hasShape() ? "rank " + t.getShape().getDimCount() : "none"));
        }
        int[] dims = new int[t.getShape().getDimCount() - 1];
        for (int i = 0; i < dims.length; i++) {
            Onnx.TensorShapeProto.Dimension d = t.getShape().getDim(i + 1);
            if (d.hasDimValue() && (d.getDimValue() < 1 || d.getDimValue() > OnnxReader.MAX_ELEMENTS)) {
                throw new ModelFileException(file + ": input " + name + " has dimension " + d.getDimValue());
            }
            dims[i] = d.hasDimValue() ? (int) d.getDimValue() : -1;
        }
        return dims;
    }

    private void readNode(Onnx.NodeProto node, int opset) throws ModelFileException {
        NodeView n = new NodeView(node, this, opset);
        if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
            throw n.fail("operators of domain " + OnnxReader.quote(node.getDomain()) + " are not supported");
        }
        for (int i = 0; i < node.getInputCount(); i++) {
            String in = node.getInput(i);
            if (!in.isEmpty() && !written.contains(in)) {
                throw n.fail("reads " + OnnxReader.quote(in) + " before any node writes it (the graph is cyclic or not "
                        + "sorted)");
            }
            if (unusable.contains(in)) {
                throw n.fail("reads " + OnnxReader.quote(in) + ", an output Backprop does not compute");
            }
        }
        for (String out : node.getOutputList()) {
            if (!out.isEmpty()) {
                define(out, "node output");
            }
        }
        if (node.getOpType().equals("Constant")) {
            n.onlyAttributes("value");
            n.arity(0, 0);
            constants.put(node.getOutput(0), n.tensor("value"));
            return;
        }
        if (outputTransform != null) {
            throw n.fail("follows the output " + outputTransform + "; it must be the graph's last operator");
        }
        OperatorTable.Importer row = OperatorTable.IMPORTERS.get(node.getOpType());
        if (row == null) {
            throw n.fail("operator " + OnnxReader.quote(node.getOpType()) + " is not supported (Backprop reads "
                    + String.join(", ", new java.util.TreeSet<>(OperatorTable.IMPORTERS.keySet())) + ")");
        }
        row.read(n, this);
        for (int i = 1; i < node.getOutputCount(); i++) {
            unusable.add(node.getOutput(i));
        }
        current = node.getOutput(0);
    }

    private void define(String name, String what) throws ModelFileException {
        if (name.isEmpty()) {
            throw new ModelFileException(file + ": a " + what + " has no name");
        }
        if (!written.add(name)) {
            throw new ModelFileException(file + ": " + OnnxReader.quote(name) + " is defined twice (" + what + ")");
        }
    }

    /** The model's metadata properties; a key given twice is refused, as in a safetensors header. */
    private Map<String, String> metadata(Onnx.ModelProto model) throws ModelFileException {
        Map<String, String> m = new LinkedHashMap<>();
        for (Onnx.StringStringEntryProto e : model.getMetadataPropsList()) {
            // Readers disagree on which of two values wins: each would see another model.
            if (m.put(e.getKey(), e.getValue()) != null) {
                throw new ModelFileException(file + ": metadata key " + OnnxReader.quote(e.getKey())
                        + " is given twice");
            }
        }
        return m;
    }

    // ---- what the operator rows use -----------------------------------------------------------------------

    String file() {
        return file;
    }

    int nodeIndex() {
        return nodeIndex;
    }

    /** The constant (initializer or Constant output) of that name, or null. */
    Onnx.TensorProto constant(String name) {
        return constants.get(name);
    }

    /** Requires input {@code i} of {@code n} to be the chain's current tensor, and no other input to be computed. */
    void requireChain(NodeView n, int i) throws ModelFileException {
        requireChain(n, i, null);
    }

    /**
     * {@link #requireChain(NodeView, int)} for a row that finishes a two-node pattern of kind {@code finishes}.
     *
     * @return the pattern's first half, or null when the previous node left none
     */
    Pending requireChain(NodeView n, int i, String finishes) throws ModelFileException {
        if (!n.input(i).equals(current)) {
            throw n.fail("reads " + OnnxReader.quote(n.input(i)) + ", not the output of the layer before it ("
                    + OnnxReader.quote(current) + "): Backprop reads chains of layers, not branching graphs");
        }
        for (int j = 0; j < n.inputCount(); j++) {
            if (j != i && !n.input(j).isEmpty() && !n.isConstant(j)) {
                throw n.fail("input " + OnnxReader.quote(n.input(j)) + " must be a constant");
            }
        }
        Pending p = pending;
        if (p != null && !p.kind().equals(finishes)) {
            throw n.fail("follows " + p.op() + ", which Backprop reads only before " + p.next());
        }
        pending = null;
        return p;
    }

    /** The current per-example shape (-1 where unknown); its length is the rank after the batch. */
    int[] sample() {
        return sample.clone();
    }

    /**
     * Appends a layer read from {@code n}, whose output has per-example shape {@code out}; {@code sources} names the
     * initializers read as they are (for PyTorch's parameter names).
     */
    void add(NodeView n, LayerSpec spec, Map<String, HostTensor> state, Map<String, String> sources, int[] out) {
        layers.add(new Draft(spec, state, sources, n.name(), n.where(), n.outputs().get(0)));
        sample = out.clone();
    }

    /** The last layer read, if it produced the current tensor; else null. */
    Draft lastIfCurrent() {
        Draft d = layers.isEmpty() ? null : layers.get(layers.size() - 1);
        return d != null && d.output().equals(current) && pending == null ? d : null;
    }

    /** Replaces the last layer (a bias joining its dense layer); its output becomes {@code n}'s. */
    void replaceLast(NodeView n, LayerSpec spec, Map<String, HostTensor> state, Map<String, String> sources) {
        Draft d = layers.remove(layers.size() - 1);
        layers.add(new Draft(spec, state, sources, d.nodeName(), d.where(), n.outputs().get(0)));
    }

    /** Leaves the first half of a two-node pattern for the next node. */
    void pend(Pending p) {
        pending = p;
    }

    /** An output Softmax or LogSoftmax: no layer, the network's outputs are its logits; it must come last. */
    void outputTransform(String op) {
        outputTransform = op;
    }
}
