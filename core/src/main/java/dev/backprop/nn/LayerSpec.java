package dev.backprop.nn;

import java.util.List;
import java.util.Map;

/**
 * What a layer is, without its weights: enough to rebuild it (the architecture stored in a model file).
 * {@code type} and its integer {@code args}:
 * <ul>
 *   <li>{@code dense}: {@code in}, {@code out}, {@code bias} (0/1) — {@code nn.Linear};</li>
 *   <li>{@code conv2d}: {@code in}, {@code out}, {@code kernel_h}, {@code kernel_w}, {@code stride_h},
 *       {@code stride_w}, {@code pad_h}, {@code pad_w}, {@code dilation_h}, {@code dilation_w}, {@code bias} (0/1)
 *       — {@code nn.Conv2d} with {@code groups=1};</li>
 *   <li>{@code maxpool2d}: {@code kernel_h}, {@code kernel_w}, {@code stride_h}, {@code stride_w}, {@code pad_h},
 *       {@code pad_w} — {@code nn.MaxPool2d} (floor mode, dilation 1);</li>
 *   <li>{@code avgpool2d}: the same and {@code count_include_pad} (0/1) — {@code nn.AvgPool2d};</li>
 *   <li>{@code batchnorm1d}, {@code batchnorm2d}: {@code features} — {@code nn.BatchNorm1d/2d} with PyTorch's
 *       defaults (eps 1e-5, momentum 0.1, affine, running statistics tracked);</li>
 *   <li>{@code layernorm}: {@code features}, {@code eps_mantissa} and {@code eps_exponent} ({@code eps} is
 *       {@code eps_mantissa · 10^eps_exponent} in its shortest decimal form: 1e-5 is 1 and -5), {@code affine}
 *       (0/1) — {@code nn.LayerNorm(features, eps, elementwise_affine)} over the last dimension;</li>
 *   <li>{@code dropout}: {@code p_ppm}, the probability in millionths — {@code nn.Dropout(p_ppm / 1e6)};</li>
 *   <li>{@code flatten}, {@code identity}, {@code sigmoid}, {@code tanh}, {@code relu}, {@code threshold}: no
 *       args;</li>
 *   <li>{@code sequential}: no args, its {@code layers} in order — {@code nn.Sequential}.</li>
 * </ul>
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
