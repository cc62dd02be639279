package dev.backprop.nn;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parameters of a layer with a weight and an optional bias {@code [out]} ({@link Dense}, {@link Conv2d}):
 * drawn from a {@link ParameterFactory} in {@code state_dict} order, each checked against the shape the layer
 * expects, and nothing left open when either fails.
 *
 * @param weight the weight, its first dimension {@code out}
 * @param bias   the bias {@code [out]}, or null
 */
record WeightAndBias(Variable weight, Variable bias) {
    /**
     * Makes the weight of shape {@code weightShape}, then, when {@code withBias}, the bias {@code [weightShape[0]]}.
     *
     * @param layer  how a bad shape's message names the layer
     * @param fanIn  inputs per unit, passed to the factory
     * @param fanOut outputs per input, passed to the factory
     * @throws ShapeMismatchException when the factory returns a tensor of another shape (closing it and the weight)
     */
    static WeightAndBias create(ParameterFactory factory, String layer, int[] weightShape, boolean withBias, int fanIn,
            int fanOut) {
        Variable weight = Variable.parameter(checked(layer, factory.create("weight", weightShape.clone(),
                ParameterRole.WEIGHT, fanIn, fanOut), "weight", weightShape));
        if (!withBias) {
            return new WeightAndBias(weight, null);
        }
        int[] biasShape = {weightShape[0]};
        try {
            return new WeightAndBias(weight, Variable.parameter(checked(layer, factory.create("bias",
                    biasShape.clone(), ParameterRole.BIAS, fanIn, fanOut), "bias", biasShape)));
        } catch (RuntimeException e) {
            weight.close();
            throw e;
        }
    }

    private static Tensor checked(String layer, Tensor t, String name, int[] dims) {
        if (!Arrays.equals(t.shape().dims(), dims)) {
            t.close();
            throw new ShapeMismatchException(layer + ": " + name + " is " + t.shape() + ", expected "
                    + Arrays.toString(dims));
        }
        return t;
    }

    /** {@return {@code weight}, then {@code bias} unless it is null, under their {@code state_dict} names} */
    static Map<String, Variable> parameters(Variable weight, Variable bias) {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) {
            m.put("bias", bias);
        }
        return m;
    }
}
