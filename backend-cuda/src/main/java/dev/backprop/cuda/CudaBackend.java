package dev.backprop.cuda;

import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import jcuda.driver.CUdeviceptr;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code cuda} backend: one GPU, one stream ({@link CudaContext}), cuBLAS for GEMM ({@link CudaGemm}) and the
 * kernels of {@code src/main/cuda} for everything else ({@link CudaElementwise}, {@link CudaReductions},
 * {@link CudaSoftmax}, {@link CudaUpdates}, {@link CudaImages}, {@link CudaNormalization}); convolution is the SPI's
 * default on im2col and cuBLAS; device memory from {@link CudaMemory}, uploads through pinned staging
 * memory ({@link CudaTransfers}, {@link CudaStaging}).
 *
 * <p><b>Asynchrony.</b> Uploads, copies, fills, kernels and GEMMs are queued on the backend's stream and return at
 * once; only downloads and {@link #synchronize} wait.
 * <p><b>Threads.</b> Every call holds the backend's lock ({@link BaseBackend}) and makes the context current on the
 * calling thread first ({@link CudaMemory#enter}), so one kernel-parameter block and one staging ring serve all.
 * <p><b>Errors.</b> A failed native call throws {@link dev.backprop.backend.BackendFailureException} naming the
 * call and CUDA error; a failed allocation throws {@link dev.backprop.backend.DeviceOutOfMemoryException} after the
 * pool was emptied and the allocation retried, and leaves the backend usable.
 */
final class CudaBackend extends BaseBackend<CUdeviceptr, CudaBuffer> {
    private final CudaContext context;

    /** Takes over {@code context} (closed with the backend, or at once when this fails). */
    CudaBackend(CudaContext context, DeviceInfo deviceInfo, Map<String, String> details) {
        this(context, new CudaMemory(CudaMemory.of(context)), deviceInfo, details);
    }

    private CudaBackend(CudaContext context, CudaMemory memory, DeviceInfo deviceInfo, Map<String, String> details) {
        super("cuda", CudaBuffer.class, CudaBuffer::new, memory, memory.poolBytes());
        this.context = own(context);
        try {
            CudaStaging staging = own(new CudaStaging(CudaStaging.of(context)));
            CudaLaunch launch = new CudaLaunch(context);
            CudaElementwise elementwise = new CudaElementwise(launch);
            Map<String, String> d = new LinkedHashMap<>(details);
            d.put("stream", "1 non-blocking stream; host waits only in download/synchronize");
            d.put("allocator", "size-class pool of up to " + MemoryPool.human(memory.poolBytes())
                    + ", pinned upload staging " + CudaStaging.SLOTS + " x " + (CudaStaging.SLOT_BYTES >> 20) + " MiB");
            install(new OpFamilies<>(new CudaTransfers(context, staging, launch),
                    new CudaGemm(context, elementwise, pool()::trim), elementwise,
                    new CudaReductions(launch, pool()), new CudaSoftmax(launch), new CudaUpdates(launch),
                    new CudaImages(launch), new CudaNormalization(launch, pool()), null),
                    deviceInfo, new Capabilities(true, true, d));
        } catch (RuntimeException | Error e) {
            closeAfter(e);
            throw e;
        }
    }

    /** The stream and kernels, for timing code in this package (benchmarks use events on the same stream). */
    CudaContext context() {
        return context;
    }
}
