package dev.backprop.cpu;

import java.util.stream.IntStream;

/**
 * Runs {@link VectorMath}'s tanh, sigmoid and their derivatives on every float in a range and prints the largest
 * error in ulps of the float nearest the exact value ({@link Math} in double), the input where it occurs, and a
 * checksum of the result bits (equal checksums: bit-identical results). {@code VectorMathTest} checks a sparse
 * form of the same sweep in every build; this runs the whole one:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp backend-cpu/target/classes:backend-cpu/target/test-classes \
 *     dev.backprop.cpu.VectorMathSweep [lo hi]
 * </pre>
 * {@code lo} and {@code hi} (default -20 and 20) bound the inputs; every float between them is run, in chunks of
 * 1M on the common fork-join pool.
 */
public final class VectorMathSweep {
    private VectorMathSweep() {
    }

    public static void main(String[] args) {
        float lo = args.length > 0 ? Float.parseFloat(args[0]) : -20f;
        float hi = args.length > 1 ? Float.parseFloat(args[1]) : 20f;
        for (VectorMathTest.Named f : VectorMathTest.SWEPT) {
            VectorMathTest.UlpResult r = sweep(f, lo, hi);
            System.out.printf("%-10s [%s, %s]: %d floats, max %.3f ulp (stated for [-20, 20]: %s) at x = %s (0x%08x),"
                    + " checksum %016x%n", f.name(), lo, hi, r.count(), r.ulps(), f.maxUlps(), r.at(),
                    Float.floatToRawIntBits(r.at()), r.checksum());
        }
    }

    /** Every float in [lo, hi], in chunks run in parallel. */
    static VectorMathTest.UlpResult sweep(VectorMathTest.Named f, float lo, float hi) {
        long first = VectorMathTest.order(lo), last = VectorMathTest.order(hi);
        int chunk = 1 << 20;
        int chunks = (int) ((last - first + chunk) / chunk);
        return IntStream.range(0, chunks).parallel().mapToObj(c -> {
            long start = first + (long) c * chunk;
            int n = (int) Math.min(chunk, last - start + 1);
            return VectorMathTest.ulpError(f, start, 1, n);
        }).reduce(VectorMathTest.UlpResult::max).orElseThrow();
    }
}
