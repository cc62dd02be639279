package dev.backprop.cuda;

import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import jcuda.driver.CUdeviceptr;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code cuda} backend: one GPU, one stream ({@link CudaContext}), cuBLAS for GEMM ({@link CudaGemm}) and the
 * kernels of {@code src/main/cuda} for everything else ({@link CudaElementwise}, {@link CudaReductions},
 * {@link CudaSoftmax}, {@link CudaUpdates}, {@link CudaImages}, {@link CudaNormalization}, {@link CudaFused});
 * convolution is the SPI's default on im2col and cuBLAS; device memory from {@link CudaMemory}, uploads through
 * pinned staging memory ({@link CudaTransfers}, {@link CudaStaging}).
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
    private final CudaLaunch launch;
    private final CudaStaging staging;
    private CudaGraphs graphs;

    /** Takes over {@code context} (closed with the backend, or at once when this fails). */
    CudaBackend(CudaContext context, DeviceInfo deviceInfo, Map<String, String> details, CudaPrecision precision) {
        this(context, new CudaMemory(CudaMemory.of(context)), deviceInfo, details, precision);
    }

    private CudaBackend(CudaContext context, CudaMemory memory, DeviceInfo deviceInfo, Map<String, String> details,
                        CudaPrecision precision) {
        super("cuda", CudaBuffer.class, CudaBuffer::new, memory, memory.poolBytes());
        this.context = own(context);
        try {
            staging = own(new CudaStaging(CudaStaging.of(context)));
            launch = new CudaLaunch(context);
            CudaElementwise elementwise = new CudaElementwise(launch);
            CudaFused fused = own(new CudaFused(launch, pool(), (words, dst) -> staging.upload(HostArray.of(words, 0,
                    words.length), dst)));
            Map<String, String> d = new LinkedHashMap<>(details);
            d.put("stream", "1 non-blocking stream; host waits only in download/synchronize");
            d.put("allocator", "size-class pool of up to " + MemoryStats.human(memory.poolBytes())
                    + ", pinned upload staging " + CudaStaging.SLOTS + " x " + (CudaStaging.SLOT_BYTES >> 20) + " MiB");
            install(new OpFamilies<>(new CudaTransfers(context, staging, launch),
                    new CudaGemm(context, elementwise, pool()::trim,
                    precision == CudaPrecision.BF16 ? new CudaGemm.Bf16(launch, pool()) : null), elementwise,
                    new CudaReductions(launch, pool()), new CudaSoftmax(launch), new CudaUpdates(launch),
                    new CudaImages(launch), new CudaNormalization(launch, pool()), null, fused),
                    deviceInfo, new Capabilities(true, true, d));
        } catch (RuntimeException | Error e) {
            closeAfter(e);
            throw e;
        }
    }

    /** Kernels launched since the backend was created, for benchmarks counting the launches of a training step. */
    long kernelLaunches() {
        return launch.launches();
    }

    /**
     * Captured steps on this backend's stream, with cuBLAS's workspace for capture (a block kept for the backend's
     * life). Single-threaded callers.
     */
    CudaGraphs graphs() {
        if (graphs == null) {
            MemoryPool.Block<CUdeviceptr> workspace =
                    pool().allocate(DType.INT32, CudaGraphs.CUBLAS_WORKSPACE_BYTES / 4);
            graphs = own(new CudaGraphs(CudaGraphs.of(context, workspace.raw()), pool()));
        }
        return graphs;
    }

    /** The stream and kernels, for timing code in this package (benchmarks use events on the same stream). */
    CudaContext context() {
        return context;
    }
}
