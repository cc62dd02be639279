package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.base.RawMemory;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

import java.util.List;

/**
 * The opencl backend's raw memory: one {@code cl_mem} per block, created in the backend's context. Releasing a
 * {@code cl_mem} that queued commands still use is safe (OpenCL deletes it once they are done), so nothing waits.
 * The platform figure is the sum of {@code clGetMemObjectInfo(CL_MEM_SIZE)} over the live blocks.
 */
final class OpenClMemory implements RawMemory<cl_mem> {
    /** Most bytes kept in released blocks: creating and releasing a step's temporaries costs more than its kernels. */
    static final long POOL_BYTES = 256L << 20;

    private final OpenClRuntime rt;

    OpenClMemory(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** The pool's cap on this device: {@link #POOL_BYTES}, or an eighth of a small device's memory. */
    long poolBytes() {
        return Math.min(POOL_BYTES, rt.device.globalMemBytes() / 8);
    }

    @Override
    public long maxBlockBytes(DType dtype) {
        return rt.device.maxAllocBytes();
    }

    @Override
    public String maxBlockReason() {
        return "CL_DEVICE_MAX_MEM_ALLOC_SIZE of " + rt.device.label() + ", which has "
                + MemoryStats.human(rt.device.globalMemBytes()) + " of global memory";
    }

    @Override
    public cl_mem allocate(DType dtype, long bytes) {
        if (bytes == 0) {
            return null;
        }
        int[] err = new int[1];
        cl_mem mem = CL.clCreateBuffer(rt.context, CL.CL_MEM_READ_WRITE, bytes, null, err);
        if (OpenClCheck.isOutOfMemory(err[0]) || err[0] == CL.CL_INVALID_BUFFER_SIZE) {
            throw new DeviceOutOfMemoryException("clCreateBuffer of " + MemoryStats.human(bytes) + " on "
                    + rt.device.label() + " failed with " + OpenClCheck.errorName(err[0]));
        }
        OpenClCheck.check(err[0], "clCreateBuffer", MemoryStats.human(bytes));
        return mem;
    }

    @Override
    public void free(cl_mem block) {
        OpenClCheck.check(CL.clReleaseMemObject(block), "clReleaseMemObject");
    }

    @Override
    public Platform platform(List<cl_mem> liveBlocks) {
        long total = 0;
        long[] size = new long[1];
        for (cl_mem m : liveBlocks) {
            if (m != null) {
                OpenClCheck.check(CL.clGetMemObjectInfo(m, CL.CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null),
                        "clGetMemObjectInfo");
                total += size[0];
            }
        }
        return new Platform(total, "clGetMemObjectInfo(CL_MEM_SIZE) summed over the backend's live cl_mem objects");
    }
}
