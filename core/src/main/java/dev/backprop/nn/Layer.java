package dev.backprop.nn;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;

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
     * optimizers update them in place. A parameter used in several places (a layer given twice to a
     * {@link Sequential}) is listed once, under its first name, as PyTorch's {@code named_parameters()} lists it,
     * so an optimizer steps it once with the sum of its uses' gradients; its other names are
     * {@link #sharedParameters()}.
     */
    Map<String, Variable> parameters();

    /**
     * The {@code state_dict} names of parameters that are another name's parameter (weight tying), each to the name
     * {@link #parameters()} lists it under, in {@code state_dict} order; empty (the default) when no parameter is
     * used twice. PyTorch's {@code state_dict} holds the tensor under every name; these are the names its
     * {@code named_parameters()} leaves out. A layer that holds one variable in several places lists it once in
     * {@link #parameters()} and returns each other name here: a {@link Sequential} finds its own ties, so only a
     * hand-written container or a layer tying two of its own weights overrides this. A {@link Sequential} refuses,
     * when it is built, a layer whose map has a name its {@code parameters()} lists too or names one it does not
     * list. A layer that instead lists one variable under two names in {@code parameters()} is listed once by a
     * {@link Sequential} holding it, and refused as it is by an optimizer ({@link dev.backprop.optim.Optimizer}).
     * Model files record every tie ({@link dev.backprop.io.ModelFile#ties}).
     */
    default Map<String, String> sharedParameters() {
        return Map.of();
    }

    /** The architecture of this layer, without weights. */
    LayerSpec spec();

    /**
     * Non-trainable tensors saved with the model under their {@code state_dict} names, as PyTorch's buffers
     * ({@code running_mean}, {@code running_var} of a batch norm). Live: the layer updates them in place.
     */
    default Map<String, Tensor> buffers() {
        return Map.of();
    }

    /**
     * Whole-number state saved with the model as 64-bit integer scalars ({@code num_batches_tracked}), each a
     * one-element array the layer updates in place (loading a model writes into it).
     */
    default Map<String, long[]> counters() {
        return Map.of();
    }

    /**
     * State a checkpoint needs to resume exactly but a model file does not (a dropout layer's random stream), each a
     * one-element array the layer updates in place.
     */
    default Map<String, long[]> trainingState() {
        return Map.of();
    }

    /**
     * Switches between training mode (the default) and evaluation mode, as PyTorch's {@code train()}/{@code eval()}:
     * batch norm uses batch statistics and updates its running ones only in training, dropout is the identity in
     * evaluation. Containers pass the mode to their children.
     */
    default void train(boolean training) {
    }

    /** Whether the layer is in training mode (layers without a mode always say true). */
    default boolean isTraining() {
        return true;
    }

    /** Zeroes the gradient of every parameter. */
    default void zeroGrad() {
        parameters().values().forEach(Variable::zeroGrad);
    }

    /** Number of trainable scalars. */
    default long parameterCount() {
        return parameters().values().stream().mapToLong(v -> v.shape().size()).sum();
    }

    /** Frees the parameters, their gradients and the buffers. */
    @Override
    default void close() {
        parameters().values().forEach(Variable::close);
        buffers().values().forEach(Tensor::close);
    }
}
