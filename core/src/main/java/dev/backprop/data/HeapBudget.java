package dev.backprop.data;

import java.util.Locale;

/**
 * The room left in the Java heap, asked before a reader allocates what a file declares, so that a file too large
 * for this JVM is refused with a message that says how much it needs instead of ending in an
 * {@link OutOfMemoryError}.
 */
public final class HeapBudget {
    private HeapBudget() {
    }

    /** Bytes the heap can still grow to hold (its maximum less what is in use, garbage included). */
    public static long available() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /**
     * Null when {@code bytes} more fit in the heap, else what is missing, as "needs X, the Java heap has Y free of
     * Z (raise -Xmx)". A full collection runs before the answer is no, since garbage counts as used until then.
     */
    public static String shortfall(long bytes) {
        if (bytes <= available()) {
            return null;
        }
        System.gc();
        long free = available();
        if (bytes <= free) {
            return null;
        }
        return "needs " + size(bytes) + ", the Java heap has " + size(free) + " free of "
                + size(Runtime.getRuntime().maxMemory()) + " (raise -Xmx)";
    }

    /** A byte count for messages: {@code 512 B}, {@code 3.2 MiB}, {@code 1.5 GiB}. */
    public static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
