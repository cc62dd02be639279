package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.BaseBuffer;
import dev.backprop.backend.base.MemoryPool;
import org.jocl.cl_mem;

/**
 * A buffer of an {@link OpenClBackend}: its block is one {@code cl_mem}, at least as large as the buffer (the pool
 * rounds sizes up to a class). A buffer of zero elements has no {@code cl_mem} (OpenCL rejects empty buffers); the
 * skeleton never hands an empty range to an op.
 *
 * <p>Offsets are passed to kernels as element counts, never as sub-buffers: sub-buffer origins must be aligned
 * to {@code CL_DEVICE_MEM_BASE_ADDR_ALIGN}, which an arbitrary view offset is not.
 */
final class OpenClBuffer extends BaseBuffer<cl_mem> {
    OpenClBuffer(BaseBackend<cl_mem, OpenClBuffer> owner, DType dtype, long size, MemoryPool.Block<cl_mem> block) {
        super(owner, dtype, size, block);
    }

    /** The memory object; null for an empty buffer. */
    cl_mem mem() {
        return memory();
    }
}
