package dev.backprop.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds layers from their {@link LayerSpec}s, says which parameters, buffers and counters (names and shapes) a
 * spec implies without allocating anything, so a model file can be checked completely before any tensor is made,
 * and describes a spec in words.
 */
public final class Layers {
    private static final Set<String> ACTIVATIONS = Set.of("identity", "sigmoid", "tanh", "relu", "threshold");

    private Layers() {
    }

    /**
     * Checks a spec: known types, the arguments each type needs and no others, sizes that fit.
     *
     * @throws IllegalArgumentException naming the first problem and where it is ({@code layer 2})
     */
    public static void validate(LayerSpec spec) {
        validate(spec, "model");
    }

    private static void validate(LayerSpec spec, String where) {
        String t = spec.type();
        if (t == null) {
            throw new IllegalArgumentException(where + ": layer type is missing");
        }
        switch (t) {
            case "sequential" -> {
                expectArgs(spec, where);
                for (int i = 0; i < spec.layers().size(); i++) {
                    validate(spec.layers().get(i), where.equals("model") ? "layer " + i : where + "." + i);
                }
                return;
            }
            case "dense" -> {
                expectArgs(spec, where, "in", "out", "bias");
                int in = spec.arg("in"), out = spec.arg("out"), bias = spec.arg("bias");
                at(where, () -> Dense.check(in, out));
                if (bias != 0 && bias != 1) {
                    throw new IllegalArgumentException(where + ": dense needs bias 0 or 1, got " + spec.args());
                }
            }
            case "flatten" -> expectArgs(spec, where);
            case "conv2d" -> {
                expectArgs(spec, where, "in", "out", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w",
                        "dilation_h", "dilation_w", "bias");
                at(where, () -> Conv2d.check(spec.arg("in"), spec.arg("out"), pair(spec, "kernel"),
                        pair(spec, "stride"), pair(spec, "pad"), pair(spec, "dilation")));
                if (spec.arg("bias") != 0 && spec.arg("bias") != 1) {
                    throw new IllegalArgumentException(where + ": conv2d needs bias 0 or 1, got " + spec.args());
                }
            }
            case "maxpool2d", "avgpool2d" -> {
                boolean max = t.equals("maxpool2d");
                if (max) {
                    expectArgs(spec, where, "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w");
                } else {
                    expectArgs(spec, where, "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w",
                            "count_include_pad");
                }
                int include = max ? 1 : spec.arg("count_include_pad");
                if (include != 0 && include != 1) {
                    throw new IllegalArgumentException(where + ": count_include_pad must be 0 or 1, got " + include);
                }
                at(where, () -> Pool2d.check(pair(spec, "kernel"), pair(spec, "stride"), pair(spec, "pad")));
            }
            case "batchnorm1d", "batchnorm2d" -> {
                expectArgs(spec, where, "features");
                if (spec.arg("features") <= 0) {
                    throw new IllegalArgumentException(where + ": " + t + " needs features > 0, got " + spec.args());
                }
            }
            case "layernorm" -> {
                expectArgs(spec, where, "features", "eps_mantissa", "eps_exponent", "affine");
                layerNorm(spec, where);
            }
            case "dropout" -> {
                expectArgs(spec, where, "p_ppm");
                int ppm = spec.arg("p_ppm");
                if (ppm < 0 || ppm > 1_000_000) {
                    throw new IllegalArgumentException(where + ": dropout needs p_ppm in [0, 1000000], got " + ppm);
                }
            }
            default -> {
                if (!ACTIVATIONS.contains(t)) {
                    throw new IllegalArgumentException(where + ": unknown layer type '" + t + "' (known: sequential, "
                            + "dense, conv2d, maxpool2d, avgpool2d, batchnorm1d, batchnorm2d, layernorm, dropout, "
                            + "flatten, "
                            + String.join(", ", new java.util.TreeSet<>(ACTIVATIONS)) + ")");
                }
                expectArgs(spec, where);
            }
        }
        if (!spec.layers().isEmpty()) {
            throw new IllegalArgumentException(where + ": a '" + t + "' layer has no child layers");
        }
    }

