package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Sequential;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Locale;

/**
 * The network {@code train} builds: a multilayer perceptron of dense layers with one hidden activation, named like
 * PyTorch's {@code nn.Sequential(Linear, act, Linear, act, ..., Linear)} so the model file loads into it.
 */
final class ModelOptions {
    @Option(names = "--layers", paramLabel = "SIZES",
            description = "Layer sizes from input to output, e.g. 784-256-128-10 (or 784,256,128,10). The ends must "
                    + "match the data; default: input-256-128-outputs.")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "relu",
            description = "Hidden activation: relu, sigmoid or tanh (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--initializer", paramLabel = "NAME", defaultValue = "pytorch",
            description = "Initial weights: pytorch (nn.Linear's default), xavier, xavier-normal, he, he-normal "
                    + "(default: ${DEFAULT-VALUE}). Ignored with --init and --resume.")
    String initializer;

    /** Hidden sizes used when {@code --layers} is absent. */
    static final int[] DEFAULT_HIDDEN = {256, 128};

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
        int[] s = parseSizes(layers);
        if (s[0] != inputs || s[s.length - 1] != outputs) {
            throw new IllegalArgumentException("--layers " + layers + ": the data has " + inputs + " features and the "
                    + "task needs " + outputs + " output(s), so the layers must run " + inputs + "-...-" + outputs);
        }
        return s;
    }

    /** Parses {@code 784-256-128-10} or {@code 784,256,128,10}. */
    static int[] parseSizes(String text) {
        String[] parts = text.trim().split("[-,x ]+");
        if (parts.length < 2) {
            throw new IllegalArgumentException("--layers " + text + ": give at least an input and an output size, "
                    + "e.g. 784-256-128-10");
        }
        int[] s = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                s[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--layers " + text + ": '" + parts[i] + "' is not a size");
            }
            if (s[i] < 1) {
                throw new IllegalArgumentException("--layers " + text + ": sizes must be positive, got " + s[i]);
            }
        }
        return s;
    }

    /** The hidden activation. */
    Activation.Kind activationKind() {
        String a = activation.trim().toLowerCase(Locale.ROOT);
        return switch (a) {
            case "relu" -> Activation.Kind.RELU;
            case "sigmoid" -> Activation.Kind.SIGMOID;
            case "tanh" -> Activation.Kind.TANH;
            default -> throw new IllegalArgumentException("--activation " + activation + ": choose relu, sigmoid "
                    + "or tanh");
        };
    }

    /** The initializer for fresh weights. */
    Init init() {
        return switch (initializer.trim().toLowerCase(Locale.ROOT)) {
            case "pytorch" -> Init.PYTORCH_DEFAULT;
            case "xavier" -> Init.XAVIER_UNIFORM;
            case "xavier-normal" -> Init.XAVIER_NORMAL;
            case "he" -> Init.HE_UNIFORM;
            case "he-normal" -> Init.HE_NORMAL;
            default -> throw new IllegalArgumentException("--initializer " + initializer + ": choose pytorch, xavier, "
                    + "xavier-normal, he or he-normal");
        };
    }

    /** A fresh network of the given sizes on {@code backend}, weights drawn from {@code seed}. */
    Sequential build(Backend backend, int[] sizes, long seed) {
        Activation.Kind act = activationKind();
        Sequential.Builder b = Sequential.builder(backend, DType.FLOAT32).seed(seed).init(init());
        for (int i = 0; i + 1 < sizes.length; i++) {
            b.dense(sizes[i], sizes[i + 1]);
            if (i + 2 < sizes.length) {
                b.add(new Activation(act));
            }
        }
        return b.build();
    }

    /** {@code 784-256-128-10 relu}. */
    static String describe(int[] sizes, Activation.Kind act) {
        return String.join("-", Arrays.stream(sizes).mapToObj(Integer::toString).toArray(String[]::new)) + " "
                + act.typeName();
    }
}
