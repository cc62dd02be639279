package dev.backprop.nn;

import dev.backprop.backend.Backend;

import java.io.Serializable;

/**
 * A network by value, built the same way on any backend from its description and seed: what {@code backprop train}
 * builds from its options and each Spark rank builds from the same description. Immutable and serializable.
 */
public sealed interface Architecture extends Serializable permits Mlp, Cnn {
    /** The network's layers, without weights (what {@link #build} builds). */
    LayerSpec spec();

    /** The network on {@code backend} with FLOAT32 parameters drawn from the architecture's seed. */
    Sequential build(Backend backend);

    /** The dimensions of one input example, e.g. {@code [784]} or {@code [1, 28, 28]}. */
    int[] inputShape();

    /** Network outputs per example. */
    int outputs();

    /** The network in words, e.g. {@code 784-256-128-10 relu} (see {@link Layers#describe}). */
    String describe();
}