    /**
     * Checks a {@code layernorm} spec's values: {@code features > 0}, {@code affine} 0 or 1, and an {@code eps} that
     * is positive, finite and written in its shortest decimal form, so that a spec is the one its layer gives.
     */
    private static void layerNorm(LayerSpec spec, String where) {
        int features = spec.arg("features"), affine = spec.arg("affine");
        int mantissa = spec.arg("eps_mantissa"), exponent = spec.arg("eps_exponent");
        if (features <= 0) {
            throw new IllegalArgumentException(where + ": layernorm needs features > 0, got " + spec.args());
        }
        if (affine != 0 && affine != 1) {
            throw new IllegalArgumentException(where + ": layernorm needs affine 0 or 1, got " + spec.args());
        }
        double eps = mantissa > 0 && Math.abs(exponent) <= 400 ? LayerNorm.eps(spec) : 0;
        if (!(eps > 0 && eps < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(where + ": layernorm eps " + mantissa + "e" + exponent
                    + " (eps_mantissa, eps_exponent) is not a positive finite double");
        }
        LayerSpec shortest = LayerNorm.spec(features, eps, affine == 1);
        if (shortest.arg("eps_mantissa") != mantissa || shortest.arg("eps_exponent") != exponent) {
            throw new IllegalArgumentException(where + ": layernorm eps " + mantissa + "e" + exponent + " is " + eps
                    + ", to be written as eps_mantissa " + shortest.arg("eps_mantissa") + ", eps_exponent "
                    + shortest.arg("eps_exponent"));
        }
    }

    /**
     * A (valid) spec in words, as {@code backprop train} prints it: a plain MLP (dense layers with biases, one kind
     * of activation between each two and none after the last) as its sizes and activation
     * ({@code 784-256-128-10 relu}, {@code linear} without one); any other network as {@code cnn} (when it convolves)
     * and its layers in order ({@code cnn conv(1->32,3,p1) relu maxpool(2) ... dense(128->10)},
     * {@code dense(784->64) relu dense(64->10) sigmoid}).
     *
     * @throws IllegalArgumentException when the spec is invalid
     */
    public static String describe(LayerSpec spec) {
        validate(spec);
        List<LayerSpec> leaves = leaves(spec);
        String mlp = plainMlp(leaves);
        if (mlp != null) {
            return mlp;
        }
        StringBuilder sb = new StringBuilder(leaves.stream().anyMatch(l -> l.type().equals("conv2d")) ? "cnn" : "");
        for (LayerSpec l : leaves) {
            sb.append(sb.length() == 0 ? "" : " ").append(word(l));
        }
        return sb.toString();
    }

    /**
     * {@code 784-256-128-10 relu} for a plain MLP (an optional leading flatten, then dense layers with biases and one
     * kind of activation between each two, or none at all; identities, which change nothing, aside), else null: the
     * short form would hide the rest.
     */
    private static String plainMlp(List<LayerSpec> leaves) {
        List<LayerSpec> body = leaves.stream().filter(l -> !l.type().equals("identity")).toList();
        if (!body.isEmpty() && body.get(0).type().equals("flatten")) {
            body = body.subList(1, body.size());
        }
        Set<String> activations = Set.of("sigmoid", "tanh", "relu", "threshold");
        boolean linear = body.stream().allMatch(l -> l.type().equals("dense"));
        String act = linear || body.size() < 3 ? "linear" : body.get(1).type();
        for (int i = 0; i < body.size(); i++) {
            LayerSpec l = body.get(i);
            boolean denseHere = linear || i % 2 == 0;
            boolean fits = denseHere ? l.type().equals("dense") && l.arg("bias") == 1
                    : l.type().equals(act) && activations.contains(act);
            if (!fits) {
                return null;
            }
        }
        if (body.isEmpty() || !body.get(body.size() - 1).type().equals("dense")) {
            return null;
        }
        StringBuilder sb = new StringBuilder().append(body.get(0).arg("in"));
        body.stream().filter(l -> l.type().equals("dense")).forEach(l -> sb.append('-').append(l.arg("out")));
        return sb.append(' ').append(act).toString();
    }

    /** One layer in words: {@code conv(1->32,3,p1)}, {@code maxpool(2)}, {@code dense(3136->128)}, {@code relu}. */
    private static String word(LayerSpec l) {
        List<String> parts = new ArrayList<>();
        switch (l.type()) {
            case "dense" -> parts.add(l.arg("in") + "->" + l.arg("out"));
            case "conv2d" -> {
                parts.add(l.arg("in") + "->" + l.arg("out"));
                parts.add(geometry(l, "kernel"));
                unless(parts, l, "stride", 1, "s");
                unless(parts, l, "pad", 0, "p");
                unless(parts, l, "dilation", 1, "d");
            }
            case "maxpool2d", "avgpool2d" -> {
                parts.add(geometry(l, "kernel"));
                if (l.arg("stride_h") != l.arg("kernel_h") || l.arg("stride_w") != l.arg("kernel_w")) {
                    parts.add("s" + geometry(l, "stride"));
                }
                unless(parts, l, "pad", 0, "p");
                if (l.type().equals("avgpool2d") && l.arg("count_include_pad") == 0) {
                    parts.add("exclude_pad");
                }
            }
            case "batchnorm1d", "batchnorm2d" -> parts.add(Integer.toString(l.arg("features")));
            case "layernorm" -> {
                parts.add(Integer.toString(l.arg("features")));
                if (LayerNorm.eps(l) != LayerNorm.EPS) {
                    parts.add("eps=" + LayerNorm.eps(l));
                }
                if (l.arg("affine") == 0) {
                    parts.add("noaffine");
                }
            }
            case "dropout" -> parts.add(java.math.BigDecimal.valueOf(l.arg("p_ppm"), 6).stripTrailingZeros()
                    .toPlainString());
            default -> {
                return l.type();
            }
        }
        if (l.args().containsKey("bias") && l.arg("bias") == 0) {
            parts.add("nobias");
        }
        String name = l.type().equals("conv2d") ? "conv" : l.type().endsWith("pool2d") ? l.type().substring(0, 7)
                : l.type();
        return name + "(" + String.join(",", parts) + ")";
    }

    /** Adds {@code prefix} and the geometry argument {@code name} unless both its values are {@code usual}. */
    private static void unless(List<String> parts, LayerSpec l, String name, int usual, String prefix) {
        if (l.arg(name + "_h") != usual || l.arg(name + "_w") != usual) {
            parts.add(prefix + geometry(l, name));
        }
    }

    /** {@code 3} for a square geometry argument, {@code 3x5} otherwise. */
    private static String geometry(LayerSpec l, String name) {
        int h = l.arg(name + "_h"), w = l.arg(name + "_w");
        return h == w ? Integer.toString(h) : h + "x" + w;
    }

    /** {@code factory} asked with full names ({@code prefix + name}). */
    private static ParameterFactory prefixed(ParameterFactory factory, String prefix) {
        return (name, shape, role, fanIn, fanOut) -> factory.create(prefix + name, shape, role, fanIn, fanOut);
    }

    /** {@code {name_h, name_w}} of a spec. */
    private static int[] pair(LayerSpec spec, String name) {
        return new int[] {spec.arg(name + "_h"), spec.arg(name + "_w")};
    }

    /** The options a conv2d spec names. */
    private static Conv2d.Options conv2d(LayerSpec spec) {
        return Conv2d.options(spec.arg("in"), spec.arg("out"), spec.arg("kernel_h"))
                .kernel(spec.arg("kernel_h"), spec.arg("kernel_w")).stride(spec.arg("stride_h"), spec.arg("stride_w"))
                .padding(spec.arg("pad_h"), spec.arg("pad_w")).dilation(spec.arg("dilation_h"), spec.arg("dilation_w"))
                .bias(spec.arg("bias") == 1);
    }

    /** Runs a layer's argument check, prefixing its message with {@code where}. */
    private static void at(String where, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static void expectArgs(LayerSpec spec, String where, String... names) {
        if (!spec.args().keySet().equals(Set.of(names))) {
            throw new IllegalArgumentException(where + ": '" + spec.type() + "' takes arguments "
                    + List.of(names) + ", got " + spec.args().keySet());
        }
    }

    /**
     * The parameters a (valid) spec implies, in {@code state_dict} order: full name to dimensions.
     *
     * @throws IllegalArgumentException when the spec is invalid
     */
    public static Map<String, int[]> parameterShapes(LayerSpec spec) {
        validate(spec);
        Map<String, int[]> out = new LinkedHashMap<>();
        forEachLeaf(spec, "", (prefix, l) -> {
            switch (l.type()) {
                case "dense" -> out.put(prefix + "weight", new int[] {l.arg("out"), l.arg("in")});
                case "conv2d" -> out.put(prefix + "weight", new int[] {l.arg("out"), l.arg("in"), l.arg("kernel_h"),
                        l.arg("kernel_w")});
                case "batchnorm1d", "batchnorm2d" -> {
                    out.put(prefix + "weight", new int[] {l.arg("features")});
                    out.put(prefix + "bias", new int[] {l.arg("features")});
                }
                case "layernorm" -> {
                    if (l.arg("affine") == 1) {
                        out.put(prefix + "weight", new int[] {l.arg("features")});
                        out.put(prefix + "bias", new int[] {l.arg("features")});
                    }
                }
                default -> {
                }
            }
            if ((l.type().equals("dense") || l.type().equals("conv2d")) && l.arg("bias") == 1) {
                out.put(prefix + "bias", new int[] {l.arg("out")});
            }
        });
        return out;
    }

    /**
     * The buffers ({@link Layer#buffers()}: a batch norm's {@code running_mean} and {@code running_var}) a (valid)
     * spec implies, in {@code state_dict} order: full name to dimensions.
     *
     * @throws IllegalArgumentException when the spec is invalid
     */
    public static Map<String, int[]> bufferShapes(LayerSpec spec) {
        validate(spec);
        Map<String, int[]> out = new LinkedHashMap<>();
        forEachLeaf(spec, "", (prefix, l) -> {
            if (l.type().startsWith("batchnorm")) {
                out.put(prefix + "running_mean", new int[] {l.arg("features")});
                out.put(prefix + BatchNorm.RUNNING_VAR, new int[] {l.arg("features")});
            }
        });
        return out;
    }

    /**
     * The full names of the counters ({@link Layer#counters()}: {@code num_batches_tracked}) a (valid) spec implies.
     *
     * @throws IllegalArgumentException when the spec is invalid
     */
    public static List<String> counterNames(LayerSpec spec) {
        validate(spec);
        List<String> out = new ArrayList<>();
        forEachLeaf(spec, "", (prefix, l) -> {
            if (l.type().startsWith("batchnorm")) {
                out.add(prefix + "num_batches_tracked");
            }
        });
        return out;
    }

    /**
     * How many outputs per example a network gives, when its spec alone decides that: the last dense layer's
     * {@code out} (or a 1-d batch norm's or a layer norm's {@code features}) seen through the layers after it that
     * keep the width (activations, dropout, flatten); -1 when the width depends on the input's size (the network ends
     * with a convolution or pooling), when no layer sets it, or for a layer type this does not know. The one answer to
     * "how wide is this network's output" for a task's check, a file's inferred task and an import's output shape.
     */
    public static int outputFeatures(LayerSpec spec) {
        List<LayerSpec> leaves = leaves(spec);
        Collections.reverse(leaves);
        return firstWidth(leaves, "out");
    }

    /**
     * How many features per example a network takes, when its spec alone decides that: the first dense layer's
     * {@code in} (or a 1-d batch norm's or a layer norm's {@code features}) seen through the layers before it that
     * keep the width (activations, dropout, flatten); -1 when no layer sets it or a layer before it (a convolution,
     * pooling or a type this does not know) makes it depend on the input's shape. The counterpart of
     * {@link #outputFeatures}.
     */
    static int inputFeatures(LayerSpec spec) {
        return firstWidth(leaves(spec), "in");
    }

    /**
     * The width the first of {@code leaves} that sets one states (a dense layer's {@code denseArg}, a 1-d batch
     * norm's or a layer norm's {@code features}), passing the layers that keep the width; -1 when none does first.
     */
    private static int firstWidth(List<LayerSpec> leaves, String denseArg) {
        for (LayerSpec l : leaves) {
            switch (l.type()) {
                case "dense" -> {
                    return l.arg(denseArg);
                }
                case "batchnorm1d", "layernorm" -> {
                    return l.arg("features");
                }
                case "flatten", "dropout" -> {
                }
                default -> {
                    if (!ACTIVATIONS.contains(l.type())) {
                        return -1;
                    }
                }
            }
        }
        return -1;
    }

    /** The non-sequential layers of a valid spec, in order. */
    private static List<LayerSpec> leaves(LayerSpec spec) {
        List<LayerSpec> leaves = new ArrayList<>();
        forEachLeaf(spec, "", (prefix, l) -> leaves.add(l));
        return leaves;
    }

    /** Calls {@code action} with every non-sequential layer of a valid spec and its name prefix ({@code 3.}). */
    private static void forEachLeaf(LayerSpec spec, String prefix, java.util.function.BiConsumer<String, LayerSpec>
            action) {
        if (spec.type().equals("sequential")) {
            for (int i = 0; i < spec.layers().size(); i++) {
                forEachLeaf(spec.layers().get(i), prefix + i + ".", action);
            }
        } else {
            action.accept(prefix, spec);
        }
    }

    /**
     * Builds the layer a spec describes, taking parameter values from {@code factory}, which is called with
     * full {@code state_dict} names ({@code 0.weight}) in order.
     *
     * @throws IllegalArgumentException when the spec is invalid (nothing is allocated then)
     */
    public static Layer create(LayerSpec spec, ParameterFactory factory) {
        return create(spec, factory, 0);
    }

    /**
     * Builds the layer a spec describes, as {@link #create(LayerSpec, ParameterFactory)} does, its dropout layers'
     * streams keyed by {@code seed} and their positions as {@link Sequential.Builder#dropout} keys them, so a
     * network built from a run's seed draws masks of its own.
     *
     * @throws IllegalArgumentException when the spec is invalid (nothing is allocated then)
     */
    public static Layer create(LayerSpec spec, ParameterFactory factory, long seed) {
        return create(spec, factory, seed, Map.of());
    }

    /**
     * Builds the layer a spec describes, as {@link #create(LayerSpec, ParameterFactory, long)} does, with the layer
     * at each of {@code reuse}'s {@code state_dict} prefixes ({@code 2.}) being the one built at its value's
     * ({@code 0.}), which comes earlier and has the same spec: a tied model as a model file records it
     * ({@link dev.backprop.io.ModelFile#ties}). The factory is called for the layers built, not for those reused.
     *
     * @throws IllegalArgumentException when the spec is invalid, or a prefix of {@code reuse} names no layer, or
     *                                  one built later or of another spec (nothing is allocated then)
     */
    public static Layer create(LayerSpec spec, ParameterFactory factory, long seed, Map<String, String> reuse) {
        validate(spec);
        List<String> prefixes = new ArrayList<>();
        forEachLayer(spec, "", prefixes);
        Map<String, Integer> order = new java.util.HashMap<>();
        for (int i = 0; i < prefixes.size(); i++) {
            order.put(prefixes.get(i), i);
        }
        reuse.forEach((at, from) -> {
            LayerSpec a = at(spec, at);
            LayerSpec b = at(spec, from);
            if (a == null || b == null || !a.equals(b) || order.get(from) >= order.get(at)) {
                throw new IllegalArgumentException("cannot build layer '" + at + "' as layer '" + from + "': "
                        + (a == null || b == null ? "no such layer" : !a.equals(b) ? "their specs differ"
                        : "'" + from + "' is not built before it"));
            }
        });
        return build(spec, factory, "", 0, seed, reuse, new LinkedHashMap<>());
    }

    /** The layer at {@code state_dict} prefix {@code prefix} ({@code 1.0.}) below {@code spec}, or null. */
    private static LayerSpec at(LayerSpec spec, String prefix) {
        LayerSpec s = spec;
        for (String part : prefix.split("\\.", -1)) {
            if (part.isEmpty()) {
                continue;
            }
            if (!s.type().equals("sequential") || !part.matches("[0-9]{1,9}")
                    || Integer.parseInt(part) >= s.layers().size()) {
                return null;
            }
            s = s.layers().get(Integer.parseInt(part));
        }
        return prefix.endsWith(".") ? s : null;
    }

    /** The {@code state_dict} prefix of every layer below {@code spec}, in the order they are built. */
    private static void forEachLayer(LayerSpec spec, String prefix, List<String> out) {
        if (spec.type().equals("sequential")) {
            for (int i = 0; i < spec.layers().size(); i++) {
                out.add(prefix + i + ".");
                forEachLayer(spec.layers().get(i), prefix + i + ".", out);
            }
        }
    }

    /**
     * @param position the layer's index in its parent (0 at the top), which keys a dropout layer's stream with
     *                 {@code seed} as {@link Sequential.Builder#dropout} does
     * @param reuse    the prefixes whose layer is the one built at another prefix
     * @param built    the layers built so far, by prefix
     */
    private static Layer build(LayerSpec spec, ParameterFactory factory, String prefix, int position, long seed,
                               Map<String, String> reuse, Map<String, Layer> built) {
        return switch (spec.type()) {
            case "sequential" -> {
                List<Layer> layers = new ArrayList<>();
                try {
                    for (int i = 0; i < spec.layers().size(); i++) {
                        String p = prefix + i + ".";
                        Layer layer = reuse.containsKey(p) ? built.get(reuse.get(p))
                                : build(spec.layers().get(i), factory, p, i, seed, reuse, built);
                        built.put(p, layer);
                        layers.add(layer);
                    }
                } catch (RuntimeException e) {
                    Set<Layer> closed = Collections.newSetFromMap(new IdentityHashMap<>());
                    layers.stream().filter(closed::add).forEach(Layer::close);
                    throw e;
                }
                yield new Sequential(layers);
            }
            case "dense" -> new Dense(spec.arg("in"), spec.arg("out"), spec.arg("bias") == 1,
                    prefixed(factory, prefix));
            case "conv2d" -> new Conv2d(conv2d(spec), prefixed(factory, prefix));
            case "maxpool2d" -> Pool2d.max(pair(spec, "kernel"), pair(spec, "stride"), pair(spec, "pad"));
            case "avgpool2d" -> Pool2d.avg(pair(spec, "kernel"), pair(spec, "stride"), pair(spec, "pad"),
                    spec.arg("count_include_pad") == 1);
            case "batchnorm1d", "batchnorm2d" -> new BatchNorm(spec.arg("features"), spec.type().equals("batchnorm2d"),
                    prefixed(factory, prefix));
            case "layernorm" -> new LayerNorm(spec.arg("features"), LayerNorm.eps(spec), spec.arg("affine") == 1,
                    prefixed(factory, prefix));
            case "dropout" -> new Dropout(spec.arg("p_ppm") / 1e6, Dropout.streamSeed(seed, position));
            case "flatten" -> new Flatten();
            default -> new Activation(Activation.Kind.valueOf(spec.type().toUpperCase(java.util.Locale.ROOT)));
        };
    }
}
