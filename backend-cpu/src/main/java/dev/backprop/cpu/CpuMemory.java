package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Accounting of the cpu backend's buffers, and what the JVM reports for the same memory.
 *
 * <h2>The platform figure</h2>
 * Buffers are heap arrays, so the platform's own number is the heap in use. The JVM offers two: the heap used
 * right now, which also counts garbage not yet collected and so swings by the young generation's size from one
 * call to the next, and the heap each pool held right after its last garbage collection
 * ({@link MemoryPoolMXBean#getCollectionUsage()}), which counts live objects only. {@code platformBytes} is the
 * sum of the latter over all heap pools: it is what a leak makes grow, and it stays flat across a long loop that
 * frees what it allocates. It is only as fresh as the last collection; call {@link System#gc()} first for a
 * figure taken now. Where no heap pool reports collection usage (some collectors), the current heap use is
 * reported instead and {@code platformSource} says so.
 */
final class CpuMemory {
    /** Java arrays are int-indexed and JVMs reserve a few header words: the largest safe length. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final AtomicLong liveBuffers = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();

    /** A new array for {@code elements} elements of {@code dtype}, or a clear out-of-memory exception. */
    Object newArray(DType dtype, long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException("cpu: cannot allocate " + elements + " elements");
        }
        if (elements > MAX_ELEMENTS) {
            throw new DeviceOutOfMemoryException("cpu: a buffer holds at most " + MAX_ELEMENTS
                    + " elements (Java arrays are int-indexed), asked for " + elements + " " + dtype);
        }
        int n = (int) elements;
        try {
            return switch (dtype) {
                case FLOAT32 -> new float[n];
                case FLOAT64 -> new double[n];
                case INT32 -> new int[n];
            };
        } catch (OutOfMemoryError e) {
            Runtime rt = Runtime.getRuntime();
            throw new DeviceOutOfMemoryException(String.format("cpu: no heap for %d %s elements (%,d bytes); the"
                            + " heap limit is %,d bytes (raise it with -Xmx) and this backend holds %,d bytes",
                    n, dtype, elements * dtype.byteSize(), rt.maxMemory(), liveBytes.get()), e);
        }
    }

    void allocated(CpuBuffer b) {
        liveBuffers.incrementAndGet();
        liveBytes.addAndGet(b.bytes());
    }

    void released(CpuBuffer b) {
        liveBuffers.decrementAndGet();
        liveBytes.addAndGet(-b.bytes());
    }

    MemoryStats stats() {
        long afterGc = 0;
        boolean any = false;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() != MemoryType.HEAP) {
                continue;
            }
            MemoryUsage u = pool.getCollectionUsage();
            if (u != null) {
                afterGc += u.getUsed();
                any = true;
            }
        }
        if (any) {
            return new MemoryStats(liveBuffers.get(), liveBytes.get(), afterGc,
                    "JVM heap in use after the last garbage collection (MemoryPoolMXBean collection usage)");
        }
        return new MemoryStats(liveBuffers.get(), liveBytes.get(),
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                "JVM heap in use now, garbage included (MemoryMXBean; no pool reports usage after collection)");
    }
}
