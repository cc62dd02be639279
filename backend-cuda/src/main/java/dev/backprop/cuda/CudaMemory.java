package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.base.RawMemory;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.List;

/**
 * The cuda backend's raw memory: {@code cuMemAlloc} and {@code cuMemFree} on the backend's context, made current
 * before every call ({@link #enter}). The platform figure is {@code cuMemGetInfo}'s used bytes, device-wide.
 *
 * <p>A block may be freed only once no queued work uses it: {@code cuMemFree} does not wait for the backend's
 * stream, so {@link #quiesce} synchronizes it first (the pool does that before it gives blocks back).
 */
final class CudaMemory implements RawMemory<CUdeviceptr> {
    /** The driver calls this makes (a seam, so the error mapping is tested without a GPU). */
    interface Device {
        /** Makes the context current on the calling thread. */
        void enter();

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

    /** The JCuda implementation for a context. */
    static Device of(CudaContext context) {
        return new Device() {
            @Override
            public void enter() {
                context.makeCurrent();
            }

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

    CudaMemory(Device device) {
        this.device = device;
    }

    /**
     * The pool's cap: a quarter of the device. A training loop's temporaries are far below it, so every step after
     * the first allocates nothing; a block beyond it costs a stream synchronization when it is freed.
     */
    long poolBytes() {
        return device.totalBytes() / 4;
    }

    @Override
    public void enter() {
        device.enter();
    }

    @Override
    public long maxBlockBytes(DType dtype) {
        return device.totalBytes();
    }

    @Override
    public String maxBlockReason() {
        return "the memory of " + device.name();
    }

    @Override
    public CUdeviceptr allocate(DType dtype, long bytes) {
        if (bytes == 0) {
            return null;
        }
        CUdeviceptr p = new CUdeviceptr();
        int rc = device.allocate(p, bytes);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new DeviceOutOfMemoryException("cuMemAlloc of " + MemoryStats.human(bytes) + " on " + device.name()
                    + " failed: " + freeMemory());
        }
        CudaCheck.check(rc, "cuMemAlloc(" + bytes + " bytes)");
        return p;
    }

    private String freeMemory() {
        try {
            long[] info = device.memoryInfo();
            return MemoryStats.human(info[0]) + " free of " + MemoryStats.human(info[1]);
        } catch (RuntimeException e) {
            return "free memory unknown";
        }
    }

    @Override
    public void free(CUdeviceptr block) {
        CudaCheck.check(device.free(block), "cuMemFree");
    }

    @Override
    public void quiesce() {
        device.synchronize();
    }

    @Override
    public Platform platform(List<CUdeviceptr> liveBlocks) {
        long[] info = device.memoryInfo();
        return new Platform(info[1] - info[0], "cuMemGetInfo (device-wide used bytes: this backend's blocks, cuBLAS"
                + " workspace and context, other processes)");
    }
}
