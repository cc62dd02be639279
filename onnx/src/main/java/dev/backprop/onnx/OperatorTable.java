package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import dev.backprop.nn.LayerSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.util.Map.entry;

/**
 * Which ONNX operators stand for which Backprop layers, both ways, in one place: {@link #EXPORTERS} (a layer type
 * to the nodes it is written as) and {@link #IMPORTERS} (an operator to the layer it is read as). A row reads every
 * attribute its operator may carry and refuses any value Backprop's layer does not compute exactly; an operator
 * without a row is refused by the graph reader. The rows of the image layers ({@code conv2d}, pooling, batch norm,
 * dropout) are in {@link ImageOperators}, layer norm's in {@link LayerNormOperators}.
 *
 * <table>
 *   <caption>The operator subset</caption>
 *   <tr><th>layer</th><th>written as</th><th>also read from</th></tr>
 *   <tr><td>dense</td><td>Gemm (transB=1)</td><td>Gemm (transB 0 or 1, alpha = beta = 1), MatMul [+ Add]</td></tr>
 *   <tr><td>relu, sigmoid, tanh, identity</td><td>Relu, Sigmoid, Tanh, Identity</td><td></td></tr>
 *   <tr><td>threshold</td><td>GreaterOrEqual(x, 0) then Cast(to FLOAT)</td><td></td></tr>
 *   <tr><td>flatten</td><td>Flatten (axis 1)</td><td>Reshape to [0, -1], [-1, k], [0, k]</td></tr>
 *   <tr><td>(the task's softmax)</td><td>Softmax (axis 1), when asked</td><td>a final Softmax or LogSoftmax</td></tr>
 * </table>
 */
final class OperatorTable {
    /** Reads one node into the chain. */
    @FunctionalInterface
    interface Importer {
        void read(NodeView node, GraphImporter chain) throws ModelFileException;
    }

    /** Writes one layer (its state under {@code prefix}) as nodes. */
    @FunctionalInterface
    interface Exporter {
        void write(LayerSpec spec, String prefix, GraphWriter graph);
    }

    static final Map<String, Exporter> EXPORTERS = Map.ofEntries(
            entry("dense", OperatorTable::writeDense),
            entry("identity", unary("Identity")),
            entry("relu", unary("Relu")),
            entry("sigmoid", unary("Sigmoid")),
            entry("tanh", unary("Tanh")),
            entry("threshold", OperatorTable::writeThreshold),
            entry("flatten", OperatorTable::writeFlatten),
            entry("conv2d", ImageOperators::writeConv),
            entry("maxpool2d", ImageOperators::writeMaxPool),
            entry("avgpool2d", ImageOperators::writeAvgPool),
            entry("batchnorm1d", ImageOperators::writeBatchNorm),
            entry("batchnorm2d", ImageOperators::writeBatchNorm),
            entry("dropout", ImageOperators::writeDropout),
            entry("layernorm", LayerNormOperators::write));

    static final Map<String, Importer> IMPORTERS = Map.ofEntries(
            entry("Gemm", OperatorTable::readGemm),
            entry("MatMul", OperatorTable::readMatMul),
            entry("Add", OperatorTable::readBias),
            entry("Identity", activation("identity")),
            entry("Relu", activation("relu")),
            entry("Sigmoid", activation("sigmoid")),
            entry("Tanh", activation("tanh")),
            entry("GreaterOrEqual", OperatorTable::readComparison),
            entry("Cast", OperatorTable::readCast),
            entry("Flatten", OperatorTable::readFlatten),
            entry("Reshape", OperatorTable::readReshape),
            entry("Softmax", OperatorTable::readOutputSoftmax),
            entry("LogSoftmax", OperatorTable::readOutputSoftmax),
            entry("Conv", ImageOperators::readConv),
            entry("MaxPool", ImageOperators::readMaxPool),
            entry("AveragePool", ImageOperators::readAvgPool),
            entry("Pad", ImageOperators::readPad),
            entry("BatchNormalization", ImageOperators::readBatchNorm),
            entry("Dropout", ImageOperators::readDropout),
            entry("LayerNormalization", LayerNormOperators::read));

    private OperatorTable() {
    }

    // ---- export -------------------------------------------------------------------------------------------

    private static void writeDense(LayerSpec spec, String prefix, GraphWriter g) {
        int in = spec.arg("in"), out = spec.arg("out");
        g.requireFeatures(prefix, in);
        String w = g.weight(prefix + "weight", out, in);
        if (spec.arg("bias") == 1) {
            g.node("Gemm", prefix, new int[] {out}, List.of(w, g.weight(prefix + "bias", out)),
                    GraphWriter.attr("transB", 1));
        } else {
            g.node("Gemm", prefix, new int[] {out}, List.of(w), GraphWriter.attr("transB", 1));
        }
    }

