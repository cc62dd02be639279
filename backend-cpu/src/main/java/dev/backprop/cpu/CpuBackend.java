package dev.backprop.cpu;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.OpFamilies;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plain-Java backend: buffers are heap arrays ({@link CpuMemory}, {@link CpuBuffer}), ops run on a fixed pool of
 * daemon threads ({@link CpuThreads}) through one class per op family ({@link CpuTransfers}, {@link CpuGemm},
 * {@link CpuElementwise}, {@link CpuReductions}, {@link CpuSoftmax}, {@link CpuUpdates}, {@link CpuImages},
 * {@link CpuNormalization}, {@link CpuConvolution}), whose inner loops are either the Vector API kernels or the
 * scalar ones ({@link CpuKernels}, chosen once by {@link CpuVectorApi}).
 *
 * <h2>Options</h2> (explicit map, else system property {@code backprop.cpu.<key>})
 * <ul>
 *   <li>{@code threads}: cores one op may use, the calling thread included (default: available processors; at
 *       most 4 per available processor, and at most 64 where that is fewer: {@link #checkThreads});</li>
 *   <li>{@code vector}: {@code false} forces the scalar kernels even where the Vector API is present;</li>
 *   <li>{@code gemm.mc}, {@code gemm.kc}, {@code gemm.nc}: GEMM cache blocking (see {@link CpuGemm});</li>
 *   <li>{@code gemm.shared}: {@code false} turns off shared packing of multithreaded products (each thread then
 *       packs its own blocks; for comparison and tests, default {@code true});</li>
 *   <li>{@code gemm.fewrows}: {@code false} packs B for products of a few rows too instead of reading it in place
 *       ({@link GemmKernel#fewRows}; for comparison and tests, default {@code true});</li>
 *   <li>{@code gemm.keep}: {@code false} packs a transposed B on every product instead of keeping its panels
 *       while it is only read ({@link PackedPanels}; for comparison and tests, default {@code true});</li>
 *   <li>{@code gemm.keep.limit}: most MiB of kept panels at once ({@link PanelBudget}; default a quarter of the
 *       heap limit, 0 keeps none);</li>
 *   <li>{@code conv.own}: {@code false} runs convolutions on the SPI's default (the batch's im2col matrix and one
 *       GEMM) instead of {@link CpuConvolution}; for comparison and tests, default {@code true}.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * As every backend, calls are serialized by the backend's lock ({@link BaseBackend}); an op runs on the calling
 * thread, helped by the pool's workers, and returns when it is done, so {@link #synchronize()} has nothing to wait
 * for.
 */
public final class CpuBackend extends BaseBackend<Object, CpuBuffer> {
    private final CpuKernels kernels;
    private final PanelBudget panelBudget;

    /**
     * Checks a count of this backend's threads for this machine, as creating the backend does: at least 1, and at
     * most 4 per processor this JVM sees or 64, whichever is larger (more only take turns on the cores; the floor
     * leaves a container or {@code taskset} that shows one processor room to run what it was told to). For a caller
     * that refuses the count before it reads anything, such as the command line's {@code --threads}.
     *
     * @param name    what the count is called in the message ({@code --threads}); the backend says
     *                {@code backprop.cpu.threads}
     * @param threads the count
     * @return {@code threads}
     * @throws IllegalArgumentException naming {@code name}, the bound and the count when it is outside them
     */
    public static int checkThreads(String name, int threads) {
        return CpuThreads.checkCount(name, threads);
    }

    /**
     * Creates a backend from {@code options} (see the class comment) and runs a smoke test of its kernels.
     *
     * @param options {@code threads}, {@code vector} and {@code gemm.*} settings; missing keys fall back to the
     *                {@code backprop.cpu.*} system properties, then to the defaults
     * @throws IllegalArgumentException for a malformed option value
     * @throws BackendFailureException  when the kernels give a wrong result on this JVM
     */
    public CpuBackend(BackendOptions options) {
        super(CpuBackendProvider.NAME, CpuBuffer.class, CpuBuffer::new, new CpuMemory(), CpuMemory.poolBytes());
        String name = CpuBackendProvider.NAME;
        try {
            int threadCount = checkThreads("backprop.cpu.threads", options.getInt(name, "threads",
                    Runtime.getRuntime().availableProcessors()));
            boolean wantVector = options.getBoolean(name, "vector", true);
            this.kernels = CpuVectorApi.load(wantVector);
            CpuGemm.Blocking f32Blocking = blocking(options, kernels.gemmF32());
            CpuGemm.Blocking f64Blocking = blocking(options, kernels.gemmF64());
            boolean sharedPacking = options.getBoolean(name, "gemm.shared", true);
            boolean fewRows = options.getBoolean(name, "gemm.fewrows", true);
            boolean keepPanels = options.getBoolean(name, "gemm.keep", true);
            this.panelBudget = new PanelBudget((long) options.getInt(name, "gemm.keep.limit",
                    PanelBudget.defaultLimitMiB()) << 20);
            boolean ownConvolution = options.getBoolean(name, "conv.own", true);
            CpuThreads threads = own(new CpuThreads(threadCount));
            CpuWorkspaces workspaces = own(new CpuWorkspaces());
            CpuGemm gemm = new CpuGemm(threads, workspaces, kernels.gemmF32(), kernels.gemmF64(), f32Blocking,
                    f64Blocking, sharedPacking, fewRows, keepPanels, panelBudget);
            Map<String, String> details = new LinkedHashMap<>();
            details.put("vector", vectorState(kernels));
            details.put("threads", Integer.toString(threadCount));
            details.put("gemm", gemm.describe());
            details.put("convolution", ownConvolution ? "per image, operands packed from the padded image"
                    : "the SPI's default: im2col of the batch and one GEMM");
            details.put("elementwise", kernels.f32().describe());
            install(new OpFamilies<>(new CpuTransfers(), gemm, new CpuElementwise(threads, workspaces, kernels.f32()),
                    new CpuReductions(threads, workspaces, kernels.f32()),
                    new CpuSoftmax(threads, workspaces, kernels.f32()), new CpuUpdates(threads, kernels.f32()),
                    new CpuImages(threads, workspaces, kernels.f32()),
                    new CpuNormalization(threads, workspaces, kernels.f32()),
                    ownConvolution ? new CpuConvolution(threads, workspaces, kernels, f32Blocking, f64Blocking)
                            : null, null),
                    CpuBackendProvider.device(threadCount, vectorState(kernels)),
                    new Capabilities(true, true, details));
            CpuSmokeTest.run(this);
            CpuVectorApi.announceScalar(kernels, wantVector);
        } catch (RuntimeException | Error e) {
            closeAfter(e);
            throw e;
        }
    }

    /** The kept panels' bound and bytes. */
    PanelBudget panelBudget() {
        return panelBudget;
    }

    /** {@code on (S_256_BIT: 8 float / 4 double lanes)} or {@code off (reason)}. */
    static String vectorState(CpuKernels k) {
        return (k.vector() ? "on (" : "off (") + k.species() + ")";
    }

    private static CpuGemm.Blocking blocking(BackendOptions o, GemmKernel<?> k) {
        CpuGemm.Blocking d = CpuGemm.Blocking.defaultsOf(k);
        String n = CpuBackendProvider.NAME;
        return new CpuGemm.Blocking(o.getInt(n, "gemm.mc", d.mc()), o.getInt(n, "gemm.kc", d.kc()),
                o.getInt(n, "gemm.nc", d.nc()));
    }

    /**
     * Whether this instance runs the Vector API kernels.
     *
     * @return true for the Vector API kernels, false for the scalar ones (see {@code capabilities().details()
     *         .get("vector")} for why)
     */
    public boolean vectorEnabled() {
        return kernels.vector();
    }
}
