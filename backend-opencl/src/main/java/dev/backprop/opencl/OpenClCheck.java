package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.runtime.NativeLoader;
import org.jocl.CL;

/**
 * The one place where OpenCL status codes become the project's exceptions. Every JOCL call in this module
 * passes its status (the return value, or the {@code errcode_ret} slot of a create call) through
 * {@link #check(int, String)}, so a failure always names the call and the CL error name.
 *
 * <p>Out-of-memory codes ({@code CL_MEM_OBJECT_ALLOCATION_FAILURE}, {@code CL_OUT_OF_RESOURCES},
 * {@code CL_OUT_OF_HOST_MEMORY}) become {@link DeviceOutOfMemoryException}: drivers that allocate lazily report
 * them from the first enqueue that touches a buffer, not only from {@code clCreateBuffer}. Everything else is a
 * {@link BackendFailureException}.
 *
 * <p>This class also turns probe failures (a missing ICD loader, no platform) into user-facing reasons, see
 * {@link #unavailableReason(Throwable)}.
 */
final class OpenClCheck {
    /** The Debian/Ubuntu packages that provide an ICD loader and a CPU driver. */
    static final String INSTALL_HINT = "install the OpenCL ICD loader and a driver, e.g. "
            + "'apt-get install ocl-icd-libopencl1 pocl-opencl-icd' on Debian/Ubuntu (PoCL runs on the CPU), "
            + "or your GPU vendor's OpenCL driver";

    private OpenClCheck() {
    }

    /**
     * Throws when {@code status} is not {@code CL_SUCCESS}.
     *
     * @param status the status a JOCL call returned or stored in its {@code errcode_ret}
     * @param call   the OpenCL function name, e.g. {@code clEnqueueNDRangeKernel}
     * @throws DeviceOutOfMemoryException for the out-of-memory codes
     * @throws BackendFailureException    for every other error code
     */
    static void check(int status, String call) {
        if (status != CL.CL_SUCCESS) {
            throw failure(status, call, "");
        }
    }

    /** Like {@link #check(int, String)}, with more context (kernel name, sizes) appended to the message. */
    static void check(int status, String call, String context) {
        if (status != CL.CL_SUCCESS) {
            throw failure(status, call, context);
        }
    }

    /** The exception {@link #check} throws for {@code status}, for callers that must clean up first. */
    static RuntimeException failure(int status, String call, String context) {
        String msg = "opencl: " + call + " failed with " + errorName(status)
                + (context == null || context.isEmpty() ? "" : " (" + context + ")");
        if (isOutOfMemory(status)) {
            return new DeviceOutOfMemoryException(msg + ": the device ran out of memory");
        }
        return new BackendFailureException(msg);
    }

    /** Whether a status code means the device (or the host side of the driver) ran out of memory. */
    static boolean isOutOfMemory(int status) {
        return status == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL.CL_OUT_OF_RESOURCES
                || status == CL.CL_OUT_OF_HOST_MEMORY;
    }

    /** The symbolic name of a status code ({@code CL_INVALID_VALUE}), with the number when JOCL knows none. */
    static String errorName(int status) {
        String name;
        try {
            name = CL.stringFor_errorCode(status);
        } catch (LinkageError e) {
            name = null;
        }
        if (name == null || name.isEmpty() || name.startsWith("INVALID_ERROR_CODE")) {
            return "OpenCL error " + status;
        }
        return name + " (" + status + ")";
    }

    /**
     * A user-facing reason for a probe or create failure: what is missing and what to install. Knows the
     * failures JOCL produces when the ICD loader {@code libOpenCL.so.1} is absent, when JOCL itself is not on
     * the class path, and when its own native library cannot load.
     */
    static String unavailableReason(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        if (t instanceof NativeLoader.LoadError) {
            return "JOCL's native library was not loaded: " + msg;
        }
        if (t instanceof NoClassDefFoundError && msg.contains("org/jocl")) {
            return "JOCL (org.jocl:jocl) is not on the class path: " + msg;
        }
        if (t instanceof NoClassDefFoundError && msg.contains("org.jocl.CL")) {
            return "JOCL failed to initialize earlier in this JVM (its native library or libOpenCL.so.1 could "
                    + "not be loaded); " + INSTALL_HINT;
        }
        if (t instanceof UnsatisfiedLinkError) {
            if (msg.contains("OpenCL")) {
                return "no OpenCL ICD loader: libOpenCL.so.1 is missing (JOCL: " + msg + "); " + INSTALL_HINT;
            }
            return "JOCL's native library could not be loaded on this OS/architecture (" + msg + ")";
        }
        if (t instanceof OpenClUnavailableException) {
            return msg;
        }
        return "OpenCL probe failed: " + t;
    }

    /** A probe-time condition that makes OpenCL unusable here; its message is the user-facing reason. */
    static final class OpenClUnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        OpenClUnavailableException(String reason) {
            super(reason);
        }
    }
}
