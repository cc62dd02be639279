package dev.backprop.cuda;

import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.base.BaseBackend;
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
 * <p><b>Captured steps.</b> With the {@code graphs} option, {@link #runStep} captures core's training step as a CUDA
 * graph and replays it ({@link CudaGraphs}); without it, steps run as they come, exactly as before the option.
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
    private final CudaGraphs graphs;

    /**
     * Takes over {@code context} (closed with the backend, or at once when this fails).
     *
     * @param graphs whether {@link #runStep} captures steps as CUDA graphs ({@link CudaGraphs})
     */
    CudaBackend(CudaContext context, DeviceInfo deviceInfo, Map<String, String> details, CudaPrecision precision,
                boolean graphs) {
        this(context, new CudaMemory(CudaMemory.of(context)), deviceInfo, details, precision, graphs);
    }

    private CudaBackend(CudaContext context, CudaMemory memory, DeviceInfo deviceInfo, Map<String, String> details,
                        CudaPrecision precision, boolean captureSteps) {
        super("cuda", CudaBuffer.class, CudaBuffer::new, memory, memory.poolBytes());
        this.context = own(context);
        try {
            staging = own(new CudaStaging(CudaStaging.of(context)));
            launch = new CudaLaunch(context);
            CudaElementwise elementwise = new CudaElementwise(launch);
            CudaFused fused = own(new CudaFused(launch, pool(), (words, dst) -> staging.upload(HostArray.of(words, 0,
                    words.length), dst), this::recording));
            Map<String, String> d = new LinkedHashMap<>(details);
            d.put("stream", "1 non-blocking stream; host waits only in download/synchronize");
            d.put("allocator", "size-class pool of up to " + MemoryStats.human(memory.poolBytes())
                    + ", pinned upload staging " + CudaStaging.SLOTS + " x " + (CudaStaging.SLOT_BYTES >> 20) + " MiB");
            d.put("graphs", captureSteps ? "training steps captured as CUDA graphs" : "off");
            install(new OpFamilies<>(new CudaTransfers(context, staging, launch),
                    new CudaGemm(context, elementwise, pool()::trim,
                    precision == CudaPrecision.BF16 ? new CudaGemm.Bf16(launch, pool()) : null), elementwise,
                    new CudaReductions(launch, pool()), new CudaSoftmax(launch), new CudaUpdates(launch),
                    new CudaImages(launch), new CudaNormalization(launch, pool()), null, fused),
                    deviceInfo, new Capabilities(true, true, d));
            graphs = captureSteps ? own(new CudaGraphs(CudaGraphs.of(context, pool().allocate(DType.INT32,
                    CudaGraphs.CUBLAS_WORKSPACE_BYTES / 4).raw()), pool())) : null;
        } catch (RuntimeException | Error e) {
            closeAfter(e);
            throw e;
        }
    }

    /** Kernels launched since the backend was created, for benchmarks counting the launches of a training step. */
    long kernelLaunches() {
        return launch.launches();
    }

    /** The captured steps (with cuBLAS's capture workspace, a block kept for the backend's life), or null when off. */
    @Override
    protected CudaGraphs stepRecorder() {
        return graphs;
    }

    private boolean recording() {
        return graphs != null && graphs.recording();
    }

    /** The stream and kernels, for timing code in this package (benchmarks use events on the same stream). */
    CudaContext context() {
        return context;
    }
}
