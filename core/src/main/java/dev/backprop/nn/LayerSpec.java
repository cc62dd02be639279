package dev.backprop.nn;

import java.util.List;
import java.util.Map;

/**
 * What a layer is, without its weights: enough to rebuild it (the architecture stored in a model file).
 * {@code type} is one of {@code dense} (args {@code in}, {@code out}, {@code bias} 0/1), {@code flatten},
 * {@code identity}, {@code sigmoid}, {@code tanh}, {@code relu}, {@code threshold} (no args) or
 * {@code sequential} (its {@code layers} in order).
 *
 * @param type   the layer type
 * @param args   integer arguments, in a stable order
 * @param layers the children of a {@code sequential}, empty otherwise
 */
public record LayerSpec(String type, Map<String, Integer> args, List<LayerSpec> layers) {
    /** Copies {@code args} (keeping their order) and {@code layers}. */
    public LayerSpec {
        args = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(args));
        layers = List.copyOf(layers);
    }

    /** A spec without children. */
    public static LayerSpec of(String type, Map<String, Integer> args) {
        return new LayerSpec(type, args, List.of());
    }

    /** Integer argument {@code name}.
     *  @throws IllegalArgumentException when it is absent */
    public int arg(String name) {
        Integer v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("layer '" + type + "' has no argument '" + name + "' (has "
                    + args.keySet() + ")");
        }
        return v;
    }
}
