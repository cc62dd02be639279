package dev.backprop.backend;

/**
 * Memory held by one backend.
 *
 * @param liveBuffers    buffers allocated and not yet released, as the backend counted them
 * @param liveBytes      bytes in those buffers
 * @param platformBytes  what the platform itself reports for the same memory (device memory in use from
 *                       {@code cuMemGetInfo}, live CL memory objects' sizes, reachable heap after GC for the
 *                       Java backend), or -1 when the platform offers nothing
 * @param platformSource where {@code platformBytes} came from, for messages
 */
public record MemoryStats(long liveBuffers, long liveBytes, long platformBytes, String platformSource) {
}
