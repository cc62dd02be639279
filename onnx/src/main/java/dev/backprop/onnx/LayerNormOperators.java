package dev.backprop.onnx;

import dev.backprop.io.ModelFileException;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.LayerSpec;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link OperatorTable} row of PyTorch's {@code nn.LayerNorm} over the last dimension: ONNX's
 * {@code LayerNormalization} (opset 17), {@code axis} -1 (or the last axis by number), {@code epsilon} as float32,
 * {@code stash_type} 1. An affine layer is written with its {@code weight} and {@code bias} as Scale and B; one
 * without them with a constant Scale of ones and no B, as ONNX requires a Scale. Read back, a node without Scale
 * (PyTorch 1.13 leaves it empty for {@code elementwise_affine=False}) or with a Scale of ones and no B is a layer
 * without affine parameters; any other is affine, its bias zeros when B is absent.
 */
final class LayerNormOperators {
    private LayerNormOperators() {
    }

    static void write(LayerSpec s, String prefix, GraphWriter g) {
        int f = s.arg("features");
        int[] sample = g.sample();
        if (sample.length < 1 || (sample[sample.length - 1] != -1 && sample[sample.length - 1] != f)) {
            throw new IllegalArgumentException("layer " + prefix.replaceAll("\\.$", "") + " (layernorm) takes "
                    + "per-example shape [..., " + f + "], its input has " + OperatorTable.shapeText(sample));
        }
        float eps = (float) LayerNorm.eps(s);
        if (eps == 0 || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("layer " + prefix.replaceAll("\\.$", "") + " (layernorm): eps "
                    + LayerNorm.eps(s) + " has no float32 value, which ONNX's epsilon attribute is");
        }
        List<String> inputs;
        if (s.arg("affine") == 1) {
            inputs = List.of(g.weight(prefix + "weight", f), g.weight(prefix + "bias", f));
        } else {
            float[] ones = new float[f];
            Arrays.fill(ones, 1f);
            inputs = List.of(g.constant(prefix + "layernorm_scale", new HostTensor(new int[] {f}, ones)));
        }
        g.node("LayerNormalization", prefix, sample, inputs, GraphWriter.attr("axis", -1),
                GraphWriter.attr("epsilon", eps));
    }

    static void read(NodeView n, GraphImporter c) throws ModelFileException {
        n.onlyAttributes("axis", "epsilon", "stash_type");
        if (n.opset() < 17) {
            throw n.fail("LayerNormalization is an opset 17 operator; the model imports opset " + n.opset());
        }
        n.arity(1, 3);
        c.requireChain(n, 0);
        if (n.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
            throw n.fail("its Mean and InvStdDev outputs are not supported (Backprop's layer gives only Y)");
        }
        n.require("stash_type", 1L, n.integer("stash_type", 1));
        int[] s = c.sample();
        long axis = n.integer("axis", -1);
        if (axis != -1 && axis != s.length) {
            throw n.fail("attribute 'axis' = " + axis + " is not supported (Backprop normalizes the last dimension: "
                    + "-1 or " + s.length + " here)");
        }
        if (s.length < 1 || s[s.length - 1] == -1) {
            throw n.fail("reads [..., features] per example with known features, the input is "
                    + OperatorTable.shapeText(s));
        }
        int f = s[s.length - 1];
        float eps = n.real("epsilon", 1e-5f);
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw n.fail("attribute 'epsilon' = " + eps + ", expected a positive finite value");
        }
        HostTensor scale = n.input(1).isEmpty() ? null : parameter(n, 1, "scale", f);
        HostTensor bias = n.input(2).isEmpty() ? null : parameter(n, 2, "B", f);
        if (scale == null && bias != null) {
            throw n.fail("has a B input without a Scale input");
        }
        boolean ones = scale != null && allOnes(scale.data());
        boolean affine = scale != null && (bias != null || !ones);
        Map<String, HostTensor> state = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        if (affine) {
            state.put("weight", scale);
            sources.put("weight", n.input(1));
            state.put("bias", bias != null ? bias : new HostTensor(new int[] {f}, new float[f]));
            if (bias != null) {
                sources.put("bias", n.input(2));
            }
        }
        // The float's shortest decimal: 1e-5f is read as 1e-5, the eps PyTorch's model was given.
        c.add(n, LayerNorm.spec(f, Double.parseDouble(Float.toString(eps)), affine), state, sources, s);
    }

    private static HostTensor parameter(NodeView n, int i, String role, int features) throws ModelFileException {
        HostTensor t = n.floats(i, role);
        if (!t.hasDims(features)) {
            throw n.fail(role + " " + OnnxReader.quote(n.input(i)) + " is " + Arrays.toString(t.dims())
                    + ", expected [" + features + "]");
        }
        return t;
    }

    private static boolean allOnes(float[] v) {
        for (float x : v) {
            if (x != 1f) {
                return false;
            }
        }
        return true;
    }
}
