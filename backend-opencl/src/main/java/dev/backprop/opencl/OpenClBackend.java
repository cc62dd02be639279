package dev.backprop.opencl;

import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.OpFamilies;
import org.jocl.cl_mem;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code opencl} backend: one device, one context, one in-order command queue ({@link OpenClRuntime}). It wires
 * the raw memory ({@link OpenClMemory}) and the op families ({@link OpenClTransfers}, {@link OpenClGemm},
 * {@link OpenClElementwise}, {@link OpenClReductions}, {@link OpenClSoftmax}, {@link OpenClUpdates},
 * {@link OpenClImages}, {@link OpenClNormalization}, {@link OpenClFused}; convolution is the SPI's im2col-and-GEMM
 * default); each op enqueues kernels and returns without waiting. Only downloads and {@link #synchronize()} wait
 * for the device.
 *
 * <p>Kernel objects are shared between calls, which is safe because argument setting and enqueueing happen under
 * the backend's lock ({@link BaseBackend}).
 *
 * <p>Created by {@link OpenClBackendProvider#create}; arguments are trusted as validated by core's facades.
 */
public final class OpenClBackend extends BaseBackend<cl_mem, OpenClBuffer> {
    private final OpenClRuntime rt;
    private final OpenClGemm gemm;

    /**
     * Takes over {@code rt} (closed with the backend, or at once when this fails) and builds every program for the
     * supported dtypes.
     */
    OpenClBackend(OpenClRuntime rt, String gemmVariant) {
        this(rt, new OpenClMemory(rt), gemmVariant);
    }

    private OpenClBackend(OpenClRuntime rt, OpenClMemory memory, String gemmVariant) {
        super(OpenClBackendProvider.NAME, OpenClBuffer.class, OpenClBuffer::new, memory, memory.poolBytes());
        this.rt = own(rt);
        try {
            this.gemm = new OpenClGemm(rt, gemmVariant);
            OpenClElementwise elementwise = new OpenClElementwise(rt);
            OpenClReductions reductions = own(new OpenClReductions(rt));
            OpenClSoftmax softmax = new OpenClSoftmax(rt);
            OpenClUpdates updates = new OpenClUpdates(rt);
            OpenClImages images = new OpenClImages(rt);
            OpenClNormalization normalization = new OpenClNormalization(rt);
            OpenClFused fused = new OpenClFused(rt);
            for (DType dt : DType.values()) {
                if (dt == DType.FLOAT64 && !rt.device.fp64()) {
                    continue;
                }
                elementwise.prepare(dt);
                images.prepare(dt);
                if (dt.isFloating()) {
                    gemm.prepare(dt);
                    reductions.prepare(dt);
                    softmax.prepare(dt);
                    updates.prepare(dt);
                    normalization.prepare(dt);
                    fused.prepare(dt);
                }
            }
            OpenClStaging staging = own(new OpenClStaging(rt));
            install(new OpFamilies<>(new OpenClTransfers(rt, staging), gemm, elementwise, reductions, softmax,
                    updates, images, normalization, null, fused), rt.device.info(),
                    new Capabilities(rt.device.fp64(), true, details()));
        } catch (RuntimeException | Error e) {
            closeAfter(e);
            throw e;
        }
    }

    private Map<String, String> details() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("device", rt.device.label());
        d.put("opencl", rt.device.version());
        d.put("gemm", gemm.config(DType.FLOAT32).toString());
        d.put("threads", "calls serialized on one in-order queue");
        d.put("programs", Integer.toString(rt.programs.programCount()));
        return d;
    }

    /** The GEMM configuration in use for {@code dtype} (for benchmarks and tests). */
    OpenClGemm.Config gemmConfig(DType dtype) {
        return gemm.config(dtype);
    }

    /** Kernels enqueued since the backend was created, for tests and benchmarks counting a step's launches. */
    long kernelLaunches() {
        return rt.launches();
    }

    /** The runtime (for tests of the program cache). */
    OpenClRuntime runtime() {
        return rt;
    }
}
