package dev.backprop.nn;

import dev.backprop.autograd.Variable;

import java.util.Map;

/**
 * A building block of a network: a differentiable function of its input with named parameters. Layers are
 * written with {@link dev.backprop.autograd.Ops}, so they run on whatever backend holds their parameters.
 * A layer owns its parameters: {@link #close()} frees them.
 */
public interface Layer extends AutoCloseable {
    /** Applies the layer (recorded for backpropagation when a {@link dev.backprop.autograd.Tape} is open). */
    Variable forward(Variable input);

    /**
     * The parameters under their PyTorch {@code state_dict} names, in that order ({@code weight}, {@code bias};
     * {@code 0.weight}, {@code 0.bias}, {@code 2.weight} ... for a {@link Sequential}). The variables are live:
     * optimizers update them in place.
     */
    Map<String, Variable> parameters();

    /** The architecture of this layer, without weights. */
    LayerSpec spec();

    /** Zeroes the gradient of every parameter. */
    default void zeroGrad() {
        parameters().values().forEach(Variable::zeroGrad);
    }

    /** Number of trainable scalars. */
    default long parameterCount() {
        return parameters().values().stream().mapToLong(v -> v.shape().size()).sum();
    }

    /** Frees the parameters and their gradients. */
    @Override
    default void close() {
        parameters().values().forEach(Variable::close);
    }
}
