package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.base.OpFamilies;
import org.jocl.CL;
import org.jocl.Pointer;

/**
 * Transfers, copies and fills of the opencl backend. Uploads go through {@link OpenClStaging} and do not wait;
 * downloads are blocking ({@code blocking_read} true), so they see all queued work; copies and fills are queued
 * like kernels.
 */
final class OpenClTransfers implements OpFamilies.Transfers<OpenClBuffer> {
    private final OpenClRuntime rt;
    private final OpenClStaging staging;

    OpenClTransfers(OpenClRuntime rt, OpenClStaging staging) {
        this.rt = rt;
        this.staging = staging;
    }

    @Override
    public void upload(HostArray src, OpenClBuffer dst, long dstOffset) {
        int size = dst.dtype().byteSize();
        staging.write(src, dst.mem(), dstOffset * size);
    }

    @Override
    public void download(OpenClBuffer src, long srcOffset, HostArray dst) {
        int size = src.dtype().byteSize();
        Object a = dst.array();
        Pointer host = a instanceof float[] f ? Pointer.to(f) : a instanceof double[] d ? Pointer.to(d)
                : Pointer.to((int[]) a);
        OpenClCheck.check(CL.clEnqueueReadBuffer(rt.queue, src.mem(), true, srcOffset * size, dst.bytes(),
                host.withByteOffset(dst.byteOffset()), 0, null, null), "clEnqueueReadBuffer");
    }

    /** OpenCL rejects overlapping copies; the skeleton never passes an identical range. */
    @Override
    public void copy(OpenClBuffer src, long srcOffset, OpenClBuffer dst, long dstOffset, long length) {
        int size = src.dtype().byteSize();
        OpenClCheck.check(CL.clEnqueueCopyBuffer(rt.queue, src.mem(), dst.mem(), srcOffset * size, dstOffset * size,
                length * size, 0, null, null), "clEnqueueCopyBuffer");
    }

    /** {@code clEnqueueFillBuffer} with a one-element pattern. */
    @Override
    public void fill(OpenClBuffer dst, long offset, long length, double value) {
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

    @Override
    public void synchronize() {
        rt.finish();
    }
}
