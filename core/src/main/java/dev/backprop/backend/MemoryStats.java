package dev.backprop.backend;

import java.util.Locale;

/**
 * Memory held by one backend.
 *
 * @param liveBuffers    buffers allocated and not yet released, as the backend counted them
 * @param liveBytes      bytes of element data in those buffers
 * @param peakBytes      the most {@code liveBytes} has been since the backend was created
 * @param pooledBytes    bytes in released blocks the backend keeps for reuse (not live, but still held)
 * @param platformBytes  what the platform itself reports for the same memory (device memory in use from
 *                       {@code cuMemGetInfo}, live CL memory objects' sizes, reachable heap after GC for the
 *                       Java backend), or -1 when the platform offers nothing
 * @param platformSource where {@code platformBytes} came from, for messages
 */
public record MemoryStats(long liveBuffers, long liveBytes, long peakBytes, long pooledBytes, long platformBytes,
                          String platformSource) {
    /**
     * {@code 3.0 MiB}, {@code 512 B}: a size for messages, device memory and heap alike.
     *
     * @param bytes a size
     * @return the size in B, KiB, MiB, GiB, TiB, PiB or EiB
     */
    public static String human(long bytes) {
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
