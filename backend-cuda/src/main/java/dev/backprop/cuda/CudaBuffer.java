package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.BaseBuffer;
import dev.backprop.backend.base.MemoryPool;
import jcuda.driver.CUdeviceptr;

/**
 * A buffer in device memory: its block is a device allocation at least as large as the buffer (none for zero
 * elements). Offsets into it are turned into device pointers with {@code withByteOffset}, so no operand is ever
 * copied to reach a view.
 */
final class CudaBuffer extends BaseBuffer<CUdeviceptr> {
    CudaBuffer(BaseBackend<CUdeviceptr, CudaBuffer> owner, DType dtype, long size,
               MemoryPool.Block<CUdeviceptr> block) {
        super(owner, dtype, size, block);
    }

    /** The device address of element {@code offset}. */
    CUdeviceptr at(long offset) {
        CUdeviceptr p = memory();
        if (p == null) {
            return new CUdeviceptr();
        }
        return offset == 0 ? p : p.withByteOffset(offset * dtype().byteSize());
    }
}
