package dev.backprop.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasAtomicsMode;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasPointerMode;
import jcuda.runtime.cudaStream_t;

import java.util.ArrayList;
import java.util.List;

/**
 * The native state one {@link CudaBackend} owns: the device's primary context (shared with cuBLAS, which
 * uses the runtime API and therefore the primary context), one non-blocking stream on which every copy,
 * kernel and cuBLAS call of the backend is queued in call order, the loaded kernels and a cuBLAS handle bound
 * to that stream.
 *
 * <p>cuBLAS math mode: {@code CUBLAS_DEFAULT_MATH} keeps SGEMM in exact float32 (no TF32), like the other
 * backends; precision {@code tf32} ({@link CudaPrecision}) selects {@code CUBLAS_TF32_TENSOR_OP_MATH}. Atomics stay
 * disallowed unless {@code backprop.cuda.deterministic=false}, so GEMMs are bit-reproducible run to run.
 */
final class CudaContext implements AutoCloseable {
    final CudaDeviceFacts facts;
    final CUdevice device = new CUdevice();
    final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    final cublasHandle cublas = new cublasHandle();
    private CudaModules modules;
    private KernelParams params;
    private boolean retained;
    private boolean streamCreated;
    private boolean cublasCreated;

    private CudaContext(CudaDeviceFacts facts) {
        this.facts = facts;
    }

    /** Opens everything for the device; on failure releases what was acquired and rethrows. */
    static CudaContext open(CudaDeviceFacts facts, int driverVersion, boolean tf32, boolean deterministic) {
        CudaContext c = new CudaContext(facts);
        try {
            c.init(driverVersion, tf32, deterministic);
            return c;
        } catch (RuntimeException e) {
            try {
                c.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void init(int driverVersion, boolean tf32, boolean deterministic) {
        CudaCheck.check(JCudaDriver.cuDeviceGet(device, facts.index()), "cuDeviceGet(" + facts.index() + ")");
        CudaCheck.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        retained = true;
        makeCurrent();
        CudaCheck.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        streamCreated = true;
        modules = CudaModules.load(driverVersion);
        params = KernelParams.pinned();
        CudaCheck.checkCublas(JCublas2.cublasCreate(cublas), "cublasCreate");
        cublasCreated = true;
        CudaCheck.checkCublas(JCublas2.cublasSetStream(cublas, new cudaStream_t(stream)), "cublasSetStream");
        CudaCheck.checkCublas(JCublas2.cublasSetPointerMode(cublas, cublasPointerMode.CUBLAS_POINTER_MODE_HOST),
                "cublasSetPointerMode");
        CudaCheck.checkCublas(JCublas2.cublasSetMathMode(cublas,
                tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        CudaCheck.checkCublas(JCublas2.cublasSetAtomicsMode(cublas, deterministic
                ? cublasAtomicsMode.CUBLAS_ATOMICS_NOT_ALLOWED : cublasAtomicsMode.CUBLAS_ATOMICS_ALLOWED),
                "cublasSetAtomicsMode");
    }

    /**
     * Makes this context current on the calling thread. Always asks the driver: the current context belongs to the
     * OS thread, which a virtual thread can change between calls and other CUDA code can change behind our back,
     * so a Java-side cache of it could be stale (and the call is cheap next to a launch).
     */
    void makeCurrent() {
        CudaCheck.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for everything queued on the stream; reports a failed earlier kernel here. */
    void synchronize() {
        CudaCheck.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** The loaded kernels. */
    CudaModules modules() {
        return modules;
    }

    /** The kernel-parameter block of this context's launches. */
    KernelParams params() {
        return params;
    }

    /** Device memory {@code {free, total}} in bytes, from {@code cuMemGetInfo}. */
    long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        CudaCheck.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    /** Releases the handle, kernels, stream and the context reference, in reverse order; reports the first failure. */
    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        if (retained) {
            run(failures, this::makeCurrent);
        }
        if (streamCreated) {
            run(failures, this::synchronize);
        }
        if (cublasCreated) {
            run(failures, () -> CudaCheck.checkCublas(JCublas2.cublasDestroy(cublas), "cublasDestroy"));
            cublasCreated = false;
        }
        if (params != null) {
            run(failures, params::close);
            params = null;
        }
        if (modules != null) {
            run(failures, modules::close);
            modules = null;
        }
        if (streamCreated) {
            run(failures, () -> CudaCheck.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy"));
            streamCreated = false;
        }
        if (retained) {
            int rc = JCudaDriver.cuDevicePrimaryCtxRelease(device);
            if (rc != CUresult.CUDA_SUCCESS) {
                failures.add(CudaCheck.failure(rc, "cuDevicePrimaryCtxRelease"));
            }
            retained = false;
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static void run(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }
}
