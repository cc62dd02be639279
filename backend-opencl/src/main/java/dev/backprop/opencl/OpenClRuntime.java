package dev.backprop.opencl;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceType;
import org.jocl.CL;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;

/**
 * What every op family needs: the device, its context, the one in-order command queue and the program cache,
 * plus the launch geometry chosen for the device type. In-order execution is what makes results of one op
 * visible to the next without events or host waits; only {@link #finish()} waits.
 */
final class OpenClRuntime implements AutoCloseable {
    final OpenClDevice device;
    final cl_context context;
    final cl_command_queue queue;
    final OpenClPrograms programs;
    /**
     * Work-group size of the reduction and softmax kernels (a power of two): 64 on CPU devices, where a group
     * runs as one loop on one core and a larger group only adds idle iterations on short rows; 256 elsewhere.
     */
    final int reduceGroupSize;
    /** Work-group size of the one-element-per-work-item kernels. */
    final int elementwiseGroupSize;
    /** Kernels enqueued so far (each under the backend's lock). */
    private long launches;

    private OpenClRuntime(OpenClDevice device, cl_context context, cl_command_queue queue) {
        this.device = device;
        this.context = context;
        this.queue = queue;
        this.programs = new OpenClPrograms(context, device);
        int cap = Integer.highestOneBit((int) Math.min(1024, Math.max(1, device.maxWorkGroupSize())));
        this.reduceGroupSize = Math.min(device.type() == DeviceType.CPU ? 64 : 256, cap);
        this.elementwiseGroupSize = Math.min(256, cap);
    }

    /** Creates a context and an in-order queue on {@code device}. */
    @SuppressWarnings("deprecation") // clCreateCommandQueue: the OpenCL 1.2 call, which 2.x/3.x drivers keep
    static OpenClRuntime open(OpenClDevice device) {
        int[] err = new int[1];
        cl_context context = CL.clCreateContext(null, 1, new cl_device_id[] {device.id()}, null, null, err);
        OpenClCheck.check(err[0], "clCreateContext", device.label());
        cl_command_queue queue = CL.clCreateCommandQueue(context, device.id(), 0, err);
        if (err[0] != CL.CL_SUCCESS) {
            CL.clReleaseContext(context);
            throw OpenClCheck.failure(err[0], "clCreateCommandQueue", device.label());
        }
        return new OpenClRuntime(device, context, queue);
    }

    /** A launch of {@code kernel} from {@code source} built for {@code type} with {@code extraOptions}. */
    OpenClLaunch launch(String source, String extraOptions, DType type, String kernel) {
        String options = OpenClPrograms.typeOptions(type) + (extraOptions.isEmpty() ? "" : " " + extraOptions);
        return new OpenClLaunch(this, programs.kernel(source, options, kernel), kernel, type);
    }

    /** Counts a kernel enqueued by {@link OpenClLaunch}. */
    void launched() {
        launches++;
    }

    /** Kernels enqueued since the runtime was opened: what a training step costs in launches. */
    long launches() {
        return launches;
    }

    /** Build options carrying {@link #reduceGroupSize}. */
    String reduceOptions() {
        return "-DLS=" + reduceGroupSize;
    }

    /** Waits until every queued command has finished. */
    void finish() {
        OpenClCheck.check(CL.clFinish(queue), "clFinish");
    }

    /** Finishes the queue, then releases programs, queue and context; reports the first failure after all. */
    @Override
    public void close() {
        RuntimeException first = null;
        try {
            finish();
        } catch (RuntimeException e) {
            first = e;
        }
        try {
            programs.close();
        } catch (RuntimeException e) {
            first = first == null ? e : first;
        }
        int queueStatus = CL.clReleaseCommandQueue(queue);
        int contextStatus = CL.clReleaseContext(context);
        if (first == null && queueStatus != CL.CL_SUCCESS) {
            first = OpenClCheck.failure(queueStatus, "clReleaseCommandQueue", "");
        }
        if (first == null && contextStatus != CL.CL_SUCCESS) {
            first = OpenClCheck.failure(contextStatus, "clReleaseContext", "");
        }
        if (first != null) {
            throw first;
        }
    }
}
