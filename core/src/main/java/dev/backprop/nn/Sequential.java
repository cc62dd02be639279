package dev.backprop.nn;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.random.TorchGenerator;

import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * Layers applied in order, like PyTorch's {@code nn.Sequential}: parameters are named by the layer's index and
 * its own name ({@code 0.weight}, {@code 0.bias}, {@code 2.weight} ...; activations count as layers), so a
 * model file matches the {@code state_dict} of the equivalent PyTorch model. A layer given at several places
 * (weight tying) is one layer: its parameters are listed once, under their first names, the other names are
 * {@link #sharedParameters()}, and {@link #close()} closes it once; a model file holds the shared tensors once and
 * rebuilds the model tied ({@link dev.backprop.io.ModelFile#ties}).
 *
 * <pre>{@code
 * Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(42)
 *         .flatten().dense(784, 128).relu().dense(128, 10).build();
 * }</pre>
 */
public final class Sequential implements Layer {
    private final List<Layer> layers;
    /** {@link #sharedParameters()}, found once at build, so that {@link #parameters()} only skips names. */
    private final Map<String, String> shared;
    private boolean training = true;

    /**
     * A sequence of layers (taking ownership of them). A layer whose input width its spec states (a dense layer's
     * {@code in}, a 1-D batch norm's {@code features}) must take the width the layers before it give when theirs
     * state it ({@link Layers#outputFeatures}): a chain that cannot run is refused here, not at the first forward
     * pass. Ownership is taken whether or not the chain is accepted: on any refusal the layers given are closed,
     * so {@code Sequential.of(new Dense(...), null)} written inline leaks nothing.
     *
     * @throws IllegalArgumentException when a layer is null (naming its position), when a layer takes another
     *                                  width than the one before it gives (naming both layers and widths), or when
     *                                  a layer's {@link Layer#sharedParameters()} does not fit its
     *                                  {@link Layer#parameters()} (naming the layer and the name); the layers
     *                                  given are closed either way
     */
    public Sequential(List<? extends Layer> layers) {
        Objects.requireNonNull(layers, "layers");
        Map<String, String> shared;
        try {
            for (int i = 0; i < layers.size(); i++) {
                if (layers.get(i) == null) {
                    throw new IllegalArgumentException("Sequential: layer " + i + " of " + layers.size() + " is null");
                }
            }
            for (int i = 0; i < layers.size(); i++) {
                Layer layer = layers.get(i);
                checkTakes(layers.subList(0, i), Layers.inputFeatures(layer.spec()), layer);
            }
            shared = sharedOf(layers);
        } catch (IllegalArgumentException e) {
            closeEach(layers);
            throw e;
        }
        this.layers = List.copyOf(layers);
        this.shared = shared;
    }

    /**
     * Each later {@code state_dict} name of a parameter met before, to its first name: a layer given twice, or a
     * layer whose own parameters share ({@link Layer#sharedParameters()}), under the index of the layer.
     */
    private static Map<String, String> sharedOf(List<? extends Layer> layers) {
        Map<Variable, String> first = new IdentityHashMap<>();
        Map<String, String> shared = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            Map<String, Variable> own = layer.parameters();
            for (Map.Entry<String, Variable> e : own.entrySet()) {
                String name = i + "." + e.getKey();
                String before = first.putIfAbsent(e.getValue(), name);
                if (before != null) {
                    shared.put(name, before);
                }
            }
            for (Map.Entry<String, String> e : layer.sharedParameters().entrySet()) {
                if (own.containsKey(e.getKey()) || !own.containsKey(e.getValue())) {
                    throw new IllegalArgumentException("Sequential: layer " + i + ", " + layer + ", says its '"
                            + e.getKey() + "' is its '" + e.getValue() + "', but its parameters() "
                            + (own.containsKey(e.getKey()) ? "lists '" + e.getKey() + "' too"
                                    : "do not list '" + e.getValue() + "'")
                            + " (a shared name must be left out of parameters() and name one listed there)");
                }
                shared.put(i + "." + e.getKey(), first.get(own.get(e.getValue())));
            }
        }
        return Collections.unmodifiableMap(shared);
    }

    /**
     * Refuses {@code layer}, which takes {@code takes} features per example (-1 when its spec does not say), as the
     * next layer after {@code before} when those give another width. The one width rule of the constructor and of
     * the {@link Builder}, which applies it at the call that adds the layer.
     */
    private static void checkTakes(List<? extends Layer> before, int takes, Object layer) {
        if (takes <= 0) {
            return;
        }
        List<LayerSpec> specs = new ArrayList<>();
        int giver = -1;
        for (int i = 0; i < before.size(); i++) {
            LayerSpec spec = before.get(i).spec();
            specs.add(spec);
            if (Layers.outputFeatures(spec) > 0) {
                giver = i;
            }
        }
        int gives = Layers.outputFeatures(new LayerSpec("sequential", Map.of(), specs));
        if (gives > 0 && takes != gives) {
            throw new IllegalArgumentException("Sequential: layer " + before.size() + ", " + layer + ", takes " + takes
                    + " features, but layer " + giver + ", " + before.get(giver) + ", gives " + gives);
        }
    }

    /**
     * A sequence of layers (taking ownership of them), as {@link #Sequential(List)}.
     *
     * @throws IllegalArgumentException when a layer is null or a layer takes another width than the one before it
     *                                  gives, as {@link #Sequential(List)}
     */
    public static Sequential of(Layer... layers) {
        return new Sequential(Arrays.asList(layers));
    }

    /** A builder of initialized layers on {@code backend} with parameters of {@code dtype}. */
    public static Builder builder(Backend backend, DType dtype) {
        return new Builder(backend, dtype);
    }

    /** The layers, in order. */
    public List<Layer> layers() {
        return layers;
    }

    /**
     * Runs the layers in order. A {@link Dense} with a bias directly followed by an {@link Activation} the SPI
     * fuses ({@link dev.backprop.backend.Backend#FUSED_ACTIVATIONS}) runs as one op with it
     * ({@link dev.backprop.autograd.Ops#linear(Variable, Variable, Variable, UnaryOp)}: the pair's values, and its
     * gradients as that op states them, in fewer launches); the layers, their names and parameters stay as they
     * are, and {@link #layers()} run one by one give the unfused computation.
     */
    @Override
    public Variable forward(Variable input) {
        Variable x = input;
        for (int i = 0; i < layers.size(); i++) {
            UnaryOp fused = fusedActivation(i);
            if (fused != null) {
                x = ((Dense) layers.get(i)).forward(x, fused);
                i++;
            } else {
                x = layers.get(i).forward(x);
            }
        }
        return x;
    }

    /** The activation that layer {@code i} (a dense layer with a bias) runs fused with layer {@code i + 1}, or null. */
    private UnaryOp fusedActivation(int i) {
        if (i + 1 < layers.size() && layers.get(i) instanceof Dense d && d.bias() != null
                && layers.get(i + 1) instanceof Activation a) {
            return a.fusedOp();
        }
        return null;
    }

    @Override
    public Map<String, Variable> parameters() {
        Map<String, Variable> m = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Map.Entry<String, Variable> e : layers.get(i).parameters().entrySet()) {
                String name = i + "." + e.getKey();
                if (shared.isEmpty() || !shared.containsKey(name)) {
                    m.put(name, e.getValue());
                }
            }
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public Map<String, String> sharedParameters() {
        return shared;
    }

    @Override
    public Map<String, Tensor> buffers() {
        return prefixed(Layer::buffers);
    }

    @Override
    public Map<String, long[]> counters() {
        return prefixed(Layer::counters);
    }

    @Override
    public Map<String, long[]> trainingState() {
        return prefixed(Layer::trainingState);
    }

    /** Each child's entries under {@code index.name}, in layer order. */
    private <T> Map<String, T> prefixed(java.util.function.Function<Layer, Map<String, T>> of) {
        Map<String, T> m = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Map.Entry<String, T> e : of.apply(layers.get(i)).entrySet()) {
                m.put(i + "." + e.getKey(), e.getValue());
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** Sets the mode of the sequence and of every layer in it. */
    @Override
    public void train(boolean training) {
        this.training = training;
        layers.forEach(l -> l.train(training));
    }

    /** The mode last set on the sequence (as PyTorch's {@code training} flag; a layer may have been set apart). */
    @Override
    public boolean isTraining() {
        return training;
    }

    @Override
    public LayerSpec spec() {
        List<LayerSpec> specs = new ArrayList<>();
        for (Layer l : layers) {
            specs.add(l.spec());
        }
        return new LayerSpec("sequential", Map.of(), specs);
    }

    /** Closes each layer once, however many places it holds. */
    @Override
    public void close() {
        closeEach(layers);
    }

    /** Closes each of {@code layers} that is not null once, however many places it holds. */
    private static void closeEach(List<? extends Layer> layers) {
        Set<Layer> closed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Layer layer : layers) {
            if (layer != null && closed.add(layer)) {
                layer.close();
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(i).append(": ").append(layers.get(i));
        }
        return sb.append(')').toString();
    }

    /**
     * Builds a {@link Sequential} layer by layer, drawing initial weights on the host from one seeded generator
     * in layer order (weight, then bias), so the same seed gives the same model on every backend.
     */
    public static final class Builder {
        private final Backend backend;
        private final DType dtype;
        private final List<Layer> layers = new ArrayList<>();
        private long seed = 0;
        private Init init = Init.PYTORCH_DEFAULT;
        private Random rng;

        private Builder(Backend backend, DType dtype) {
            this.backend = backend;
            this.dtype = dtype;
        }

        /** The seed of the initial weights (default 0); set it before adding layers. */
        public Builder seed(long seed) {
            if (rng != null) {
                throw new IllegalStateException("seed() must come before the first dense layer");
            }
            this.seed = seed;
            return this;
        }

        /** The initializer for the following dense layers (default {@link Init#PYTORCH_DEFAULT}). */
        public Builder init(Init init) {
            this.init = Objects.requireNonNull(init, "init");
            return this;
        }

        /** Adds a dense layer {@code in → out} with a bias. */
        public Builder dense(int in, int out) {
            return dense(in, out, true);
        }

        /**
         * Adds a dense layer {@code in → out}, with or without a bias.
         *
         * @throws IllegalArgumentException when {@code in} differs from the width the layers before it give, as
         *                                  {@link Sequential#Sequential(List)} checks it; no weights are drawn
         */
        public Builder dense(int in, int out, boolean bias) {
            checkTakes(layers, in, "dense(" + in + ", " + out + ")");
            return add(new Dense(in, out, bias, init.factory(backend, dtype, rng())));
        }

        /** Adds a {@link Flatten}. */
        public Builder flatten() {
            return add(new Flatten());
        }

        /** Adds a ReLU. */
        public Builder relu() {
            return add(Activation.relu());
        }

        /** Adds a sigmoid. */
        public Builder sigmoid() {
            return add(Activation.sigmoid());
        }

        /** Adds a tanh. */
        public Builder tanh() {
            return add(Activation.tanh());
        }

        /** Adds a hard threshold (inference only). */
        public Builder threshold() {
            return add(Activation.threshold());
        }

        /** Adds an identity layer. */
        public Builder identity() {
            return add(Activation.identity());
        }

        /**
         * Adds a convolution: {@code conv2d(Conv2d.options(1, 32, 3).padding(1))} is
         * {@code nn.Conv2d(1, 32, 3, padding=1)}.
         */
        public Builder conv2d(Conv2d.Options options) {
            return add(new Conv2d(options, init.factory(backend, dtype, rng())));
        }

        /** Adds {@code nn.MaxPool2d(k)}. */
        public Builder maxPool2d(int k) {
            return add(Pool2d.max(k));
        }

        /** Adds {@code nn.AvgPool2d(k)}. */
        public Builder avgPool2d(int k) {
            return add(Pool2d.avg(k));
        }

        /**
         * Adds {@code nn.BatchNorm1d(features)}: per feature of {@code [N, features]} inputs.
         *
         * @throws IllegalArgumentException when {@code features} differs from the width the layers before it give,
         *                                  as {@link Sequential#Sequential(List)} checks it; no weights are drawn
         */
        public Builder batchNorm1d(int features) {
            checkTakes(layers, features, "batchNorm1d(" + features + ")");
            return add(new BatchNorm(features, false, init.factory(backend, dtype, rng())));
        }

        /**
         * Adds {@code nn.LayerNorm(features)} ({@code eps = 1e-5}, affine): over the last dimension of its inputs.
         *
         * @throws IllegalArgumentException when {@code features} differs from the width the layers before it give,
         *                                  as {@link Sequential#Sequential(List)} checks it; no weights are drawn
         */
        public Builder layerNorm(int features) {
            return layerNorm(features, LayerNorm.EPS, true);
        }

        /**
         * Adds {@code nn.LayerNorm(features, eps, elementwise_affine=affine)}: over the last dimension of its inputs.
         *
         * @throws IllegalArgumentException for the settings {@link LayerNorm#check} refuses, or when {@code features}
         *                                  differs from the width the layers before it give; no weights are drawn
         */
        public Builder layerNorm(int features, double eps, boolean affine) {
            LayerNorm.check(features, eps);
            checkTakes(layers, features, "layerNorm(" + features + ")");
            return add(new LayerNorm(features, eps, affine, init.factory(backend, dtype, rng())));
        }

        /** Adds {@code nn.BatchNorm2d(features)}: per channel of {@code [N, features, H, W]} inputs. */
        public Builder batchNorm2d(int features) {
            return add(new BatchNorm(features, true, init.factory(backend, dtype, rng())));
        }

        /**
         * Adds {@code nn.Dropout(p)}, whose mask stream is seeded from the builder's seed and the layer's position
         * (so two dropout layers draw different masks, and the same model draws the same ones).
         */
        public Builder dropout(double p) {
            return add(new Dropout(p, Dropout.streamSeed(seed, layers.size())));
        }

        private Random rng() {
            if (rng == null) {
                rng = new TorchGenerator(seed);
            }
            return rng;
        }

        /**
         * Adds any layer (taking ownership).
         *
         * @throws IllegalArgumentException when {@code layer} is null, or takes another width than the layers before
         *                                  it give, as {@link Sequential#Sequential(List)} checks it; the layer is
         *                                  closed
         */
        public Builder add(Layer layer) {
            if (layer == null) {
                throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
            }
            try {
                checkTakes(layers, Layers.inputFeatures(layer.spec()), layer);
            } catch (IllegalArgumentException e) {
                layer.close();
                throw e;
            }
            layers.add(layer);
            return this;
        }

        /** The model with the layers added so far. */
        public Sequential build() {
            return new Sequential(layers);
        }
    }
}
