package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.base.RawMemory;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Locale;

/**
 * The cpu backend's raw memory: Java arrays on the heap, one type per dtype (so the pool keeps them per dtype).
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
final class CpuMemory implements RawMemory<Object> {
    /** Java arrays are int-indexed and JVMs reserve a few header words: the largest safe length. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /**
     * Most bytes of released arrays kept for reuse: a training step allocates and frees the same buffers every
     * time, and a fresh array is zeroed by the JVM and later collected (about 4% of an MLP epoch; a CNN step's
     * activations and gradients, 100 MB at batch 128 for the reference network, took 6% of its step at a 32 MiB
     * cap, which kept only the small ones). As the OpenCL backend's cap: 256 MiB, or an eighth of the heap.
     */
    static final long POOL_BYTES = 256L << 20;

    /** The pool's cap in this JVM: {@link #POOL_BYTES}, or an eighth of a small heap. */
    static long poolBytes() {
        return Math.min(POOL_BYTES, Runtime.getRuntime().maxMemory() / 8);
    }

    @Override
    public boolean typed() {
        return true;
    }

    @Override
    public long maxBlockBytes(DType dtype) {
        return (long) MAX_ELEMENTS * dtype.byteSize();
    }

    @Override
    public String maxBlockReason() {
        return "Java arrays are int-indexed: at most " + MAX_ELEMENTS + " elements";
    }

    @Override
    public Object allocate(DType dtype, long bytes) {
        int n = (int) (bytes / dtype.byteSize());
        try {
            return switch (dtype) {
                case FLOAT32 -> new float[n];
                case FLOAT64 -> new double[n];
                case INT32 -> new int[n];
            };
        } catch (OutOfMemoryError e) {
            throw new DeviceOutOfMemoryException(String.format(Locale.ROOT, "no heap for an array of %,d bytes; the"
                    + " heap limit is %,d bytes (raise it with -Xmx)", bytes, Runtime.getRuntime().maxMemory()), e);
        }
    }

    /** The garbage collector frees the array once nothing refers to it. */
    @Override
    public void free(Object block) {
    }

    @Override
    public Platform platform(List<Object> liveBlocks) {
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
            return new Platform(afterGc,
                    "JVM heap in use after the last garbage collection (MemoryPoolMXBean collection usage)");
        }
        return new Platform(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                "JVM heap in use now, garbage included (MemoryMXBean; no pool reports usage after collection)");
    }
}
