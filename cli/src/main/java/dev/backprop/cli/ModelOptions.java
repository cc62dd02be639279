package dev.backprop.cli;

import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import picocli.CommandLine.Option;

/**
 * The network {@code train} builds, on one machine or on Spark: a multilayer perceptron of dense layers with one
 * hidden activation ({@link Mlp}), named like PyTorch's {@code nn.Sequential(Linear, act, Linear, act, ..., Linear)}
 * so the model file loads into it.
 */
final class ModelOptions {
    @Option(names = "--layers", paramLabel = "SIZES",
            description = "Layer sizes from input to output, e.g. 784-256-128-10 (or 784,256,128,10). The ends must "
                    + "match the data; default: input-256-128-outputs.")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "relu",
            description = "Hidden activation: " + Mlp.HIDDEN_ACTIVATIONS + " (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--initializer", paramLabel = "NAME", defaultValue = "pytorch",
            description = "Initial weights: pytorch (nn.Linear's default), xavier, xavier-normal, he, he-normal "
                    + "(default: ${DEFAULT-VALUE}). Ignored with --init and --resume.")
    String initializer;

    /** Hidden sizes used when {@code --layers} is absent. */
    static final int[] DEFAULT_HIDDEN = {256, 128};

    /**
     * The network for data with {@code inputs} features and {@code outputs} network outputs, weights drawn from
     * {@code seed}.
     *
     * @throws IllegalArgumentException when an option is malformed or {@code --layers} does not match the data
     */
    Mlp mlp(int inputs, int outputs, long seed) {
        return new Mlp(sizes(inputs, outputs), activationKind(), init(), seed);
    }

    /**
     * The layer sizes for data with {@code inputs} features and {@code outputs} network outputs.
     *
     * @throws IllegalArgumentException when {@code --layers} is malformed or its ends do not match the data
     */
    int[] sizes(int inputs, int outputs) {
        if (layers == null) {
            int[] s = new int[DEFAULT_HIDDEN.length + 2];
            s[0] = inputs;
            System.arraycopy(DEFAULT_HIDDEN, 0, s, 1, DEFAULT_HIDDEN.length);
            s[s.length - 1] = outputs;
            return s;
        }
        int[] s = layerSizes();
        if (s[0] != inputs || s[s.length - 1] != outputs) {
            throw new IllegalArgumentException("--layers " + layers + ": the data has " + inputs + " features and the "
                    + "task needs " + outputs + " output(s), so the layers must run " + inputs + "-...-" + outputs);
        }
        return s;
    }

    /** The sizes {@code --layers} gives (it must be set). */
    int[] layerSizes() {
        try {
            return Mlp.parseSizes(layers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--layers: " + e.getMessage(), e);
        }
    }

    /** The hidden activation. */
    Activation.Kind activationKind() {
        try {
            return Mlp.parseActivation(activation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--activation: " + e.getMessage(), e);
        }
    }

    /** The initializer for fresh weights. */
    Init init() {
        try {
            return Init.parse(initializer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--initializer: " + e.getMessage(), e);
        }
    }

    /** Checks every option that can be checked without the data. */
    void check() {
        if (layers != null) {
            layerSizes();
        }
        activationKind();
        init();
    }
}
