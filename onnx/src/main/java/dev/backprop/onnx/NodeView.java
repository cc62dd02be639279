package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import dev.backprop.onnx.proto.Onnx;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One node of an ONNX graph as an importer row sees it: its attributes (every one it carries must be one the row
 * reads, so nothing is ignored silently), its constant inputs decoded and checked, and errors that name the node.
 */
final class NodeView {
    private final Onnx.NodeProto node;
    private final GraphImporter graph;
    private final int opset;
    private final Map<String, Onnx.AttributeProto> attributes = new HashMap<>();

    NodeView(Onnx.NodeProto node, GraphImporter graph, int opset) throws ModelFileException {
        this.node = node;
        this.graph = graph;
        this.opset = opset;
        for (Onnx.AttributeProto a : node.getAttributeList()) {
            if (attributes.put(a.getName(), a) != null) {
                throw fail("attribute " + OnnxReader.quote(a.getName()) + " is given twice");
            }
        }
    }

    /** The operator ({@code Gemm}). */
    String op() {
        return node.getOpType();
    }

    /** The node's name as in the file ("" when it has none). */
    String name() {
        return node.getName();
    }

    /** The ai.onnx opset the model imports. */
    int opset() {
        return opset;
    }

    /** {@code file: node 'name' (Op)}, for messages. */
    String where() {
        String name = node.getName().isEmpty() ? "#" + graph.nodeIndex() : OnnxReader.quote(node.getName());
        return graph.file() + ": node " + name + " (" + OnnxReader.quote(node.getOpType()).replace("'", "") + ")";
    }

    /** An error naming this node. */
    ModelFileException fail(String message) {
        return new ModelFileException(where() + ": " + message);
    }

    /** Refuses any attribute not in {@code known}. */
    void onlyAttributes(String... known) throws ModelFileException {
        Set<String> k = Set.of(known);
        for (String name : attributes.keySet()) {
            if (!k.contains(name)) {
                throw fail("attribute " + OnnxReader.quote(name) + " is not supported (this operator is read with "
                        + (known.length == 0 ? "no attributes" : String.join(", ", known)) + ")");
            }
        }
    }

    /** Number of inputs, counting trailing empty (omitted optional) ones as absent. */
    int inputCount() {
        int n = node.getInputCount();
        while (n > 0 && node.getInput(n - 1).isEmpty()) {
            n--;
        }
        return n;
    }

    /** Requires between {@code min} and {@code max} inputs and exactly one used output. */
    void arity(int min, int max) throws ModelFileException {
        int n = inputCount();
        if (n < min || n > max) {
            throw fail("has " + n + " inputs, expected " + (min == max ? "" + min : min + " to " + max));
        }
        if (node.getOutputCount() < 1 || node.getOutput(0).isEmpty()) {
            throw fail("has no output");
        }
    }

    /** The name of input {@code i} ("" when omitted). */
    String input(int i) {
        return i < node.getInputCount() ? node.getInput(i) : "";
    }

    /** The names of the outputs. */
    List<String> outputs() {
        return node.getOutputList();
    }

    /** Input {@code i} as a FLOAT constant (initializer or Constant output). */
    HostTensor floats(int i, String role) throws ModelFileException {
        return OnnxReader.floats(constant(i, role), where() + " " + role + " " + OnnxReader.quote(input(i)));
    }

    /** Input {@code i} as an INT64 constant. */
    long[] int64s(int i, String role) throws ModelFileException {
        return OnnxReader.int64s(constant(i, role), where() + " " + role + " " + OnnxReader.quote(input(i)));
    }

    /** Input {@code i} as a BOOL scalar constant. */
    boolean bool(int i, String role) throws ModelFileException {
        return OnnxReader.bool(constant(i, role), where() + " " + role + " " + OnnxReader.quote(input(i)));
    }

    /** The initializer name of input {@code i}, for the PyTorch names of the imported parameters. */
    Onnx.TensorProto constant(int i, String role) throws ModelFileException {
        Onnx.TensorProto t = graph.constant(input(i));
        if (t == null) {
            throw fail(role + " " + OnnxReader.quote(input(i)) + " must be a constant (an initializer), not computed "
                    + "by the graph");
        }
        return t;
    }

    /** Whether input {@code i} is a constant. */
    boolean isConstant(int i) {
        return graph.constant(input(i)) != null;
    }

    /** An INT attribute, or {@code otherwise} when absent. */
    long integer(String name, long otherwise) throws ModelFileException {
        return attribute(name, Onnx.AttributeProto.AttributeType.INT, otherwise, Onnx.AttributeProto::getI);
    }

    /** A FLOAT attribute, or {@code otherwise} when absent. */
    float real(String name, float otherwise) throws ModelFileException {
        return attribute(name, Onnx.AttributeProto.AttributeType.FLOAT, otherwise, Onnx.AttributeProto::getF);
    }

    /** A STRING attribute, or {@code otherwise} when absent. */
    String string(String name, String otherwise) throws ModelFileException {
        return attribute(name, Onnx.AttributeProto.AttributeType.STRING, otherwise, a -> a.getS().toStringUtf8());
    }

    private <T> T attribute(String name, Onnx.AttributeProto.AttributeType type, T otherwise,
                            java.util.function.Function<Onnx.AttributeProto, T> value) throws ModelFileException {
        Onnx.AttributeProto a = attributes.get(name);
        if (a == null) {
            return otherwise;
        }
        expectType(a, type);
        return value.apply(a);
    }

    /** An INTS attribute of exactly {@code length} values each in [min, max], or {@code otherwise} when absent. */
    int[] ints(String name, int length, long min, long max, int[] otherwise) throws ModelFileException {
        Onnx.AttributeProto a = attributes.get(name);
        if (a == null) {
            return otherwise;
        }
        expectType(a, Onnx.AttributeProto.AttributeType.INTS);
        if (a.getIntsCount() != length) {
            throw fail("attribute '" + name + "' has " + a.getIntsCount() + " values, expected " + length);
        }
        int[] v = new int[length];
        for (int i = 0; i < length; i++) {
            long x = a.getInts(i);
            if (x < min || x > max) {
                throw fail("attribute '" + name + "' " + a.getIntsList() + " has " + x + ", expected " + min + " to "
                        + max);
            }
            v[i] = (int) x;
        }
        return v;
    }

    /** A TENSOR attribute (Constant's value). */
    Onnx.TensorProto tensor(String name) throws ModelFileException {
        Onnx.AttributeProto a = attributes.get(name);
        if (a == null) {
            throw fail("attribute '" + name + "' is missing");
        }
        expectType(a, Onnx.AttributeProto.AttributeType.TENSOR);
        return a.getT();
    }

    /** Requires an attribute to be absent or to hold {@code expected} (an INT or FLOAT compared exactly). */
    void require(String name, Number expected, Number found) throws ModelFileException {
        if (!expected.equals(found)) {
            throw fail("attribute '" + name + "' = " + found + " is not supported (Backprop reads only " + expected
                    + ")");
        }
    }

    private void expectType(Onnx.AttributeProto a, Onnx.AttributeProto.AttributeType type) throws ModelFileException {
        if (a.getType() != type) {
            throw fail("attribute " + OnnxReader.quote(a.getName()) + " is " + a.getType() + ", expected " + type);
        }
    }

    @Override
    public String toString() {
        return where() + " inputs " + Arrays.toString(node.getInputList().toArray());
    }
}
