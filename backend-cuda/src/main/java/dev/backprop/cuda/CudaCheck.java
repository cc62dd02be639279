package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.DeviceOutOfMemoryException;
import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;

/**
 * The one place native result codes become exceptions: every driver and cuBLAS call in this module goes
 * through {@link #check} or {@link #checkCublas}, and the message names the call and the CUDA error name.
 * (JCuda's own exception mode stays off: it is a JVM-wide switch, and codes are easier to map precisely.)
 */
final class CudaCheck {
    private CudaCheck() {
    }

    /** Throws unless {@code result} is {@code CUDA_SUCCESS}. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(result, call);
        }
    }

    /** The exception for a failed driver call: {@link DeviceOutOfMemoryException} for out-of-memory. */
    static BackpropException failure(int result, String call) {
        String name = CUresult.stringFor(result);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            return new DeviceOutOfMemoryException("cuda: " + call + " failed: " + name);
        }
        return new BackendFailureException("cuda: " + call + " failed: " + name + " (" + result + ")"
                + (isSticky(result) ? "; an earlier kernel or copy failed and the CUDA context is now unusable: "
                + "close this backend" : ""));
    }

    /** Throws unless {@code status} is {@code CUBLAS_STATUS_SUCCESS}. */
    static void checkCublas(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            String hint = status == cublasStatus.CUBLAS_STATUS_NOT_SUPPORTED
                    ? " (through the libcublas.so.12 shim this also means the function is missing from cuBLAS 13)" : "";
            if (status == cublasStatus.CUBLAS_STATUS_ALLOC_FAILED) {
                throw new DeviceOutOfMemoryException("cuda: " + call + " failed: cuBLAS could not allocate its "
                        + "workspace (CUBLAS_STATUS_ALLOC_FAILED) even after the memory cache was emptied");
            }
            throw new BackendFailureException("cuda: " + call + " failed: " + cublasStatus.stringFor(status) + hint);
        }
    }

    /** Errors after which the context cannot be used again (CUDA's "sticky" errors). */
    static boolean isSticky(int result) {
        return result == CUresult.CUDA_ERROR_ILLEGAL_ADDRESS || result == CUresult.CUDA_ERROR_LAUNCH_FAILED
                || result == CUresult.CUDA_ERROR_MISALIGNED_ADDRESS || result == CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION
                || result == CUresult.CUDA_ERROR_INVALID_PC || result == CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR
                || result == CUresult.CUDA_ERROR_ASSERT || result == CUresult.CUDA_ERROR_LAUNCH_TIMEOUT;
    }
}