    private static Exporter unary(String op) {
        return (spec, prefix, g) -> g.node(op, prefix, g.sample(), List.of());
    }

    /** {@code 1[z ≥ 0]}: ONNX has no such operator, so the comparison gives booleans and a Cast makes them 0/1. */
    private static void writeThreshold(LayerSpec spec, String prefix, GraphWriter g) {
        String zero = g.constant(prefix + "threshold_zero", new HostTensor(new int[0], new float[] {0f}));
        int[] shape = g.sample();
        g.node("GreaterOrEqual", prefix, shape, List.of(zero));
        g.node("Cast", prefix, shape, List.of(), GraphWriter.attr("to", 1));
    }

    private static void writeFlatten(LayerSpec spec, String prefix, GraphWriter g) {
        g.node("Flatten", prefix, new int[] {product(g.sample())}, List.of(), GraphWriter.attr("axis", 1));
    }

    // ---- import -------------------------------------------------------------------------------------------

    private static void readGemm(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("alpha", "beta", "transA", "transB");
        n.arity(2, 3);
        c.requireChain(n, 0);
        n.require("alpha", 1f, n.real("alpha", 1f));
        n.require("transA", 0L, n.integer("transA", 0));
        long transB = n.integer("transB", 0);
        if (transB != 0 && transB != 1) {
            throw n.fail("attribute 'transB' = " + transB + ", expected 0 or 1");
        }
        HostTensor b = matrix(n, 1);
        HostTensor w = transB == 1 ? b : b.transposed();
        Map<String, String> sources = new LinkedHashMap<>();
        if (transB == 1) {
            sources.put("weight", n.input(1));
        }
        HostTensor bias = null;
        if (n.inputCount() == 3) {
            n.require("beta", 1f, n.real("beta", 1f));
            bias = bias(n, 2, w.dims()[0]);
            sources.put("bias", n.input(2));
        }
        addDense(n, c, w, bias, sources);
    }

    private static void readMatMul(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes();
        n.arity(2, 2);
        c.requireChain(n, 0);
        addDense(n, c, matrix(n, 1).transposed(), null, Map.of());
    }

    /** Add is read only as the bias of the bias-free dense layer (a MatMul) right before it. */
    private static void readBias(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes();
        n.arity(2, 2);
        int data = n.isConstant(0) ? 1 : 0;
        c.requireChain(n, data);
        GraphImporter.Draft last = c.lastIfCurrent();
        if (last == null || !last.spec().type().equals("dense") || last.spec().arg("bias") != 0) {
            throw n.fail("Add is read only as the bias of the MatMul before it");
        }
        int out = last.spec().arg("out");
        Map<String, HostTensor> state = new LinkedHashMap<>(last.state());
        state.put("bias", bias(n, 1 - data, out));
        Map<String, String> sources = new LinkedHashMap<>(last.sources());
        sources.put("bias", n.input(1 - data));
        c.replaceLast(n, dense(last.spec().arg("in"), out, true), state, sources);
    }

    private static void addDense(NodeView n, GraphImporter c, HostTensor w, HostTensor bias,
                                 Map<String, String> sources) throws ModelFileException {
        int out = w.dims()[0], in = w.dims()[1];
        int[] s = c.sample();
        if (s.length != 1 || (s[0] != -1 && s[0] != in)) {
            throw n.fail("weight " + java.util.Arrays.toString(w.dims()) + " takes " + in + " features, the input "
                    + "has per-example shape " + shapeText(s));
        }
        Map<String, HostTensor> state = new LinkedHashMap<>();
        state.put("weight", w);
        if (bias != null) {
            state.put("bias", bias);
        }
        c.add(n, dense(in, out, bias != null), state, sources, new int[] {out});
    }

    static LayerSpec dense(int in, int out, boolean bias) {
        Map<String, Integer> args = new LinkedHashMap<>();
        args.put("in", in);
        args.put("out", out);
        args.put("bias", bias ? 1 : 0);
        return LayerSpec.of("dense", args);
    }

    private static HostTensor matrix(NodeView n, int i) throws ModelFileException {
        HostTensor t = n.floats(i, "weight");
        if (t.dims().length != 2) {
            throw n.fail("weight " + OnnxReader.quote(n.input(i)) + " is " + java.util.Arrays.toString(t.dims())
                    + ", expected a matrix");
        }
        return t;
    }

