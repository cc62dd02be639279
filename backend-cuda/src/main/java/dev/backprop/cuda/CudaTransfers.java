package dev.backprop.cuda;

import dev.backprop.backend.HostArray;
import dev.backprop.backend.base.OpFamilies;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Transfers, copies and fills of the cuda backend, all on its stream. Uploads go through pinned staging memory
 * ({@link CudaStaging}) and return at once; a download waits for the stream, then copies synchronously (nothing
 * can be writing the source any more). 32-bit fills are {@code cuMemsetD32Async} (the value's bit pattern), FLOAT64
 * fills a kernel.
 */
record CudaTransfers(CudaContext context, CudaStaging staging, CudaLaunch launch)
        implements OpFamilies.Transfers<CudaBuffer> {

    @Override
    public void upload(HostArray src, CudaBuffer dst, long dstOffset) {
        staging.upload(src, dst.at(dstOffset));
    }

    @Override
    public void download(CudaBuffer src, long srcOffset, HostArray dst) {
        synchronize();
        Object a = dst.array();
        Pointer host = a instanceof float[] f ? Pointer.to(f) : a instanceof double[] d ? Pointer.to(d)
                : Pointer.to((int[]) a);
        CudaCheck.check(JCudaDriver.cuMemcpyDtoH(host.withByteOffset(dst.byteOffset()), src.at(srcOffset),
                dst.bytes()), "cuMemcpyDtoH");
    }

    @Override
    public void copy(CudaBuffer src, long srcOffset, CudaBuffer dst, long dstOffset, long length) {
        CudaCheck.check(JCudaDriver.cuMemcpyDtoDAsync(dst.at(dstOffset), src.at(srcOffset),
                length * src.dtype().byteSize(), context.stream), "cuMemcpyDtoDAsync");
    }

    @Override
    public void fill(CudaBuffer dst, long offset, long length, double value) {
        switch (dst.dtype()) {
            case FLOAT32 -> CudaCheck.check(JCudaDriver.cuMemsetD32Async(dst.at(offset),
                    Float.floatToRawIntBits((float) value), length, context.stream), "cuMemsetD32Async");
            case INT32 -> CudaCheck.check(JCudaDriver.cuMemsetD32Async(dst.at(offset), (int) value, length,
                    context.stream), "cuMemsetD32Async");
            case FLOAT64 -> launch.elementwise(CudaKernel.FILL_F64, length, dst.at(offset), length, value);
        }
    }

    /** Waits for the stream; then no copy reads the staging ring any more. */
    @Override
    public void synchronize() {
        context.synchronize();
        staging.idle();
    }
}
