package dev.backprop.nn;

import dev.backprop.backend.Window2d;

import java.util.Arrays;

/**
 * What a network gives for one example of a known shape, found from its spec alone, layer after layer: the width of
 * a network whose last layers do not tell it ({@link Layers#outputFeatures}), such as one ending in a convolution and
 * a flatten. Convolution and pooling use {@link Window2d}'s rule, the one their kernels run.
 */
public final class OutputShape {
    private OutputShape() {
    }

    /**
     * The network's outputs per example: {@link Layers#outputFeatures} when the last layers tell it, else the element
     * count of {@link #of} for examples of {@code input}; -1 when neither tells (no input shape, one the network
     * does not take, or an output of more than {@link Integer#MAX_VALUE} elements).
     *
     * @param input the dimensions after the batch the network takes, or null when not known
     */
    public static int features(LayerSpec spec, int[] input) {
        int last = Layers.outputFeatures(spec);
        int[] out = last >= 0 || input == null ? null : of(spec, input);
        long n = out == null ? -1 : count(out);
        return last >= 0 ? last : n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    /**
     * The dimensions after the batch that the (valid) network {@code spec} gives for an example of {@code input}, or
     * null when that cannot be told: a layer does not take what reaches it (a dense layer's {@code in} differs from
     * the feature count, a convolution's channels differ, a window is larger than the padded image, a flatten would
     * give more than {@link Integer#MAX_VALUE} features).
     */
    public static int[] of(LayerSpec spec, int[] input) {
        if (spec.type().equals("sequential")) {
            int[] shape = input;
            for (int i = 0; i < spec.layers().size() && shape != null; i++) {
                shape = of(spec.layers().get(i), shape);
            }
            return shape;
        }
        return switch (spec.type()) {
            case "dense" -> count(input) == spec.arg("in") ? new int[] {spec.arg("out")} : null;
            case "flatten" -> count(input) > Integer.MAX_VALUE ? null : new int[] {(int) count(input)};
            case "conv2d" -> input.length == 3 && input[0] == spec.arg("in") ? window(spec, input, spec.arg("out"),
                    spec.arg("dilation_h"), spec.arg("dilation_w")) : null;
            case "maxpool2d", "avgpool2d" -> input.length == 3 ? window(spec, input, input[0], 1, 1) : null;
            case "batchnorm2d" -> input.length == 3 && input[0] == spec.arg("features") ? input : null;
            case "batchnorm1d" -> input.length == 1 && input[0] == spec.arg("features") ? input : null;
            case "layernorm" -> input.length >= 1 && input[input.length - 1] == spec.arg("features") ? input : null;
            default -> input;  // dropout and the activations keep their input's shape
        };
    }

    /** {@code [channels, outH, outW]} of the layer's window over a {@code [C, H, W]} image, or null when none fits. */
    private static int[] window(LayerSpec spec, int[] image, int channels, int dilationH, int dilationW) {
        try {
            Window2d w = new Window2d(1, image[0], image[1], image[2], spec.arg("kernel_h"), spec.arg("kernel_w"),
                    spec.arg("stride_h"), spec.arg("stride_w"), spec.arg("pad_h"), spec.arg("pad_w"), dilationH,
                    dilationW);
            return new int[] {channels, w.outH(), w.outW()};
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The elements of {@code shape}, or {@link Long#MAX_VALUE} when more: a recorded shape may be any size. */
    private static long count(int[] shape) {
        try {
            return Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
