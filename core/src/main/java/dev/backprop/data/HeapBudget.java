package dev.backprop.data;

import dev.backprop.backend.MemoryStats;

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
        return "needs " + MemoryStats.human(bytes) + ", the Java heap has " + MemoryStats.human(free) + " free of "
                + MemoryStats.human(Runtime.getRuntime().maxMemory()) + " (raise -Xmx)";
    }
}
