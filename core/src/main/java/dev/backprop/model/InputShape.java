package dev.backprop.model;

import dev.backprop.nn.LayerSpec;

import java.util.Arrays;
import java.util.Set;

/**
 * How a network takes its examples: the dimensions one example is given to it as, found from the network's first
 * layer and the data's own example shape. A network that starts by convolving, pooling or normalizing images takes
 * NCHW batches, so its examples are images {@code [C, H, W]}; one that starts with a flatten takes them as they come;
 * any other (a dense layer first) takes flat feature vectors.
 */
public final class InputShape {
    /** Layers that take any shape and keep it, so the layer after them decides. */
    private static final Set<String> PASS_THROUGH = Set.of("identity", "sigmoid", "tanh", "relu", "threshold",
            "dropout");
    /** Layers that need an NCHW batch. */
    private static final Set<String> IMAGES = Set.of("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d");

    private InputShape() {
    }

    /**
     * The dimensions the network {@code spec} takes an example of {@code exampleShape} as.
     *
     * @throws IllegalArgumentException when the network takes images and the examples are not (see {@link #image})
     */
    public static int[] of(LayerSpec spec, int[] exampleShape) {
        String first = firstShapedLayer(spec);
        if (IMAGES.contains(first)) {
            return image(exampleShape);
        }
        if (first.equals("flatten")) {
            return exampleShape.clone();
        }
        long n = 1;
        for (int d : exampleShape) {
            n *= d;
        }
        return new int[] {Math.toIntExact(n)};
    }

    /** Whether the network {@code spec} takes NCHW image batches. */
    public static boolean takesImages(LayerSpec spec) {
        return IMAGES.contains(firstShapedLayer(spec));
    }

    /**
     * Examples of {@code exampleShape} as images {@code [C, H, W]}: {@code [C, H, W]} as they are, {@code [H, W]} as
     * one channel, and a flat row of {@code s²} values (a CSV of pixels) as one {@code s × s} channel.
     *
     * @throws IllegalArgumentException for any other shape
     */
    public static int[] image(int[] exampleShape) {
        int[] d = exampleShape;
        if (d.length == 3) {
            return d.clone();
        }
        if (d.length == 2) {
            return new int[] {1, d[0], d[1]};
        }
        if (d.length == 1) {
            int side = (int) Math.round(Math.sqrt(d[0]));
            if (side > 1 && side * side == d[0]) {
                return new int[] {1, side, side};
            }
        }
        throw new IllegalArgumentException("the network takes images [C, H, W], but the examples are "
                + Arrays.toString(d) + (d.length == 1 ? " (a flat row is read as one square channel only when its "
                + "length is a square, such as 784 = 28x28)" : ""));
    }

    /** The type of the first layer that cares about its input's shape ({@code relu} when none does). */
    private static String firstShapedLayer(LayerSpec spec) {
        if (spec.type().equals("sequential")) {
            for (LayerSpec l : spec.layers()) {
                String t = firstShapedLayer(l);
                if (!PASS_THROUGH.contains(t)) {
                    return t;
                }
            }
            return "relu";
        }
        return spec.type();
    }
}
