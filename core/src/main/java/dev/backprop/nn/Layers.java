package dev.backprop.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds layers from their {@link LayerSpec}s, and says which parameters (names and shapes) a spec implies
 * without allocating anything, so a model file can be checked completely before any tensor is made.
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
                if (in <= 0 || out <= 0 || (bias != 0 && bias != 1)) {
                    throw new IllegalArgumentException(where + ": dense needs in > 0, out > 0 and bias 0 or 1, got "
                            + spec.args());
                }
                if ((long) in * out > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException(where + ": dense " + in + " x " + out + " is too large");
                }
            }
            case "flatten" -> expectArgs(spec, where);
            case "conv2d" -> {
                expectArgs(spec, where, "in", "out", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w",
                        "dilation_h", "dilation_w", "bias");
                at(where, () -> Conv2d.check(spec.arg("in"), spec.arg("out"), pair(spec, "kernel"), pair(spec, "stride"),
                        pair(spec, "pad"), pair(spec, "dilation")));
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
            case "dropout" -> {
                expectArgs(spec, where, "p_ppm");
                int ppm = spec.arg("p_ppm");
                if (ppm < 0 || ppm >= 1_000_000) {
                    throw new IllegalArgumentException(where + ": dropout needs p_ppm in [0, 1000000), got " + ppm);
                }
            }
            default -> {
                if (!ACTIVATIONS.contains(t)) {
                    throw new IllegalArgumentException(where + ": unknown layer type '" + t + "' (known: sequential, "
                            + "dense, conv2d, maxpool2d, avgpool2d, batchnorm1d, batchnorm2d, dropout, flatten, "
                            + String.join(", ", new java.util.TreeSet<>(ACTIVATIONS)) + ")");
                }
                expectArgs(spec, where);
            }
        }
        if (!spec.layers().isEmpty()) {
            throw new IllegalArgumentException(where + ": a '" + t + "' layer has no child layers");
        }
    }

    /** {@code factory} asked with full names ({@code prefix + name}). */
    private static ParameterFactory prefixed(ParameterFactory factory, String prefix) {
        return (name, shape, role, fanIn, fanOut) -> factory.create(prefix + name, shape, role, fanIn, fanOut);
    }

    /** {@code {name_h, name_w}} of a spec. */
    private static int[] pair(LayerSpec spec, String name) {
        return new int[] {spec.arg(name + "_h"), spec.arg(name + "_w")};
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
        collect(spec, "", out);
        return out;
    }

    private static void collect(LayerSpec spec, String prefix, Map<String, int[]> out) {
        if (spec.type().equals("sequential")) {
            for (int i = 0; i < spec.layers().size(); i++) {
                collect(spec.layers().get(i), prefix + i + ".", out);
            }
        } else if (spec.type().equals("dense")) {
            out.put(prefix + "weight", new int[] {spec.arg("out"), spec.arg("in")});
            if (spec.arg("bias") == 1) {
                out.put(prefix + "bias", new int[] {spec.arg("out")});
            }
        } else if (spec.type().equals("conv2d")) {
            out.put(prefix + "weight", new int[] {spec.arg("out"), spec.arg("in"), spec.arg("kernel_h"),
                    spec.arg("kernel_w")});
            if (spec.arg("bias") == 1) {
                out.put(prefix + "bias", new int[] {spec.arg("out")});
            }
        } else if (spec.type().startsWith("batchnorm")) {
            out.put(prefix + "weight", new int[] {spec.arg("features")});
            out.put(prefix + "bias", new int[] {spec.arg("features")});
        }
    }

    /**
     * Builds the layer a spec describes, taking parameter values from {@code factory}, which is called with
     * full {@code state_dict} names ({@code 0.weight}) in order.
     *
     * @throws IllegalArgumentException when the spec is invalid (nothing is allocated then)
     */
    public static Layer create(LayerSpec spec, ParameterFactory factory) {
        validate(spec);
        return build(spec, factory, "");
    }

    private static Layer build(LayerSpec spec, ParameterFactory factory, String prefix) {
        return switch (spec.type()) {
            case "sequential" -> {
                List<Layer> built = new ArrayList<>();
                try {
                    for (int i = 0; i < spec.layers().size(); i++) {
                        built.add(build(spec.layers().get(i), factory, prefix + i + "."));
                    }
                } catch (RuntimeException e) {
                    built.forEach(Layer::close);
                    throw e;
                }
                yield new Sequential(built);
            }
            case "dense" -> new Dense(spec.arg("in"), spec.arg("out"), spec.arg("bias") == 1, prefixed(factory, prefix));
            case "conv2d" -> new Conv2d(spec.arg("in"), spec.arg("out"), pair(spec, "kernel"), pair(spec, "stride"),
                    pair(spec, "pad"), pair(spec, "dilation"), spec.arg("bias") == 1, prefixed(factory, prefix));
            case "maxpool2d" -> Pool2d.max(pair(spec, "kernel"), pair(spec, "stride"), pair(spec, "pad"));
            case "avgpool2d" -> Pool2d.avg(pair(spec, "kernel"), pair(spec, "stride"), pair(spec, "pad"),
                    spec.arg("count_include_pad") == 1);
            case "batchnorm1d", "batchnorm2d" -> new BatchNorm(spec.arg("features"), spec.type().equals("batchnorm2d"),
                    prefixed(factory, prefix));
            case "dropout" -> new Dropout(spec.arg("p_ppm") / 1e6, 0);
            case "flatten" -> new Flatten();
            default -> new Activation(Activation.Kind.valueOf(spec.type().toUpperCase(java.util.Locale.ROOT)));
        };
    }
}
