package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Mlp;

import java.io.Serializable;

/**
 * Builds the network on a rank's backend. It travels to the executors, so it must be serializable (a lambda
 * assigned to this interface is). Every rank calls it; rank 0's weights are then sent to the others, so the
 * factory need not be deterministic, but the architecture must be the same everywhere. Parameters must be
 * FLOAT32 (the all-reduce works on float32). A layer used in several places (weight tying) is one parameter to the
 * all-reduce, as its {@code parameters()} list it once, and the model file it comes back as records the tie
 * ({@link dev.backprop.io.ModelFile#ties}).
 */
@FunctionalInterface
public interface ModelFactory extends Serializable {
    /** A new model whose parameters live on {@code backend}. */
    Layer create(Backend backend);

    /** The multilayer perceptron {@code mlp} describes: the network {@code backprop train --layers} builds. */
    static ModelFactory mlp(Mlp mlp) {
        return of(mlp);
    }

    /**
     * The network {@code architecture} describes ({@code backprop train --arch}); give the spec its
     * {@link Architecture#inputShape()} too ({@link TrainingSpec.Builder#inputShape}).
     */
    static ModelFactory of(Architecture architecture) {
        return architecture::build;
    }
}
