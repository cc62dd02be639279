package dev.backprop.nn;

import java.util.Arrays;
import java.util.Map;

/**
 * The {@code {rows, columns}} geometry arguments of the 2-d layers ({@link Conv2d}, {@link Pool2d}): how each is
 * checked, and how their specs spell it ({@code NAME_h}, {@code NAME_w}, read back by {@link Layers}).
 */
final class Geometry2d {
    private Geometry2d() {
    }

    /**
     * Checks that {@code v} is two values of at least {@code min}.
     *
     * @param layer the layer type the message names ({@code Conv2d}, {@code Pool2d})
     * @param what  the argument ({@code kernel}, {@code stride}, ...)
     * @throws IllegalArgumentException naming the argument and its values
     */
    static void check(String layer, String what, int[] v, int min) {
        if (v == null || v.length != 2 || v[0] < min || v[1] < min) {
            throw new IllegalArgumentException(layer + ": " + what + " must be two values >= " + min + ", got "
                    + Arrays.toString(v));
        }
    }

    /** Puts {@code v} into a spec's arguments as {@code name_h} and {@code name_w}. */
    static void put(Map<String, Integer> args, String name, int[] v) {
        args.put(name + "_h", v[0]);
        args.put(name + "_w", v[1]);
    }
}
