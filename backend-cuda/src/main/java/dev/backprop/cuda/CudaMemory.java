package dev.backprop.cuda;

import dev.backprop.backend.DeviceOutOfMemoryException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A caching device allocator: freed blocks go to a free list per size class and are handed out again, so a
 * training loop that allocates the same shapes every step calls {@code cuMemAlloc} only in its first step.
 *
 * <p>Reuse is safe without synchronization because every use of device memory is queued on the backend's
 * single stream: work queued after a block is handed out again runs after the work that used it before.
 * Blocks go back to the driver only when an allocation fails (the cache is emptied and the allocation retried
 * once) and on close. Not thread-safe; {@link CudaBackend} serializes access.
 */
final class CudaMemory {
    /** Smallest block, and the granularity of small classes. */
    static final long MIN_BLOCK = 512;
    /** From here on, classes are multiples of 2 MiB (large tensors are few and their sizes repeat). */
    static final long LARGE = 64L << 20;

    /** A device allocation of {@code bytes} (its size class). */
    record Block(CUdeviceptr pointer, long bytes) {
    }

    /** The driver calls the allocator makes (a seam, so the caching logic is tested without a GPU). */
    interface Device {
        /** {@code cuMemAlloc}; returns the CUDA result code. */
        int allocate(CUdeviceptr pointer, long bytes);

        /** {@code cuMemFree}; returns the CUDA result code. */
        int free(CUdeviceptr pointer);

        /** Waits until no queued work can still use a block. */
        void synchronize();

        /** Total device memory in bytes. */
        long totalBytes();

        /** {@code {free, total}} bytes as the driver reports them now. */
        long[] memoryInfo();

        /** The device's name, for messages. */
        String name();
    }

    /** The JCuda implementation for a context (which must be current). */
    static Device of(CudaContext context) {
        return new Device() {
            @Override
            public int allocate(CUdeviceptr pointer, long bytes) {
                return JCudaDriver.cuMemAlloc(pointer, bytes);
            }

            @Override
            public int free(CUdeviceptr pointer) {
                return JCudaDriver.cuMemFree(pointer);
            }

            @Override
            public void synchronize() {
                context.synchronize();
            }

            @Override
            public long totalBytes() {
                return context.facts.memoryBytes();
            }

            @Override
            public long[] memoryInfo() {
                return context.memoryInfo();
            }

            @Override
            public String name() {
                return context.facts.name();
            }
        };
    }

    private final Device device;
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private long cachedBytes;
    private long reservedBytes;

    CudaMemory(Device device) {
        this.device = device;
    }

    /**
     * The size class of a request: at least {@code bytes}; below {@link #LARGE} one of 16 steps per power of
     * two (at most 1/16 wasted, plus rounding to {@link #MIN_BLOCK}), above it a multiple of 2 MiB.
     */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        if (bytes >= LARGE) {
            long unit = 2L << 20;
            return Math.addExact(bytes, unit - 1) / unit * unit;
        }
        long below = Long.highestOneBit(bytes - 1);
        long step = Math.max(MIN_BLOCK, below / 16);
        return (bytes + step - 1) / step * step;
    }

    /**
     * A block of at least {@code bytes}, from the cache or the driver.
     *
     * @throws DeviceOutOfMemoryException when it exceeds the device, or still does not fit after the cache was
     *                                    emptied; nothing is allocated then
     */
    Block allocate(long bytes) {
        if (bytes > device.totalBytes()) {
            throw outOfMemory(bytes, bytes);
        }
        long size = sizeClass(bytes);
        ArrayDeque<CUdeviceptr> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            cachedBytes -= size;
            return new Block(list.pop(), size);
        }
        if (size > device.totalBytes()) {
            throw outOfMemory(bytes, size);
        }
        CUdeviceptr p = new CUdeviceptr();
        int rc = device.allocate(p, size);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            trim();
            rc = device.allocate(p, size);
        }
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw outOfMemory(bytes, size);
        }
        CudaCheck.check(rc, "cuMemAlloc(" + size + " bytes)");
        reservedBytes += size;
        return new Block(p, size);
    }

    private DeviceOutOfMemoryException outOfMemory(long bytes, long size) {
        String state;
        try {
            long[] info = device.memoryInfo();
            state = mib(info[0]) + " free of " + mib(info[1]);
        } catch (RuntimeException e) {
            state = "free memory unknown";
        }
        return new DeviceOutOfMemoryException("cuda: cannot allocate " + bytes + " bytes (" + mib(size)
                + " block) on " + device.name() + ": " + state + " after emptying this backend's cache, which "
                + "holds " + mib(reservedBytes - cachedBytes) + " in live buffers; release tensors or use "
                + "smaller batches");
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /** Returns a block to its free list. */
    void free(Block block) {
        free.computeIfAbsent(block.bytes(), k -> new ArrayDeque<>()).push(block.pointer());
        cachedBytes += block.bytes();
    }

    /** Waits for queued work (which may still use cached blocks), then returns every cached block to the driver. */
    void trim() {
        device.synchronize();
        for (Map.Entry<Long, ArrayDeque<CUdeviceptr>> e : free.entrySet()) {
            while (!e.getValue().isEmpty()) {
                CudaCheck.check(device.free(e.getValue().peek()), "cuMemFree");
                e.getValue().pop();
                reservedBytes -= e.getKey();
                cachedBytes -= e.getKey();
            }
        }
        free.clear();
    }

    /** Bytes in free lists. */
    long cachedBytes() {
        return cachedBytes;
    }

    /** Bytes obtained from the driver and not yet given back (live plus cached). */
    long reservedBytes() {
        return reservedBytes;
    }

    /** Gives a live block straight back to the driver (on close, for buffers the user never released). */
    void destroy(Block block) {
        CudaCheck.check(device.free(block.pointer()), "cuMemFree");
        reservedBytes -= block.bytes();
    }
}
