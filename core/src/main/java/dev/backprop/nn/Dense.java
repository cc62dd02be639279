package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fully connected layer like PyTorch's {@code nn.Linear}: {@code Z = X·Wᵀ + b} for X {@code [N, in]}, with
 * W stored {@code [out, in]} and b {@code [out]}. The product is one GEMM with the transpose flag (no copy of
 * W), the bias a row-broadcast add.
 */
public final class Dense implements Layer {
    private final int in;
    private final int out;
    private final Variable weight;
    private final Variable bias;

    /**
     * A layer whose parameters come from {@code factory} (weight {@code [out, in]}, then bias {@code [out]}).
     *
     * @param bias whether the layer has a bias
     * @throws IllegalArgumentException when a size is not positive or the weight would hold more elements than a
     *                                  Java array (checked before the factory is called)
     */
    public Dense(int in, int out, boolean bias, ParameterFactory factory) {
        check(in, out);
        this.in = in;
        this.out = out;
        WeightAndBias p = WeightAndBias.create(factory, "dense", new int[] {out, in}, bias, in, out);
        this.weight = p.weight();
        this.bias = p.bias();
    }

    /**
     * Checks a dense layer's sizes without building it.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    static void check(long in, int out) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("dense: in and out must be positive, got in=" + in + ", out=" + out);
        }
        // in · out itself may overflow a long for the widths a Cnn of huge images asks about
        if (in > (Integer.MAX_VALUE - 8) / out) {
            throw new IllegalArgumentException("dense(" + in + "->" + out + "): a weight of more than 2^31 elements");
        }
    }

    /**
     * A layer around given tensors, taking ownership of them: {@code weight} {@code [out, in]}, {@code bias}
     * {@code [out]} or null.
     *
     * @throws ShapeMismatchException when the shapes do not fit together
     */
    public static Dense of(Tensor weight, Tensor bias) {
        if (weight.shape().rank() != 2) {
            throw new ShapeMismatchException("dense: weight must be [out, in], got " + weight.shape());
        }
        int o = weight.shape().dim(0), i = weight.shape().dim(1);
        return new Dense(i, o, bias != null, (name, shape, role, fanIn, fanOut) ->
                role == ParameterRole.WEIGHT ? weight : bias);
    }

    /** Inputs per sample. */
    public int inFeatures() {
        return in;
    }

    /** Outputs per sample. */
    public int outFeatures() {
        return out;
    }

    /** The weight {@code [out, in]}. */
    public Variable weight() {
        return weight;
    }

    /** The bias {@code [out]}, or null. */
    public Variable bias() {
        return bias;
    }

    @Override
    public Variable forward(Variable input) {
        return Ops.linear(input, weight, bias);
    }

    /**
     * This layer followed by the activation {@code act} as one fused op (see
     * {@link Ops#linear(Variable, Variable, Variable, UnaryOp)}); the layer has a bias.
     */
    Variable forward(Variable input, UnaryOp act) {
        return Ops.linear(input, weight, bias, act);
    }

    @Override
    public Map<String, Variable> parameters() {
        return WeightAndBias.parameters(weight, bias);
    }

    @Override
    public LayerSpec spec() {
        return spec(in, out, bias != null);
    }

    /** The spec of a dense layer {@code in → out}, without building it. */
    public static LayerSpec spec(int in, int out, boolean bias) {
        Map<String, Integer> args = new LinkedHashMap<>();
        args.put("in", in);
        args.put("out", out);
        args.put("bias", bias ? 1 : 0);
        return LayerSpec.of("dense", args);
    }

    @Override
    public String toString() {
        return "Dense(" + in + " -> " + out + (bias == null ? ", no bias" : "") + ")";
    }
}
