package dev.backprop.cli;

import java.util.stream.IntStream;

/** Parses {@code predict --index}: one index ({@code 3}), an inclusive range ({@code 0..9}) or a list of either. */
final class Indices {
    private Indices() {
    }

    /**
     * The indices {@code spec} names, in order.
     *
     * @throws IllegalArgumentException for malformed text or an index outside {@code [0, size)}
     */
    static int[] parse(String spec, int size) {
        IntStream.Builder out = IntStream.builder();
        for (String part : spec.split(",")) {
            String p = part.trim();
            int dots = p.indexOf("..");
            int from = number(spec, dots < 0 ? p : p.substring(0, dots), size);
            int to = dots < 0 ? from : number(spec, p.substring(dots + 2), size);
            if (to < from) {
                throw new IllegalArgumentException("--index " + spec + ": range " + p + " runs backwards");
            }
            for (int i = from; i <= to; i++) {
                out.add(i);
            }
        }
        return out.build().toArray();
    }

    private static int number(String spec, String text, int size) {
        int v;
        try {
            v = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--index " + spec + ": '" + text.trim() + "' is not an index; use "
                    + "3, 0..9 or 1,5,7");
        }
        if (v < 0 || v >= size) {
            throw new IllegalArgumentException("--index " + spec + ": " + v + " is outside the " + size
                    + " test examples [0, " + (size - 1) + "]");
        }
        return v;
    }
}
