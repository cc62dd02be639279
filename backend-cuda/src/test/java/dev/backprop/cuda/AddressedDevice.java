package dev.backprop.cuda;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

import java.lang.reflect.Field;

/**
 * A fake device for launch recorders: it hands out distinct addresses (4096 apart) and never touches memory, so
 * every pointer argument of a recorded launch is traceable to its buffer.
 */
final class AddressedDevice implements CudaMemory.Device {
    private long next = 0x10_0000;

    @Override
    public void enter() {
    }

    @Override
    public int allocate(CUdeviceptr pointer, long bytes) {
        try {
            Field f = NativePointerObject.class.getDeclaredField("nativePointer");
            f.setAccessible(true);
            f.setLong(pointer, next);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        next += Math.max(4096, bytes);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public int free(CUdeviceptr pointer) {
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public void synchronize() {
    }

    @Override
    public long totalBytes() {
        return 1L << 34;
    }

    @Override
    public long[] memoryInfo() {
        return new long[] {1L << 34, 1L << 34};
    }

    @Override
    public String name() {
        return "addressed fake GPU";
    }
}
