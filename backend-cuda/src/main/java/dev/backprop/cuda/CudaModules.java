package dev.backprop.cuda;

import dev.backprop.backend.BackendFailureException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import jcuda.driver.JITOptions;

import java.util.EnumMap;
import java.util.Map;

/**
 * The kernels of one context: every {@link PtxModule} loaded once with {@code cuModuleLoadDataEx} (the driver
 * JIT-compiles the PTX for this GPU and caches the result on disk), and every {@link CudaKernel} looked up
 * once. The context must be current on the calling thread.
 */
final class CudaModules implements AutoCloseable {
    private static final int LOG_BYTES = 16 * 1024;

    private final Map<PtxModule, CUmodule> modules = new EnumMap<>(PtxModule.class);
    private final Map<CudaKernel, CUfunction> functions = new EnumMap<>(CudaKernel.class);

    private CudaModules() {
    }

    /** Loads all modules and functions; on failure releases what was loaded and throws. */
    static CudaModules load(int driverVersion) {
        CudaModules m = new CudaModules();
        try {
            for (PtxModule p : PtxModule.values()) {
                m.modules.put(p, loadModule(p, driverVersion));
            }
            for (CudaKernel k : CudaKernel.values()) {
                CUfunction f = new CUfunction();
                CudaCheck.check(JCudaDriver.cuModuleGetFunction(f, m.modules.get(k.module()), k.entry()),
                        "cuModuleGetFunction(" + k.entry() + ")");
                m.functions.put(k, f);
            }
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static CUmodule loadModule(PtxModule p, int driverVersion) {
        JITOptions jit = new JITOptions();
        jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[LOG_BYTES]);
        jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, LOG_BYTES);
        CUmodule module = new CUmodule();
        byte[] image = p.image();
        int rc = JCudaDriver.cuModuleLoadDataJIT(module, Pointer.to(image), jit);
        if (rc == CUresult.CUDA_ERROR_INVALID_VALUE) {
            // Only the log-buffer options can be invalid here; load without them rather than fail.
            rc = JCudaDriver.cuModuleLoadData(module, image);
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            String log = jit.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER);
            String hint = rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                    ? "; the driver (CUDA " + DriverRequirements.format(driverVersion) + ") is too old for PTX ISA "
                    + p.isaVersion() : "";
            throw new BackendFailureException("cuda: cuModuleLoadDataEx(" + p.baseName() + ".ptx) failed: "
                    + CUresult.stringFor(rc) + hint + (log == null || log.isBlank() ? "" : "; JIT log: " + log.trim()));
        }
        return module;
    }

    /** The function handle of {@code kernel}. */
    CUfunction function(CudaKernel kernel) {
        CUfunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalStateException("kernel " + kernel.entry() + " is not loaded (modules closed?)");
        }
        return f;
    }

    /** Unloads every module; the functions become invalid. */
    @Override
    public void close() {
        functions.clear();
        BackendFailureException first = null;
        for (Map.Entry<PtxModule, CUmodule> e : modules.entrySet()) {
            int rc = JCudaDriver.cuModuleUnload(e.getValue());
            if (rc != CUresult.CUDA_SUCCESS && first == null) {
                first = new BackendFailureException("cuda: cuModuleUnload(" + e.getKey().baseName() + ") failed: "
                        + CUresult.stringFor(rc));
            }
        }
        modules.clear();
        if (first != null) {
            throw first;
        }
    }
}
