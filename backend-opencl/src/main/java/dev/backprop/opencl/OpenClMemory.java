package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Buffers of one backend: allocation with out-of-memory mapping, release, host transfers, device copies and
 * fills, and the accounting behind {@link #stats()}. The backend calls it under its lock.
 *
 * <p>Downloads to Java arrays are blocking ({@code blocking_read} true): a download must see all queued work.
 * Uploads go through {@link OpenClStaging} and do not wait. Copies and fills are queued like kernels.
 */
final class OpenClMemory {
    /** Most bytes kept in released {@code cl_mem} objects for reuse (see {@link #release}). */
    static final long CACHE_LIMIT = 256L << 20;

    private final OpenClRuntime rt;
    private final Set<OpenClBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long liveBytes;
    /** Released {@code cl_mem} objects by exact size: a training step allocates the same sizes every time. */
    private final Map<Long, ArrayDeque<cl_mem>> cache = new HashMap<>();
    private final long cacheLimit;
    private long cachedBytes;

    OpenClMemory(OpenClRuntime rt) {
        this.rt = rt;
        this.cacheLimit = Math.min(CACHE_LIMIT, rt.device.globalMemBytes() / 8);
    }

    /**
     * A new buffer; sizes over {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE} are refused before calling the driver.
     *
     * @throws DeviceOutOfMemoryException when the size exceeds the device limits or the driver reports an
     *                                    allocation failure; nothing is allocated or counted then
     */
    OpenClBuffer allocate(OpenClBackend owner, DType dtype, long elements) {
        long bytes = elements > Long.MAX_VALUE / dtype.byteSize() ? Long.MAX_VALUE : elements * dtype.byteSize();
        if (bytes > rt.device.maxAllocBytes()) {
            throw new DeviceOutOfMemoryException(String.format("opencl: cannot allocate %d %s elements (%s) on %s: "
                    + "the largest single buffer the device allows is %s (CL_DEVICE_MAX_MEM_ALLOC_SIZE), of %s "
                    + "global memory", elements, dtype, human(bytes), rt.device.label(),
                    human(rt.device.maxAllocBytes()), human(rt.device.globalMemBytes())));
        }
        cl_mem mem = bytes > 0 ? reuse(bytes) : null;
        if (bytes > 0 && mem == null) {
            int[] err = new int[1];
            mem = CL.clCreateBuffer(rt.context, CL.CL_MEM_READ_WRITE, bytes, null, err);
            if (err[0] != CL.CL_SUCCESS && OpenClCheck.isOutOfMemory(err[0]) && cachedBytes > 0) {
                releaseCache(); // what the cache holds may be what the device is missing
                mem = CL.clCreateBuffer(rt.context, CL.CL_MEM_READ_WRITE, bytes, null, err);
            }
            if (err[0] != CL.CL_SUCCESS && (OpenClCheck.isOutOfMemory(err[0]) || err[0] == CL.CL_INVALID_BUFFER_SIZE)) {
                throw new DeviceOutOfMemoryException("opencl: clCreateBuffer of " + human(bytes) + " on "
                        + rt.device.label() + " failed with " + OpenClCheck.errorName(err[0]) + "; live: " + live.size()
                        + " buffers, " + human(liveBytes));
            }
            OpenClCheck.check(err[0], "clCreateBuffer", human(bytes));
        }
        OpenClBuffer b = new OpenClBuffer(owner, dtype, elements, mem);
        live.add(b);
        liveBytes += b.bytes();
        return b;
    }

    /** A cached {@code cl_mem} of exactly {@code bytes}, or null. */
    private cl_mem reuse(long bytes) {
        ArrayDeque<cl_mem> list = cache.get(bytes);
        if (list == null || list.isEmpty()) {
            return null;
        }
        cachedBytes -= bytes;
        return list.pop();
    }

    /**
     * Frees a buffer; a released buffer (or one of another backend's generation) is ignored. Its {@code cl_mem}
     * is kept for the next allocation of the same size while the cache holds at most {@link #CACHE_LIMIT} bytes
     * (an eighth of the device's memory on a small device): creating and releasing {@code cl_mem} objects for a
     * step's fifteen temporaries costs more than the step's small kernels on some drivers. Commands still queued
     * on the buffer are safe: the queue is in order, so the next owner's commands run after them.
     */
    void release(OpenClBuffer b) {
        if (!live.remove(b)) {
            return;
        }
        liveBytes -= b.bytes();
        cl_mem mem = b.detach();
        if (mem == null) {
            return;
        }
        if (cachedBytes + b.bytes() <= cacheLimit) {
            cache.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(mem);
            cachedBytes += b.bytes();
        } else {
            OpenClCheck.check(CL.clReleaseMemObject(mem), "clReleaseMemObject");
        }
    }

    /** Returns every cached {@code cl_mem} to the driver. */
    void releaseCache() {
        RuntimeException first = null;
        for (ArrayDeque<cl_mem> list : cache.values()) {
            while (!list.isEmpty()) {
                int rc = CL.clReleaseMemObject(list.pop());
                if (rc != CL.CL_SUCCESS && first == null) {
                    first = OpenClCheck.failure(rc, "clReleaseMemObject", "cached buffer");
                }
            }
        }
        cache.clear();
        cachedBytes = 0;
        if (first != null) {
            throw first;
        }
    }

    /** Bytes held in released {@code cl_mem} objects kept for reuse. */
    long cachedBytes() {
        return cachedBytes;
    }

    /** Releases every live buffer and the cache (backend close); reports the first failure after trying all. */
    void releaseAll() {
        RuntimeException first = null;
        for (OpenClBuffer b : new ArrayList<>(live)) {
            try {
                release(b);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        try {
            releaseCache();
        } catch (RuntimeException e) {
            first = first == null ? e : first;
        }
        if (first != null) {
            throw first;
        }
    }

    void read(OpenClBuffer src, long srcOffset, Pointer dst, long length) {
        if (length == 0) {
            return;
        }
        int size = src.dtype().byteSize();
        OpenClCheck.check(CL.clEnqueueReadBuffer(rt.queue, src.mem(), true, srcOffset * size, length * size, dst, 0,
                null, null), "clEnqueueReadBuffer");
    }

    /** Device copy; an identical source and destination range is a no-op (OpenCL rejects overlapping copies). */
    void copy(OpenClBuffer src, long srcOffset, OpenClBuffer dst, long dstOffset, long length) {
        if (length == 0 || src == dst && srcOffset == dstOffset) {
            return;
        }
        int size = src.dtype().byteSize();
        OpenClCheck.check(CL.clEnqueueCopyBuffer(rt.queue, src.mem(), dst.mem(), srcOffset * size, dstOffset * size,
                length * size, 0, null, null), "clEnqueueCopyBuffer");
    }

    /** Sets {@code length} elements to {@code value} with {@code clEnqueueFillBuffer} and a one-element pattern. */
    void fill(OpenClBuffer dst, long offset, long length, double value) {
        if (length == 0) {
            return;
        }
        DType dt = dst.dtype();
        Pointer pattern = switch (dt) {
            case FLOAT32 -> Pointer.to(new float[] {(float) value});
            case FLOAT64 -> Pointer.to(new double[] {value});
            case INT32 -> Pointer.to(new int[] {(int) value});
        };
        int size = dt.byteSize();
        OpenClCheck.check(CL.clEnqueueFillBuffer(rt.queue, dst.mem(), pattern, size, offset * size, length * size, 0,
                null, null), "clEnqueueFillBuffer");
    }

    /**
     * Live buffers and bytes as counted here, and as the platform reports them: the sum of
     * {@code clGetMemObjectInfo(CL_MEM_SIZE)} over the live {@code cl_mem} objects (empty buffers have none).
     */
    MemoryStats stats() {
        long platform = 0;
        for (OpenClBuffer b : live) {
            if (b.mem() != null) {
                long[] size = new long[1];
                OpenClCheck.check(CL.clGetMemObjectInfo(b.mem(), CL.CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null),
                        "clGetMemObjectInfo");
                platform += size[0];
            }
        }
        return new MemoryStats(live.size(), liveBytes, platform,
                "clGetMemObjectInfo(CL_MEM_SIZE) summed over the backend's live cl_mem objects");
    }

    static String human(long bytes) {
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
        return String.format("%.1f %s", v, units[u]);
    }
}
