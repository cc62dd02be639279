package dev.backprop.nn;

import dev.backprop.tensor.Tensor;

/**
 * Supplies the value of each parameter as a layer is built: freshly initialized ({@link Init#factory}) or read
 * from a model file. Layers call it in {@code state_dict} order, weight before bias.
 */
@FunctionalInterface
public interface ParameterFactory {
    /**
     * @param name   the parameter's name within its layer ({@code weight}, {@code bias})
     * @param shape  its dimensions ({@code [out, in]} for a dense weight, {@code [out]} for a bias)
     * @param role   weight or bias
     * @param fanIn  inputs per unit (for initializers)
     * @param fanOut outputs per input (for initializers)
     * @return a new tensor of exactly that shape; the layer takes ownership
     */
    Tensor create(String name, int[] shape, ParameterRole role, int fanIn, int fanOut);
}
