package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import dev.backprop.nn.BatchNorm;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Pool2d;
import dev.backprop.onnx.proto.Onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link OperatorTable} rows of the image layers, PyTorch's {@code Conv2d}, {@code MaxPool2d},
 * {@code AvgPool2d}, {@code BatchNorm1d/2d} and {@code Dropout}, with their layer specs' arguments:
 *
 * <table>
 *   <caption>Image layers</caption>
 *   <tr><th>layer</th><th>ONNX</th><th>attributes read and written</th></tr>
 *   <tr><td>conv2d</td><td>Conv</td><td>kernel_shape, strides, pads (symmetric), dilations; group 1</td></tr>
 *   <tr><td>maxpool2d</td><td>MaxPool</td><td>kernel_shape, strides, pads; ceil_mode 0, dilations 1</td></tr>
 *   <tr><td>avgpool2d</td><td>AveragePool</td><td>kernel_shape, strides, pads, count_include_pad; ceil_mode 0</td></tr>
 *   <tr><td>batchnorm1d/2d</td><td>BatchNormalization</td><td>inference, running statistics; epsilon 1e-5,
 *       momentum 0.9 (PyTorch's 0.1)</td></tr>
 *   <tr><td>dropout</td><td>Dropout, inference mode (ratio kept)</td><td>ratio, seed; training_mode false</td></tr>
 * </table>
 */
final class ImageOperators {
    /** Backprop's batch norm epsilon, as the float32 attribute PyTorch writes. */
    static final float EPSILON = 1e-5f;
    /** ONNX's momentum is PyTorch's complement: 1 - 0.1. */
    static final float MOMENTUM = 0.9f;
    private static final String[] BN_STATE = {"weight", "bias", "running_mean", BatchNorm.RUNNING_VAR};

    private ImageOperators() {
    }

    /** Kernel, stride, padding and dilation, each {@code {h, w}}. */
    private record Window(int[] kernel, int[] stride, int[] pad, int[] dilation) {
        static Window of(LayerSpec s, boolean dilated) {
            return new Window(pair(s, "kernel"), pair(s, "stride"), pair(s, "pad"),
                    dilated ? pair(s, "dilation") : new int[] {1, 1});
        }

        /**
         * The output's per-example shape for {@code channels} out (PyTorch's floor mode): -1 where the input's size is
         * unknown, 0 where the window does not fit.
         */
        int[] out(int channels, int[] in) {
            int[] o = {channels, -1, -1};
            for (int i = 0; i < 2; i++) {
                if (in.length == 3 && in[i + 1] >= 0) {
                    long span = (long) in[i + 1] + 2L * pad[i] - (long) dilation[i] * (kernel[i] - 1) - 1;
                    o[i + 1] = span < 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, span / stride[i] + 1);
                }
            }
            return o;
        }

        List<Onnx.AttributeProto> attributes(boolean dilated) {
            List<Onnx.AttributeProto> a = new ArrayList<>(List.of(
                    GraphWriter.ints("kernel_shape", kernel), GraphWriter.ints("strides", stride),
                    GraphWriter.ints("pads", pad[0], pad[1], pad[0], pad[1])));
            if (dilated) {
                a.add(GraphWriter.ints("dilations", dilation));
            }
            return a;
        }
    }

    private static int[] pair(LayerSpec s, String name) {
        return new int[] {s.arg(name + "_h"), s.arg(name + "_w")};
    }

    // ---- export -------------------------------------------------------------------------------------------

    static void writeConv(LayerSpec s, String prefix, GraphWriter g) {
        int in = s.arg("in"), out = s.arg("out");
        g.requireChannels(prefix, "conv2d", 3, in);
        Window w = Window.of(s, true);
        List<String> inputs = new ArrayList<>(List.of(g.weight(prefix + "weight", out, in, w.kernel[0],
                w.kernel[1])));
        if (s.arg("bias") == 1) {
            inputs.add(g.weight(prefix + "bias", out));
        }
        List<Onnx.AttributeProto> a = w.attributes(true);
        a.add(GraphWriter.attr("group", 1));
        g.node("Conv", prefix, w.out(out, g.sample()), inputs, a.toArray(Onnx.AttributeProto[]::new));
    }

    static void writeMaxPool(LayerSpec s, String prefix, GraphWriter g) {
        g.requireChannels(prefix, "maxpool2d", 3, -1);
        Window w = Window.of(s, false);
        List<Onnx.AttributeProto> a = w.attributes(false);
        a.add(GraphWriter.attr("ceil_mode", 0));
        g.node("MaxPool", prefix, w.out(g.sample()[0], g.sample()), List.of(),
                a.toArray(Onnx.AttributeProto[]::new));
    }

    static void writeAvgPool(LayerSpec s, String prefix, GraphWriter g) {
        g.requireChannels(prefix, "avgpool2d", 3, -1);
        Window w = Window.of(s, false);
        List<Onnx.AttributeProto> a = w.attributes(false);
        a.add(GraphWriter.attr("ceil_mode", 0));
        a.add(GraphWriter.attr("count_include_pad", s.arg("count_include_pad")));
        g.node("AveragePool", prefix, w.out(g.sample()[0], g.sample()), List.of(),
                a.toArray(Onnx.AttributeProto[]::new));
    }

    static void writeBatchNorm(LayerSpec s, String prefix, GraphWriter g) {
        int c = s.arg("features");
        boolean spatial = s.type().equals("batchnorm2d");
        if (spatial) {
            g.requireChannels(prefix, s.type(), 3, c);
        } else if (g.sample().length != 2) {
            g.requireChannels(prefix, s.type(), 1, c);
        }
        List<String> inputs = new ArrayList<>();
        for (String name : BN_STATE) {
            inputs.add(g.weight(prefix + name, c));
        }
        g.node("BatchNormalization", prefix, g.sample(), inputs, GraphWriter.attr("epsilon", EPSILON),
                GraphWriter.attr("momentum", MOMENTUM));
    }

    /** Dropout in inference mode (no training_mode input) is the identity; the ratio is kept for fine-tuning. */
    static void writeDropout(LayerSpec s, String prefix, GraphWriter g) {
        float p = (float) (s.arg("p_ppm") / 1e6);
        String ratio = g.constant(prefix + "dropout_ratio", new HostTensor(new int[0], new float[] {p}));
        g.node("Dropout", prefix, g.sample(), List.of(ratio));
    }

    // ---- import -------------------------------------------------------------------------------------------

    static void readConv(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        n.arity(2, 3);
        c.requireChain(n, 0);
        n.require("group", 1L, n.integer("group", 1));
        HostTensor w = n.floats(1, "weight");
        int[] d = w.dims();
        int[] s = c.sample();
        if (d.length != 4 || s.length != 3 || (s[0] != -1 && s[0] != d[1])) {
            throw n.fail("weight " + Arrays.toString(d) + " does not fit per-example input "
                    + OperatorTable.shapeText(s) + " (expected [out, " + (s.length == 3 ? s[0] : "channels")
                    + ", kh, kw] on [channels, h, w])");
        }
        int[] kernel = n.ints("kernel_shape", 2, 1, Integer.MAX_VALUE, new int[] {d[2], d[3]});
        if (kernel[0] != d[2] || kernel[1] != d[3]) {
            throw n.fail("attribute 'kernel_shape' " + Arrays.toString(kernel) + " differs from the weight's "
                    + Arrays.toString(d));
        }
        Window win = window(n, kernel, true);
        Map<String, HostTensor> state = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        state.put("weight", w);
        sources.put("weight", n.input(1));
        if (n.inputCount() == 3) {
            state.put("bias", OperatorTable.bias(n, 2, d[0]));
            sources.put("bias", n.input(2));
        }
        LayerSpec spec = Conv2d.options(d[1], d[0], 1).kernel(win.kernel[0], win.kernel[1])
                .stride(win.stride[0], win.stride[1]).padding(win.pad[0], win.pad[1])
                .dilation(win.dilation[0], win.dilation[1]).bias(state.size() == 2).spec();
        c.add(n, spec, state, sources, fitted(n, c, win, d[0]));
    }

    static void readMaxPool(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
        n.arity(1, 1);
        c.requireChain(n, 0);
        n.require("storage_order", 0L, n.integer("storage_order", 0));
        Window w = pool(n, c);
        c.add(n, Pool2d.spec(true, w.kernel, w.stride, w.pad, false), Map.of(), Map.of(),
                fitted(n, c, w, c.sample()[0]));
    }

    static void readAvgPool(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides");
        n.arity(1, 1);
        GraphImporter.Pending padded = c.requireChain(n, 0, GraphImporter.PAD);
        long include = n.integer("count_include_pad", 0);
        if (include != 0 && include != 1) {
            throw n.fail("attribute 'count_include_pad' = " + include + ", expected 0 or 1");
        }
        Window w = pool(n, c);
        if (padded != null) {
            if (w.pad[0] != 0 || w.pad[1] != 0) {
                throw n.fail("pads after a Pad are not supported");
            }
            w = new Window(w.kernel, w.stride, padded.values(), w.dilation);
            include = 1;
        }
        c.add(n, Pool2d.spec(false, w.kernel, w.stride, w.pad, include == 1), Map.of(), Map.of(),
                fitted(n, c, w, c.sample()[0]));
    }

    /**
     * PyTorch writes {@code AvgPool2d(count_include_pad=True)} as a zero Pad and an unpadded AveragePool: read
     * together, they are one avgpool2d with that padding, counting it. Alone, a Pad is refused.
     */
    static void readPad(NodeView n, GraphImporter c) throws ModelFileException {
        boolean inputs = n.opset() >= 11;
        n.onlyAttributes(inputs ? new String[] {"mode"} : new String[] {"mode", "pads", "value"});
        n.arity(inputs ? 2 : 1, inputs ? 3 : 1);
        c.requireChain(n, 0);
        if (!n.string("mode", "constant").equals("constant")) {
            throw n.fail("attribute 'mode' = " + OnnxReader.quote(n.string("mode", "")) + " is not supported (only "
                    + "constant zeros, before an AveragePool)");
        }
        long[] pads = inputs ? n.int64s(1, "pads")
                : Arrays.stream(n.ints("pads", 8, 0, Integer.MAX_VALUE, new int[8])).asLongStream().toArray();
        float value = inputs && n.inputCount() > 2 ? n.floats(2, "constant_value").data()[0] : n.real("value", 0f);
        if (c.sample().length != 3 || pads.length != 8 || value != 0f || pads[0] != 0 || pads[1] != 0
                || pads[4] != 0 || pads[5] != 0 || pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0
                || pads[3] < 0 || pads[2] > Integer.MAX_VALUE || pads[3] > Integer.MAX_VALUE) {
            throw n.fail("only a symmetric zero padding of height and width (before an AveragePool) is read, not pads "
                    + Arrays.toString(pads) + " with value " + value + " on per-example shape "
                    + OperatorTable.shapeText(c.sample()));
        }
        // The per-example shape stays the unpadded one: the padding joins the pool, which is computed on it.
        c.pend(new GraphImporter.Pending(GraphImporter.PAD, new int[] {(int) pads[2], (int) pads[3]}, n.op(),
                "AveragePool (PyTorch's count_include_pad)"));
    }

    private static Window pool(NodeView n, GraphImporter c) throws ModelFileException {
        if (c.sample().length != 3) {
            throw n.fail("pooling reads [channels, height, width] per example, the input is "
                    + OperatorTable.shapeText(c.sample()));
        }
        n.require("ceil_mode", 0L, n.integer("ceil_mode", 0));
        int[] kernel = n.ints("kernel_shape", 2, 1, Integer.MAX_VALUE, null);
        if (kernel == null) {
            throw n.fail("attribute 'kernel_shape' is missing");
        }
        return window(n, kernel, false);
    }

    /** Strides, symmetric pads and (when {@code dilated}) dilations; auto_pad only NOTSET or VALID (no padding). */
    private static Window window(NodeView n, int[] kernel, boolean dilated) throws ModelFileException {
        String autoPad = n.string("auto_pad", "NOTSET");
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
            throw n.fail("attribute 'auto_pad' = " + OnnxReader.quote(autoPad) + " is not supported (give pads)");
        }
        int[] stride = n.ints("strides", 2, 1, Integer.MAX_VALUE, new int[] {1, 1});
        int[] pads = n.ints("pads", 4, 0, Integer.MAX_VALUE, new int[4]);
        if (pads[0] != pads[2] || pads[1] != pads[3] || (autoPad.equals("VALID") && pads[0] + pads[1] != 0)) {
            throw n.fail("attribute 'pads' " + Arrays.toString(pads) + " is not supported (Backprop pads both sides "
                    + "alike)");
        }
        int[] dilation = n.ints("dilations", 2, 1, dilated ? Integer.MAX_VALUE : 1, new int[] {1, 1});
        return new Window(kernel, stride, new int[] {pads[0], pads[1]}, dilation);
    }

    static void readBatchNorm(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("epsilon", "momentum", "training_mode");
        n.arity(5, 5);
        c.requireChain(n, 0);
        if (n.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
            throw n.fail("its running-statistics outputs are training mode, which is not supported");
        }
        n.require("training_mode", 0L, n.integer("training_mode", 0));
        n.require("epsilon", EPSILON, n.real("epsilon", EPSILON));
        n.require("momentum", MOMENTUM, n.real("momentum", MOMENTUM));
        int[] s = c.sample();
        if (s.length < 1 || s.length > 3 || s[0] == -1) {
            throw n.fail("reads [channels, ...] per example with known channels, the input is "
                    + OperatorTable.shapeText(s));
        }
        Map<String, HostTensor> state = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        for (int i = 0; i < BN_STATE.length; i++) {
            HostTensor t = n.floats(i + 1, BN_STATE[i]);
            if (!t.hasDims(s[0])) {
                throw n.fail(BN_STATE[i] + " " + OnnxReader.quote(n.input(i + 1)) + " is "
                        + Arrays.toString(t.dims()) + ", expected [" + s[0] + "]");
            }
            state.put(BN_STATE[i], t);
            sources.put(BN_STATE[i], n.input(i + 1));
        }
        c.add(n, LayerSpec.of(s.length == 3 ? "batchnorm2d" : "batchnorm1d", Map.of("features", s[0])), state,
                sources, s);
    }

    static void readDropout(NodeView n, GraphImporter c) throws ModelFileException {
        boolean ratioInput = n.opset() >= 12;
        n.onlyAttributes(ratioInput ? new String[] {"seed"} : new String[] {"ratio", "seed"});
        n.arity(1, ratioInput ? 3 : 1);
        c.requireChain(n, 0);
        float ratio = n.real("ratio", 0.5f);
        if (ratioInput && n.inputCount() > 1 && !n.input(1).isEmpty()) {
            HostTensor r = n.floats(1, "ratio");
            if (r.data().length != 1) {
                throw n.fail("ratio has " + r.data().length + " elements, expected 1");
            }
            ratio = r.data()[0];
        }
        if (n.inputCount() > 2 && n.bool(2, "training_mode")) {
            throw n.fail("training_mode is true; Backprop reads Dropout in inference mode only");
        }
        if (!(ratio >= 0f && ratio < 1f)) {
            throw n.fail("ratio " + ratio + " is outside [0, 1)");
        }
        // A float ratio is rarely a whole number of millionths (0.3f is 0.300000011920929): the spec rounds it.
        LayerSpec spec = Dropout.spec(ratio);
        if (spec.arg("p_ppm") >= 1_000_000) {
            throw n.fail("ratio " + ratio + " rounds to 1 in millionths, which Backprop keeps it in: outside [0, 1)");
        }
        c.add(n, spec, Map.of(), Map.of(), c.sample());
    }

    /** Requires the window to fit the input: PyTorch refuses a window larger than the padded image. */
    private static int[] fitted(NodeView n, GraphImporter c, Window w, int channels) throws ModelFileException {
        int[] out = w.out(channels, c.sample());
        if (out[1] == 0 || out[2] == 0) {
            throw n.fail("kernel_shape " + Arrays.toString(w.kernel) + " with dilations " + Arrays.toString(w.dilation)
                    + " does not fit per-example input " + OperatorTable.shapeText(c.sample()) + " padded by "
                    + Arrays.toString(w.pad) + " on each side: it leaves no output");
        }
        return out;
    }
}
