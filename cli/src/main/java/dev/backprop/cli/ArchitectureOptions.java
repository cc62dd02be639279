package dev.backprop.cli;

import dev.backprop.model.InputShape;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which network: a multilayer perceptron of dense layers with one hidden activation ({@link Mlp}, the default:
 * PyTorch's {@code nn.Sequential(Linear, act, ..., Linear)}), or the convolutional network of PyTorch's reference
 * {@code cnn_fashion.py} ({@link Cnn}). {@code train} builds it; {@code eval} and {@code predict} rebuild it for a
 * file that does not record its architecture (a plain PyTorch {@code state_dict}).
 */
class ArchitectureOptions {
    /** The architectures by name. */
    static final String NAMES = "mlp or cnn";

    @Option(names = "--arch", paramLabel = "NAME",
            description = "mlp (dense layers: --layers, --activation) or cnn (Conv2d(1,32,3,p1) ReLU MaxPool2d(2) "
                    + "Conv2d(32,64,3,p1) ReLU MaxPool2d(2) Flatten Linear(3136,128) ReLU Linear(128,outputs), on "
                    + "images [B,1,28,28]) (default: mlp).")
    String arch;

    @Option(names = "--layers", paramLabel = "SIZES",
            description = "--arch mlp: layer sizes from input to output, e.g. 784-256-128-10 (or 784,256,128,10). "
                    + "The ends must match the data; default: input-256-128-outputs.")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME",
            description = "--arch mlp: hidden activation: " + Mlp.HIDDEN_ACTIVATIONS + " (default: relu).")
    String activation;

    @Option(names = "--dropout", paramLabel = "P",
            description = "nn.Dropout(P) after each hidden activation of --arch mlp, or before the last layer of "
                    + "--arch cnn, zeroing each value with probability P in training (0 <= P < 1, a whole number of "
                    + "millionths; default: 0, no dropout layers). Its layers shift the state_dict names (mlp 0, 3, "
                    + "6, ...; cnn 10.*); a model file records it, so eval and predict need it only for a plain "
                    + "PyTorch state_dict saved with dropout, where any P names the layers (evaluation does not "
                    + "drop).")
    String dropout;

    /** Hidden sizes used when {@code --layers} is absent. */
    static final int[] DEFAULT_HIDDEN = {256, 128};

    /** Whether {@code --arch cnn} was asked for. */
    boolean cnn() {
        String a = arch == null ? "mlp" : arch.trim().toLowerCase(Locale.ROOT);
        return switch (a) {
            case "mlp" -> false;
            case "cnn" -> true;
            default -> throw new IllegalArgumentException("--arch: unknown architecture '" + arch + "': choose "
                    + NAMES);
        };
    }

    /** Whether any option here was given: the network is named on the command line. */
    boolean given() {
        return arch != null || layers != null || activation != null || dropout != null;
    }

    /**
     * Checks every option that can be checked without the data.
     *
     * @throws IllegalArgumentException naming the option: an unknown name, malformed sizes, or MLP options with
     *                                  {@code --arch cnn}
     */
    void check() {
        if (cnn()) {
            List<String> mlpOnly = new ArrayList<>();
            if (layers != null) {
                mlpOnly.add("--layers");
            }
            if (activation != null) {
                mlpOnly.add("--activation");
            }
            if (!mlpOnly.isEmpty()) {
                throw new IllegalArgumentException(String.join(" and ", mlpOnly) + (mlpOnly.size() > 1 ? " describe"
                        : " describes") + " an MLP; --arch cnn is a fixed network (leave "
                        + (mlpOnly.size() > 1 ? "them" : "it") + " out)");
            }
            dropoutProbability();
            return;
        }
        if (layers != null) {
            layerSizes();
        }
        activationKind();
        dropoutProbability();
    }

    /**
     * The network for data whose examples have dimensions {@code exampleShape}, with {@code outputs} outputs and
     * fresh weights from {@code init} and {@code seed}.
     *
     * @throws IllegalArgumentException when an option is malformed or the network does not fit the data
     */
    Architecture architecture(int[] exampleShape, int outputs, Init init, long seed) {
        int features = 1;
        for (int d : exampleShape) {
            features = Math.multiplyExact(features, d);
        }
        if (cnn()) {
            try {
                int[] image = InputShape.image(exampleShape);
                return new Cnn(image[0], image[1], image[2], outputs, dropoutProbability(), init, seed);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--arch cnn: " + e.getMessage(), e);
            }
        }
        return mlp(sizes(features, outputs), init, seed);
    }

    /**
     * The network a plain PyTorch {@code state_dict} holds, as these options name it: its input and output widths
     * (and for {@code cnn} its channels and image side) read from the file's tensor shapes where they are, else
     * Fashion-MNIST's. Loading the file into it then checks every name and shape.
     */
    Architecture forStateDict(Map<String, int[]> shapes) {
        int last = -1;
        for (String name : shapes.keySet()) {
            if (name.matches("\\d{1,9}\\.weight")) {
                last = Math.max(last, Integer.parseInt(name.substring(0, name.indexOf('.'))));
            }
        }
        int[] first = shapes.get("0.weight");
        int[] lastWeight = last < 0 ? null : shapes.get(last + ".weight");
        int outputs = lastWeight != null && lastWeight.length == 2 ? lastWeight[0] : 10;
        if (cnn()) {
            int channels = first != null && first.length == 4 ? first[1] : 1;
            int[] dense = shapes.get("7.weight");
            int side = 28;
            if (dense != null && dense.length == 2 && dense[1] % 64 == 0) {
                int s = (int) Math.round(Math.sqrt(dense[1] / 64.0));
                side = s * s * 64 == dense[1] ? 4 * s : side;
            }
            return new Cnn(channels, side, side, outputs, dropoutProbability(), Init.PYTORCH_DEFAULT, 0);
        }
        int inputs = first != null && first.length == 2 ? first[1] : 784;
        return mlp(sizes(inputs, outputs), Init.PYTORCH_DEFAULT, 0);
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

    /** The MLP of these options with {@code sizes}, its fresh weights from {@code init} and {@code seed}. */
    private Mlp mlp(int[] sizes, Init init, long seed) {
        return new Mlp(sizes, activationKind(), dropoutProbability(), init, seed);
    }

    /** The dropout probability (0 unless {@code --dropout} says otherwise). */
    double dropoutProbability() {
        if (dropout == null) {
            return 0;
        }
        double p;
        try {
            p = Double.parseDouble(dropout.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--dropout: '" + dropout + "' is not a probability, e.g. 0.2", e);
        }
        try {
            return Dropout.checkRecordedProbability(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--dropout " + dropout + ": " + e.getMessage(), e);
        }
    }

    /** The hidden activation (relu unless {@code --activation} says otherwise). */
    Activation.Kind activationKind() {
        try {
            return Mlp.parseActivation(activation == null ? "relu" : activation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--activation: " + e.getMessage(), e);
        }
    }
}
