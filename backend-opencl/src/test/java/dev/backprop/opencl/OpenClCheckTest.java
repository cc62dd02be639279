package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DeviceOutOfMemoryException;
import org.jocl.CL;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Status codes become the project's exceptions with the call and the CL error name; probe failures become
 *  reasons that say what to install. */
class OpenClCheckTest {
    @Test
    void successPasses() {
        assertDoesNotThrow(() -> OpenClCheck.check(CL.CL_SUCCESS, "clFinish"));
    }

    @Test
    void errorNamesTheCallAndTheCode() {
        OpenClTestSupport.requireOpenCl(); // JOCL's name table needs its native library
        BackendFailureException e = assertThrows(BackendFailureException.class,
                () -> OpenClCheck.check(CL.CL_INVALID_KERNEL_ARGS, "clEnqueueNDRangeKernel", "gemm"));
        assertTrue(e.getMessage().contains("clEnqueueNDRangeKernel")
                && e.getMessage().contains("CL_INVALID_KERNEL_ARGS")
                && e.getMessage().contains("gemm"), e.getMessage());
    }

    @Test
    void allocationFailuresAreOutOfMemory() {
        for (int code : new int[] {CL.CL_MEM_OBJECT_ALLOCATION_FAILURE, CL.CL_OUT_OF_RESOURCES,
                CL.CL_OUT_OF_HOST_MEMORY}) {
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> OpenClCheck.check(code, "clEnqueueWriteBuffer"));
            assertTrue(e.getMessage().contains("clEnqueueWriteBuffer") && e.getMessage().contains("out of memory"),
                    e.getMessage());
        }
    }

    @Test
    void unknownCodeStillHasItsNumber() {
        assertTrue(OpenClCheck.errorName(-123456).contains("-123456"), OpenClCheck.errorName(-123456));
    }

    @Test
    void missingIcdLoaderReason() {
        // The error JOCL 2.0.6 throws when neither libOpenCL.so nor libOpenCL.so.1 can be loaded.
        String reason = OpenClCheck.unavailableReason(new UnsatisfiedLinkError(
                "Could not initialize native OpenCL library. Implementation library could not be loaded"));
        assertTrue(reason.contains("libOpenCL.so.1") && reason.contains("ocl-icd-libopencl1")
                && reason.contains("pocl-opencl-icd"), reason);
    }

    @Test
    void otherLinkFailuresAreNamed() {
        String reason = OpenClCheck.unavailableReason(new UnsatisfiedLinkError("no JOCL_2_0_6-linux-riscv64"));
        assertTrue(reason.contains("JOCL's native library") && reason.contains("riscv64"), reason);
        String missing = OpenClCheck.unavailableReason(new NoClassDefFoundError("org/jocl/CL"));
        assertTrue(missing.contains("org.jocl:jocl"), missing);
    }
}
