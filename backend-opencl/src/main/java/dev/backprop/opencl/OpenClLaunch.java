package dev.backprop.opencl;

import dev.backprop.backend.DType;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * Sets a kernel's arguments in order and enqueues it: {@code launch.mem(x).offset(xo).i32(n).run1(n, 64)}.
 * Scalars of the element type go through {@link #real(double)}, which passes a {@code float}, {@code double}
 * or {@code int} as the program was built for. Offsets are element counts passed as {@code long}. Nothing here
 * waits for the device.
 */
final class OpenClLaunch {
    private final OpenClRuntime rt;
    private final cl_kernel kernel;
    private final String name;
    private final DType realType;
    private int index;

    OpenClLaunch(OpenClRuntime rt, cl_kernel kernel, String name, DType realType) {
        this.rt = rt;
        this.kernel = kernel;
        this.name = name;
        this.realType = realType;
    }

    /** A buffer argument; an empty buffer (no {@code cl_mem}) passes a null pointer the kernel never reads. */
    OpenClLaunch mem(OpenClBuffer buffer) {
        return mem(buffer.mem());
    }

    /** A memory-object argument; null passes a null pointer the kernel never reads. */
    OpenClLaunch mem(cl_mem m) {
        return set(Sizeof.cl_mem, m == null ? null : Pointer.to(m));
    }

    /** An {@code int} argument. */
    OpenClLaunch i32(int v) {
        return set(Sizeof.cl_int, Pointer.to(new int[] {v}));
    }

    /** A {@code long} argument (element offsets, counts and strides). */
    OpenClLaunch i64(long v) {
        return set(Sizeof.cl_long, Pointer.to(new long[] {v}));
    }

    /** A {@code REAL} argument: converted to the element type the program was built for. */
    OpenClLaunch real(double v) {
        return switch (realType) {
            case FLOAT32 -> set(Sizeof.cl_float, Pointer.to(new float[] {(float) v}));
            case FLOAT64 -> set(Sizeof.cl_double, Pointer.to(new double[] {v}));
            case INT32 -> i32((int) v);
        };
    }

    /** A {@code __local} scratch argument of {@code bytes} bytes. */
    OpenClLaunch local(long bytes) {
        return set(bytes, null);
    }

    private OpenClLaunch set(long size, Pointer value) {
        OpenClCheck.check(CL.clSetKernelArg(kernel, index, size, value), "clSetKernelArg",
                name + " argument " + index);
        index++;
        return this;
    }

    /** Enqueues over {@code global} work-items in groups of {@code local} (one dimension). */
    void run1(long global, long local) {
        run(new long[] {roundUp(global, local)}, new long[] {local});
    }

    /** Enqueues an NDRange; each global size must be a multiple of its local size. */
    void run(long[] global, long[] local) {
        OpenClCheck.check(CL.clEnqueueNDRangeKernel(rt.queue, kernel, global.length, null, global, local, 0, null,
                null), "clEnqueueNDRangeKernel", name + " global " + java.util.Arrays.toString(global) + " local "
                + java.util.Arrays.toString(local));
        rt.launched();
    }

    /** The smallest multiple of {@code m} that is at least {@code n} (at least {@code m}). */
    static long roundUp(long n, long m) {
        return Math.max(1, (n + m - 1) / m) * m;
    }
}
