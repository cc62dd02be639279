package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DeviceOutOfMemoryException;
import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Result codes to exceptions: out-of-memory from the driver and from cuBLAS, sticky errors, the call named. */
class CudaCheckTest {
    @Test
    void driverCodes() {
        assertDoesNotThrow(() -> CudaCheck.check(CUresult.CUDA_SUCCESS, "cuMemAlloc"));
        DeviceOutOfMemoryException oom = assertThrows(DeviceOutOfMemoryException.class,
                () -> CudaCheck.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(64 bytes)"));
        assertTrue(oom.getMessage().contains("cuMemAlloc(64 bytes)"), oom.getMessage());
        BackendFailureException sticky = assertThrows(BackendFailureException.class,
                () -> CudaCheck.check(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "cuStreamSynchronize"));
        assertTrue(sticky.getMessage().contains("context is now unusable"), sticky.getMessage());
    }

    @Test
    void cublasCodes() {
        assertDoesNotThrow(() -> CudaCheck.checkCublas(cublasStatus.CUBLAS_STATUS_SUCCESS, "cublasSgemm"));
        DeviceOutOfMemoryException oom = assertThrows(DeviceOutOfMemoryException.class,
                () -> CudaCheck.checkCublas(cublasStatus.CUBLAS_STATUS_ALLOC_FAILED, "cublasSgemm(m=1, n=2, k=3)"));
        assertTrue(oom.getMessage().contains("cublasSgemm(m=1, n=2, k=3)") && oom.getMessage().contains("workspace"),
                oom.getMessage());
        BackendFailureException other = assertThrows(BackendFailureException.class,
                () -> CudaCheck.checkCublas(cublasStatus.CUBLAS_STATUS_NOT_SUPPORTED, "cublasSgemm"));
        assertTrue(other.getMessage().contains("shim"), other.getMessage());
    }
}
