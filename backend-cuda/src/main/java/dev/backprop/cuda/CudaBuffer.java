package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import jcuda.driver.CUdeviceptr;

/**
 * A buffer in device memory: a block from {@link CudaMemory} (none for zero elements). Offsets into it are
 * turned into device pointers with {@code withByteOffset}, so no operand is ever copied to reach a view.
 */
final class CudaBuffer implements Buffer {
    private final CudaBackend backend;
    private final DType dtype;
    private final long size;
    private final CudaMemory.Block block;
    private volatile boolean released;

    CudaBuffer(CudaBackend backend, DType dtype, long size, CudaMemory.Block block) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.block = block;
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

    /** The device memory, or null for an empty buffer. */
    CudaMemory.Block block() {
        return block;
    }

    /** Bytes the buffer's elements occupy (not its block's size class). */
    long bytes() {
        return size * dtype.byteSize();
    }

    /** Marks the buffer released; returns false when it already was. */
    boolean markReleased() {
        if (released) {
            return false;
        }
        released = true;
        return true;
    }

    /** The device address of element {@code offset}. */
    CUdeviceptr at(long offset) {
        if (block == null) {
            return new CUdeviceptr();
        }
        return offset == 0 ? block.pointer() : block.pointer().withByteOffset(offset * dtype.byteSize());
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + dtype + " x " + size + (released ? ", released" : "") + "]";
    }
}
