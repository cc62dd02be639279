package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import org.jocl.cl_mem;

/**
 * A buffer of an {@link OpenClBackend}: one {@code cl_mem} holding {@link #size()} elements. A buffer of zero
 * elements has no {@code cl_mem} (OpenCL rejects empty buffers); every op skips empty ranges before touching it.
 *
 * <p>Offsets are passed to kernels as element counts, never as sub-buffers: sub-buffer origins must be aligned
 * to {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN}, which an arbitrary view offset is not.
 */
final class OpenClBuffer implements Buffer {
    private final OpenClBackend backend;
    private final DType dtype;
    private final long size;
    private cl_mem mem;
    private volatile boolean released;

    OpenClBuffer(OpenClBackend backend, DType dtype, long size, cl_mem mem) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.mem = mem;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReleased() {
        return released;
    }

    /** Size in bytes. */
    long bytes() {
        return size * dtype.byteSize();
    }

    /** The memory object; null for an empty buffer. Only called under the backend's lock on a live buffer. */
    cl_mem mem() {
        return mem;
    }

    /** Marks the buffer released and hands back its memory object for the backend to free (null if none). */
    cl_mem detach() {
        released = true;
        cl_mem m = mem;
        mem = null;
        return m;
    }

    @Override
    public String toString() {
        return "OpenClBuffer[" + dtype + " x " + size + (released ? ", released" : "") + "]";
    }
}
