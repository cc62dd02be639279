package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.tensor.ShapeMismatchException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Layer normalization like PyTorch's {@code nn.LayerNorm(features, eps, elementwise_affine)} with a one-dimensional
 * {@code normalized_shape}: each example's last dimension is normalized by its own mean and biased variance,
 * {@code y = (x - mean) / sqrt(var + eps)}, then scaled by {@code weight} (γ, ones) and shifted by {@code bias}
 * (β, zeros) when affine. An {@code [N, F]} input normalizes each row, {@code [N, L, F]} or {@code [N, C, H, F]}
 * each innermost vector of {@code F}. Unlike a batch norm it keeps no statistics and behaves the same in training
 * and evaluation.
 *
 * <p>The layer is built from the tape's differentiable ops (per-row means, column and row broadcasting, a square
 * root), so it runs on every backend and its gradients come from theirs.
 */
public final class LayerNorm implements Layer {
    /** PyTorch's default {@code eps}. */
    public static final double EPS = 1e-5;

    private final int features;
    private final double eps;
    private final boolean affine;
    private final Variable weight;
    private final Variable bias;

    /**
     * A layer norm over the last dimension, of size {@code features}. When {@code affine}, γ and β come from
     * {@code factory} (roles {@link ParameterRole#SCALE} and {@link ParameterRole#SHIFT}).
     *
     * @throws IllegalArgumentException naming the value for {@code features <= 0} or an {@code eps} that is not
     *                                  positive and finite or has more significant digits than a model file records
     *                                  (see {@link #check}); nothing is allocated then
     * @throws ShapeMismatchException   naming the layer and both shapes when {@code factory} gives a weight or bias
     *                                  that is not {@code [features]}; what it gave is freed
     */
    public LayerNorm(int features, double eps, boolean affine, ParameterFactory factory) {
        check(features, eps);
        this.features = features;
        this.eps = eps;
        this.affine = affine;
        if (!affine) {
            this.weight = null;
            this.bias = null;
            return;
        }
        Variable wv = Variable.parameter(NormParameters.create(factory, "weight", ParameterRole.SCALE, features, this));
        try {
            this.bias = Variable.parameter(NormParameters.create(factory, "bias", ParameterRole.SHIFT, features, this));
        } catch (RuntimeException e) {
            wv.close();
            throw e;
        }
        this.weight = wv;
    }

    /**
     * Checks a layer norm's settings.
     *
     * @param features the size of the normalized last dimension
     * @param eps      the value added to the variance
     * @throws IllegalArgumentException naming the value for {@code features <= 0}, an {@code eps} that is not
     *                                  positive and finite, or one whose shortest decimal form has a significand over
     *                                  {@link Integer#MAX_VALUE} (the model file records {@code eps} as
     *                                  {@code eps_mantissa · 10^eps_exponent})
     */
    public static void check(int features, double eps) {
        if (features <= 0) {
            throw new IllegalArgumentException("LayerNorm: features (normalized shape) must be positive, got "
                    + features);
        }
        if (!(eps > 0 && eps < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("LayerNorm: eps must be positive and finite, got " + eps);
        }
        if (decimal(eps).unscaledValue().bitLength() > 31) {
            throw new IllegalArgumentException("LayerNorm: eps " + eps + " has more significant digits than a model "
                    + "file records (a significand up to " + Integer.MAX_VALUE + ")");
        }
    }

    /** {@code eps} in its shortest decimal form, without trailing zeros. */
    private static BigDecimal decimal(double eps) {
        return new BigDecimal(Double.toString(eps)).stripTrailingZeros();
    }

    /**
     * The {@code eps} a (valid) {@code layernorm} spec records: {@code eps_mantissa · 10^eps_exponent}.
     *
     * @param spec a {@code layernorm} spec
     * @return the double nearest that decimal
     */
    public static double eps(LayerSpec spec) {
        return new BigDecimal(BigInteger.valueOf(spec.arg("eps_mantissa")), -spec.arg("eps_exponent")).doubleValue();
    }

    /**
     * The spec of {@code nn.LayerNorm(features, eps, elementwise_affine=affine)}: {@code features}, {@code eps} as
     * {@code eps_mantissa · 10^eps_exponent} in its shortest decimal form (1e-5 is 1 and -5), {@code affine} 0 or 1.
     *
     * @throws IllegalArgumentException as {@link #check} does
     */
    public static LayerSpec spec(int features, double eps, boolean affine) {
        check(features, eps);
        BigDecimal d = decimal(eps);
        Map<String, Integer> args = new LinkedHashMap<>();
        args.put("features", features);
        args.put("eps_mantissa", d.unscaledValue().intValueExact());
        args.put("eps_exponent", -d.scale());
        args.put("affine", affine ? 1 : 0);
        return LayerSpec.of("layernorm", args);
    }

    /** The size of the normalized last dimension. */
    public int features() {
        return features;
    }

    /** The value added to the variance. */
    public double eps() {
        return eps;
    }

    /** Whether the layer scales and shifts by its {@code weight} and {@code bias}. */
    public boolean affine() {
        return affine;
    }

    /**
     * @throws ShapeMismatchException naming the layer and the shape when the input has no batch dimension or its
     *                                last dimension is not {@code features}
     */
    @Override
    public Variable forward(Variable input) {
        int[] dims = input.shape().dims();
        if (dims.length < 2 || dims[dims.length - 1] != features) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " is not [N, ..., " + features
                    + "] (its last dimension is the one normalized)");
        }
        int rows = Math.toIntExact(input.shape().size() / features);
        Variable x = Ops.reshape(input, rows, features);
        // An empty batch has no rows to average: it stays empty, as in PyTorch.
        Variable y = rows == 0 ? x : normalize(x, rows);
        if (affine) {
            y = Ops.add(Ops.mul(y, weight), bias);
        }
        return Ops.reshape(y, dims);
    }

    /** {@code (x - mean) / sqrt(var + eps)} of each row of {@code x}, {@code [rows, features]} with rows > 0. */
    private Variable normalize(Variable x, int rows) {
        Variable centered = Ops.sub(x, Ops.reshape(Ops.mean(x, ReduceAxis.PER_ROW), rows, 1));
        Variable var = Ops.reshape(Ops.mean(Ops.mul(centered, centered), ReduceAxis.PER_ROW), rows, 1);
        return Ops.div(centered, Ops.sqrt(Ops.add(var, Ops.scalar(x, eps))));
    }

    @Override
    public Map<String, Variable> parameters() {
        if (!affine) {
            return Map.of();
        }
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }

    @Override
    public LayerSpec spec() {
        return spec(features, eps, affine());
    }

    @Override
    public String toString() {
        return "LayerNorm(" + features + ", eps=" + eps + (affine() ? "" : ", elementwise_affine=False") + ")";
    }
}
