package dev.backprop.nn;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.random.TorchGenerator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A multilayer perceptron by value: dense layer sizes from input to output, one activation between them (none after
 * the last layer), an optional dropout probability, and the initializer and seed of the fresh weights. {@link #build}
 * makes the network PyTorch's {@code nn.Sequential(Linear, act, Linear, act, ..., Linear)} is, or with dropout
 * {@code nn.Sequential(Linear, act, Dropout(p), Linear, act, Dropout(p), ..., Linear)} (dropout after each hidden
 * activation, none after the last layer), with its {@code state_dict} names ({@code 0, 2, 4, ...} without dropout,
 * {@code 0, 3, 6, ...} with it), so a model file loads into either. Immutable and serializable: {@code backprop train}
 * and each Spark rank build the same network from it.
 *
 * @param sizes      the dense sizes from input to output (at least two, all positive)
 * @param activation the hidden activation ({@link #HIDDEN_ACTIVATIONS})
 * @param dropout    the probability a hidden activation is zeroed in training, in {@code [0, 1)} and a whole number
 *                   of millionths (the model file records it so); 0 for no dropout layers
 * @param init       the initializer of fresh weights
 * @param seed       the seed the weights are drawn from, and the dropout layers' mask streams
 *                   ({@link Dropout#streamSeed})
 */
public record Mlp(int[] sizes, Activation.Kind activation, double dropout, Init init, long seed)
        implements Architecture {
    /** The activations offered between the layers, by name. */
    public static final String HIDDEN_ACTIVATIONS = "relu, sigmoid or tanh";

    /**
     * Copies and checks the sizes.
     *
     * @throws IllegalArgumentException for fewer than two sizes, a size below 1, an activation that is not a hidden
     *                                  one, or a dropout probability outside {@code [0, 1)} or not in millionths
     */
    public Mlp {
        dropout = Dropout.checkRecordedProbability(dropout);
        if (sizes.length < 2 || Arrays.stream(sizes).anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("an MLP needs at least an input and an output size, all >= 1, got "
                    + Arrays.toString(sizes));
        }
        sizes = sizes.clone();
        java.util.Objects.requireNonNull(init, "init");
        if (activation != Activation.Kind.RELU && activation != Activation.Kind.SIGMOID
                && activation != Activation.Kind.TANH) {
            throw new IllegalArgumentException("hidden activation " + activation + ": choose " + HIDDEN_ACTIVATIONS);
        }
    }

    /**
     * The network without dropout.
     *
     * @throws IllegalArgumentException as the canonical constructor does
     */
    public Mlp(int[] sizes, Activation.Kind activation, Init init, long seed) {
        this(sizes, activation, 0, init, seed);
    }

    /** The sizes from input to output (a copy). */
    @Override
    public int[] sizes() {
        return sizes.clone();
    }

    /** {@code Linear, act, [Dropout,] Linear, act, [Dropout,] ..., Linear}, without weights. */
    @Override
    public LayerSpec spec() {
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i + 1 < sizes.length; i++) {
            layers.add(Dense.spec(sizes[i], sizes[i + 1], true));
            if (i + 2 < sizes.length) {
                layers.add(LayerSpec.of(activation.typeName(), Map.of()));
                if (dropout > 0) {
                    layers.add(Dropout.spec(dropout));
                }
            }
        }
        return new LayerSpec("sequential", Map.of(), layers);
    }

    /**
     * The network on {@code backend} with FLOAT32 parameters drawn from the seed, layer after layer, and dropout
     * streams keyed by the seed and each layer's position.
     */
    @Override
    public Sequential build(Backend backend) {
        return (Sequential) Layers.create(spec(), init.factory(backend, DType.FLOAT32, new TorchGenerator(seed)), seed);
    }

    /** {@code [sizes[0]]}: flat feature vectors. */
    @Override
    public int[] inputShape() {
        return new int[] {sizes[0]};
    }

    @Override
    public int outputs() {
        return sizes[sizes.length - 1];
    }

    /**
     * {@code 784-256-128-10 relu}; with dropout, layer by layer as {@link Layers#describe} words it
     * ({@code dense(784->256) relu dropout(0.2) ...}).
     */
    @Override
    public String describe() {
        if (dropout > 0) {
            return Layers.describe(spec());
        }
        return Arrays.stream(sizes).mapToObj(Integer::toString).collect(Collectors.joining("-")) + " "
                + activation.typeName();
    }

    /**
     * Parses layer sizes written {@code 784-256-128-10} or {@code 784,256,128,10}.
     *
     * @throws IllegalArgumentException naming the part that is not a positive size
     */
    public static int[] parseSizes(String text) {
        String[] parts = text.trim().split("[-,x ]+");
        if (parts.length < 2) {
            throw new IllegalArgumentException("layer sizes " + text + ": give at least an input and an output size, "
                    + "e.g. 784-256-128-10");
        }
        int[] s = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                s[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("layer sizes " + text + ": '" + parts[i] + "' is not a size");
            }
            if (s[i] < 1) {
                throw new IllegalArgumentException("layer sizes " + text + ": sizes must be positive, got " + s[i]);
            }
        }
        return s;
    }

    /**
     * The hidden activation called {@code name}.
     *
     * @throws IllegalArgumentException listing the names when none fits
     */
    public static Activation.Kind parseActivation(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "relu" -> Activation.Kind.RELU;
            case "sigmoid" -> Activation.Kind.SIGMOID;
            case "tanh" -> Activation.Kind.TANH;
            default -> throw new IllegalArgumentException("unknown activation '" + name + "': choose "
                    + HIDDEN_ACTIVATIONS);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mlp m && Arrays.equals(sizes, m.sizes) && activation == m.activation
                && Double.compare(dropout, m.dropout) == 0 && init == m.init && seed == m.seed;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * (31 * Arrays.hashCode(sizes) + activation.hashCode()) + Double.hashCode(dropout))
                + init.hashCode()) + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        return "Mlp[" + describe() + ", " + init.id() + " init, seed " + seed + "]";
    }
}
