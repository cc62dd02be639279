package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
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
 *
 * <h2>Reuse of released arrays</h2>
 * A training step allocates and frees the same dozen or so buffers every time (activations, pending gradients,
 * loss temporaries). A fresh Java array is zeroed by the JVM and becomes garbage for the collector, which
 * measured about 4% of an MLP epoch; so a released array of at most {@link #RECYCLE_MAX_BYTES} is kept, up to
 * {@link #RECYCLE_PER_SIZE} per dtype and length and {@link #RECYCLE_TOTAL_BYTES} in all, and handed to the next
 * allocation of the same dtype and length (its contents are left over, which the SPI allows: a buffer's contents
 * are unspecified until written). Kept arrays are not live buffers: {@code liveBuffers}/{@code liveBytes} do not
 * count them, the heap figure does (at most {@link #RECYCLE_TOTAL_BYTES}); large buffers are never kept, so
 * releasing one gives its memory back to the heap at once.
 */
final class CpuMemory {
    /** Java arrays are int-indexed and JVMs reserve a few header words: the largest safe length. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** Largest array kept for reuse after release (1 MiB: a 256K-float activation or gradient). */
    static final long RECYCLE_MAX_BYTES = 1L << 20;
    /** Arrays kept per dtype and length (a step rarely holds more of one size at once). */
    static final int RECYCLE_PER_SIZE = 8;
    /** Bytes kept for reuse in all. */
    static final long RECYCLE_TOTAL_BYTES = 32L << 20;

    private final AtomicLong liveBuffers = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    /** Released arrays by {@link #key}; guarded by itself. */
    private final Map<Long, ArrayDeque<Object>> recycled = new HashMap<>();
    private long recycledBytes;

    /**
     * An array for {@code elements} elements of {@code dtype}: a released one of that length when one is kept
     * (contents left over), else a new one; or a clear out-of-memory exception.
     */
    Object array(DType dtype, long elements) {
        if (elements > 0 && elements * dtype.byteSize() <= RECYCLE_MAX_BYTES) {
            synchronized (recycled) {
                ArrayDeque<Object> q = recycled.get(key(dtype, elements));
                Object a = q == null ? null : q.pollFirst();
                if (a != null) {
                    recycledBytes -= elements * dtype.byteSize();
                    return a;
                }
            }
        }
        return newArray(dtype, elements);
    }

    /** Keeps a released buffer's array for reuse when it is small and the limits allow; else drops it. */
    void recycle(DType dtype, Object array) {
        long n = switch (dtype) {
            case FLOAT32 -> ((float[]) array).length;
            case FLOAT64 -> ((double[]) array).length;
            case INT32 -> ((int[]) array).length;
        };
        long bytes = n * dtype.byteSize();
        if (n == 0 || bytes > RECYCLE_MAX_BYTES) {
            return;
        }
        synchronized (recycled) {
            if (recycledBytes + bytes > RECYCLE_TOTAL_BYTES) {
                return;
            }
            ArrayDeque<Object> q = recycled.computeIfAbsent(key(dtype, n), k -> new ArrayDeque<>());
            if (q.size() < RECYCLE_PER_SIZE) {
                q.addFirst(array);
                recycledBytes += bytes;
            }
        }
    }

    /** Drops every kept array (the backend is closing). */
    void clearRecycled() {
        synchronized (recycled) {
            recycled.clear();
            recycledBytes = 0;
        }
    }

    private static long key(DType dtype, long elements) {
        return elements * 4 + dtype.ordinal();
    }

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