    /** A bias {@code [out]} (or {@code [1, out]}, as broadcasting allows). */
    static HostTensor bias(NodeView n, int i, int out) throws ModelFileException {
        HostTensor t = n.floats(i, "bias");
        if (!t.hasDims(out) && !t.hasDims(1, out)) {
            throw n.fail("bias " + OnnxReader.quote(n.input(i)) + " is " + java.util.Arrays.toString(t.dims())
                    + ", expected [" + out + "]");
        }
        return new HostTensor(new int[] {out}, t.data());
    }

    private static Importer activation(String type) {
        return (n, c) -> {
            n.onlyAttributes();
            n.arity(1, 1);
            c.requireChain(n, 0);
            c.add(n, LayerSpec.of(type, Map.of()), Map.of(), Map.of(), c.sample());
        };
    }

    private static void readComparison(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes();
        n.arity(2, 2);
        c.requireChain(n, 0);
        HostTensor zero = n.floats(1, "threshold");
        if (zero.data().length != 1 || zero.dims().length > 1 || zero.data()[0] != 0f) {
            throw n.fail("GreaterOrEqual is read only as the threshold x >= 0, not against a constant of shape "
                    + java.util.Arrays.toString(zero.dims()) + (zero.data().length == 1 ? " = " + zero.data()[0] : ""));
        }
        c.pend(new GraphImporter.Pending(GraphImporter.COMPARISON, new int[0], n.op(), "Cast to FLOAT (a threshold)"));
    }

    private static void readCast(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("to", "saturate");
        n.arity(1, 1);
        if (c.requireChain(n, 0, GraphImporter.COMPARISON) == null) {
            throw n.fail("Cast is read only after GreaterOrEqual(x, 0), as the threshold 1[x >= 0]");
        }
        n.require("to", 1L, n.integer("to", 0));
        c.add(n, LayerSpec.of("threshold", Map.of()), Map.of(), Map.of(), c.sample());
    }

    private static void readFlatten(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("axis");
        n.arity(1, 1);
        c.requireChain(n, 0);
        int[] s = c.sample();
        long axis = n.integer("axis", 1);
        if (axis != 1 && axis != -s.length) {
            throw n.fail("attribute 'axis' = " + axis + " is not supported (Backprop flattens all but the batch: "
                    + "axis 1)");
        }
        c.add(n, LayerSpec.of("flatten", Map.of()), Map.of(), Map.of(), new int[] {product(s)});
    }

    /** A Reshape that keeps the batch and flattens the rest ({@code x.view(-1, 784)}) is a Flatten. */
    private static void readReshape(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("allowzero");
        n.arity(2, 2);
        c.requireChain(n, 0);
        n.require("allowzero", 0L, n.integer("allowzero", 0));
        long[] shape = n.int64s(1, "shape");
        int features = product(c.sample());
        boolean flattens = shape.length == 2 && (shape[0] == 0 && (shape[1] == -1 || shape[1] == features)
                || shape[0] == -1 && features != -1 && shape[1] == features);
        if (!flattens) {
            throw n.fail("Reshape to " + java.util.Arrays.toString(shape) + " from per-example shape "
                    + shapeText(c.sample()) + " is not supported (only flattening to [batch, features])");
        }
        c.add(n, LayerSpec.of("flatten", Map.of()), Map.of(), Map.of(), new int[] {features});
    }

    /** A final softmax: the network's outputs are the logits before it, which is what the task expects. */
    private static void readOutputSoftmax(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("axis");
        n.arity(1, 1);
        c.requireChain(n, 0);
        long axis = n.integer("axis", n.opset() < 13 ? 1 : -1);
        if (c.sample().length != 1 || (axis != 1 && axis != -1)) {
            throw n.fail("only a softmax over the classes of [batch, classes] outputs is read, not axis " + axis
                    + " of per-example shape " + shapeText(c.sample()));
        }
        c.outputTransform(n.op());
    }

    // ---- shapes -------------------------------------------------------------------------------------------

    /** The number of elements of a per-example shape, -1 when a dimension is unknown. */
    static int product(int[] sample) {
        long p = 1;
        for (int d : sample) {
            if (d < 0) {
                return -1;
            }
            p *= d;
        }
        return p > Integer.MAX_VALUE ? -1 : (int) p;
    }

    /** {@code [1, 28, 28]}, {@code ?} where unknown. */
    static String shapeText(int[] sample) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < sample.length; i++) {
            b.append(i == 0 ? "" : ", ").append(sample[i] < 0 ? "?" : String.valueOf(sample[i]));
        }
        return b.append(']').toString();
    }
}
