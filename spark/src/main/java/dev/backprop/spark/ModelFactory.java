package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Builds the network on a rank's backend. It travels to the executors, so it must be serializable (a lambda
 * assigned to this interface is). Every rank calls it; rank 0's weights are then sent to the others, so the
 * factory need not be deterministic, but the architecture must be the same everywhere. Parameters must be
 * FLOAT32 (the all-reduce works on float32).
 */
@FunctionalInterface
public interface ModelFactory extends Serializable {
    /** A new model whose parameters live on {@code backend}. */
    Layer create(Backend backend);

    /**
     * A multilayer perceptron {@code sizes[0] → sizes[1] → … → sizes[n-1]} with {@code activation} between the
     * dense layers (none after the last), initial weights drawn from {@code seed} with {@code init}: the same
     * network {@code backprop train --layers} builds.
     *
     * @throws IllegalArgumentException for fewer than two sizes or a size below 1
     */
    static ModelFactory mlp(int[] sizes, Activation.Kind activation, Init init, long seed) {
        if (sizes.length < 2 || Arrays.stream(sizes).anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("an MLP needs at least an input and an output size, all >= 1, got "
                    + Arrays.toString(sizes));
        }
        int[] s = sizes.clone();
        return backend -> {
            Sequential.Builder b = Sequential.builder(backend, DType.FLOAT32).seed(seed).init(init);
            for (int i = 0; i + 1 < s.length; i++) {
                b.dense(s[i], s[i + 1]);
                if (i + 2 < s.length) {
                    b.add(new Activation(activation));
                }
            }
            return b.build();
        };
    }
}
