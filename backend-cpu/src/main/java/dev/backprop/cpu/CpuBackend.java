package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The plain-Java backend: buffers are heap arrays ({@link CpuBuffer}), ops run on a fixed pool of daemon threads
 * ({@link CpuThreads}) through one class per op family ({@link CpuGemm}, {@link CpuElementwise},
 * {@link CpuReductions}, {@link CpuSoftmax}, {@link CpuUpdates}), whose inner loops are either the Vector API
 * kernels or the scalar ones ({@link CpuKernels}, chosen once by {@link CpuVectorApi}).
 *
 * <h2>Options</h2> (explicit map, else system property {@code backprop.cpu.<key>})
 * <ul>
 *   <li>{@code threads}: cores one op may use, the calling thread included (default: available processors);</li>
 *   <li>{@code vector}: {@code false} forces the scalar kernels even where the Vector API is present;</li>
 *   <li>{@code gemm.mc}, {@code gemm.kc}, {@code gemm.nc}: GEMM cache blocking (see {@link CpuGemm});</li>
 *   <li>{@code gemm.shared}: {@code false} turns off shared packing of multithreaded products (each thread then
 *       packs its own blocks; for comparison and tests, default {@code true}).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Thread-safe: any number of threads may call any op at once. Ops run synchronously on the calling thread (helped
 * by the pool), hold no shared mutable state besides the buffer accounting (atomic) and the pool of scratch
 * workspaces (each lent to one piece of work at a time), and so only race where the caller's own buffers do (two
 * concurrent ops writing one buffer). {@link #synchronize()} has nothing to wait for.
 *
 * <h2>Memory</h2>
 * See {@link CpuMemory} for the accounting and the platform figure (heap in use after the last GC).
 */
public final class CpuBackend implements Backend {
    private final DeviceInfo device;
    private final Capabilities capabilities;
    private final CpuKernels kernels;
    private final CpuThreads threads;
    private final CpuWorkspaces workspaces = new CpuWorkspaces();
    private final CpuMemory memory = new CpuMemory();
    private final Set<CpuBuffer> live = ConcurrentHashMap.newKeySet();
    private final CpuGemm gemm;
    private final CpuElementwise elementwise;
    private final CpuReductions reductions;
    private final CpuSoftmax softmax;
    private final CpuUpdates updates;
    private volatile boolean closed;

    /**
     * Creates a backend from {@code options} (see the class comment) and runs a smoke test of its kernels.
     *
     * @param options {@code threads}, {@code vector} and {@code gemm.*} settings; missing keys fall back to the
     *                {@code backprop.cpu.*} system properties, then to the defaults
     * @throws IllegalArgumentException for a malformed option value
     * @throws BackendFailureException  when the kernels give a wrong result on this JVM
     */
    public CpuBackend(BackendOptions options) {
        String name = CpuBackendProvider.NAME;
        int nThreads = options.getInt(name, "threads", Runtime.getRuntime().availableProcessors());
        if (nThreads < 1) {
            throw new IllegalArgumentException("backprop.cpu.threads must be at least 1, got " + nThreads);
        }
        this.kernels = CpuVectorApi.load(options.getBoolean(name, "vector", true));
        CpuGemm.Blocking f32Blocking = blocking(options, kernels.gemmF32());
        CpuGemm.Blocking f64Blocking = blocking(options, kernels.gemmF64());
        this.threads = new CpuThreads(nThreads);
        this.gemm = new CpuGemm(threads, workspaces, kernels.gemmF32(), kernels.gemmF64(), f32Blocking, f64Blocking,
                options.getBoolean(name, "gemm.shared", true));
        this.elementwise = new CpuElementwise(threads, workspaces, kernels.f32());
        this.reductions = new CpuReductions(threads, workspaces, kernels.f32());
        this.softmax = new CpuSoftmax(threads, workspaces, kernels.f32());
        this.updates = new CpuUpdates(threads, kernels.f32());
        this.device = CpuBackendProvider.device(nThreads, vectorState(kernels));
        Map<String, String> details = new LinkedHashMap<>();
        details.put("vector", vectorState(kernels));
        details.put("threads", Integer.toString(nThreads));
        details.put("gemm", gemm.describe());
        details.put("elementwise", kernels.f32().describe());
        this.capabilities = new Capabilities(true, true, details);
        try {
            CpuSmokeTest.run(this);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
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

    @Override
    public String name() {
        return CpuBackendProvider.NAME;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cpu: backend is closed");
        }
    }

    private static CpuBuffer buf(Buffer b) {
        return (CpuBuffer) b;
    }

    // ---- memory ----------------------------------------------------------------------------------------

    @Override
    public Buffer allocate(DType dtype, long elements) {
        ensureOpen();
        CpuBuffer b = new CpuBuffer(this, dtype, (int) Math.min(elements, Integer.MAX_VALUE),
                memory.array(dtype, elements));
        live.add(b);
        memory.allocated(b);
        return b;
    }

    @Override
    public void release(Buffer buffer) {
        CpuBuffer b = buf(buffer);
        Object array = b.markReleased();
        if (array != null) {
            live.remove(b);
            memory.released(b);
            if (!closed) {
                memory.recycle(b.dtype(), array);
            }
        }
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        System.arraycopy(src, srcOffset, buf(dst).floats(), (int) dstOffset, length);
    }

    @Override
    public void upload(double[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        System.arraycopy(src, srcOffset, buf(dst).doubles(), (int) dstOffset, length);
    }

    @Override
    public void upload(int[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        System.arraycopy(src, srcOffset, buf(dst).ints(), (int) dstOffset, length);
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int length) {
        ensureOpen();
        System.arraycopy(buf(src).floats(), (int) srcOffset, dst, dstOffset, length);
    }

    @Override
    public void download(Buffer src, long srcOffset, double[] dst, int dstOffset, int length) {
        ensureOpen();
        System.arraycopy(buf(src).doubles(), (int) srcOffset, dst, dstOffset, length);
    }

    @Override
    public void download(Buffer src, long srcOffset, int[] dst, int dstOffset, int length) {
        ensureOpen();
        System.arraycopy(buf(src).ints(), (int) srcOffset, dst, dstOffset, length);
    }

    @Override
    public void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length) {
        ensureOpen();
        CpuBuffer s = buf(src), d = buf(dst);
        Object from = switch (s.dtype()) {
            case FLOAT32 -> s.floats();
            case FLOAT64 -> s.doubles();
            case INT32 -> s.ints();
        };
        Object to = switch (d.dtype()) {
            case FLOAT32 -> d.floats();
            case FLOAT64 -> d.doubles();
            case INT32 -> d.ints();
        };
        System.arraycopy(from, (int) srcOffset, to, (int) dstOffset, (int) length);
    }

    @Override
    public void fill(Buffer dst, long offset, long length, double value) {
        ensureOpen();
        CpuBuffer d = buf(dst);
        int from = (int) offset, to = (int) (offset + length);
        switch (d.dtype()) {
            case FLOAT32 -> Arrays.fill(d.floats(), from, to, (float) value);
            case FLOAT64 -> Arrays.fill(d.doubles(), from, to, value);
            case INT32 -> Arrays.fill(d.ints(), from, to, (int) value);
        }
    }

    @Override
    public void synchronize() {
        ensureOpen();
    }

    @Override
    public MemoryStats memoryStats() {
        ensureOpen();
        return memory.stats();
    }

    /** Releases every live buffer and stops the pool. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (CpuBuffer b : live.toArray(new CpuBuffer[0])) {
            release(b);
        }
        threads.close();
        workspaces.clear();
        memory.clearRecycled();
    }

    // ---- ops -------------------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Buffer a, long aOffset,
                     int lda, Buffer b, long bOffset, int ldb, double beta, Buffer c, long cOffset, int ldc,
                     int batch, long strideA, long strideB, long strideC) {
        ensureOpen();
        gemm.gemm(transA, transB, m, n, k, alpha, buf(a), aOffset, lda, buf(b), bOffset, ldb, beta, buf(c), cOffset,
                ldc, batch, strideA, strideB, strideC);
    }

    @Override
    public void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        ensureOpen();
        elementwise.transpose(rows, cols, buf(src), (int) srcOffset, buf(dst), (int) dstOffset);
    }

    @Override
    public void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                           long indicesOffset, Buffer dst, long dstOffset) {
        ensureOpen();
        elementwise.gatherRows(rows, cols, buf(src), (int) srcOffset, srcRows, buf(indices), (int) indicesOffset,
                buf(dst), (int) dstOffset);
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset, long n) {
        ensureOpen();
        elementwise.unary(op, p1, p2, buf(x), (int) xOffset, buf(y), (int) yOffset, (int) n);
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g, long gOffset,
                              Buffer dx, long dxOffset, long n) {
        ensureOpen();
        elementwise.unaryBackward(op, p1, p2, buf(x), (int) xOffset, buf(g), (int) gOffset, buf(dx), (int) dxOffset,
                (int) n);
    }

    @Override
    public void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast, Buffer b,
                       long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        ensureOpen();
        elementwise.binary(op, rows, cols, buf(a), (int) aOffset, aBroadcast, buf(b), (int) bOffset, bBroadcast,
                buf(out), (int) outOffset);
    }

    @Override
    public void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset) {
        ensureOpen();
        elementwise.axpby((int) n, alpha, buf(x), (int) xOffset, beta, buf(y), (int) yOffset);
    }

    @Override
    public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset, Buffer out,
                       long outOffset) {
        ensureOpen();
        reductions.reduce(op, axis, rows, cols, buf(x), (int) xOffset, buf(out), (int) outOffset);
    }

    @Override
    public void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        ensureOpen();
        reductions.argmaxRows(rows, cols, buf(x), (int) xOffset, buf(out), (int) outOffset);
    }

    @Override
    public void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y, long yOffset) {
        ensureOpen();
        softmax.softmaxRows(log, rows, cols, buf(x), (int) xOffset, buf(y), (int) yOffset);
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                                    long labelsOffset, Buffer losses, long lossesOffset, Buffer probs,
                                    long probsOffset) {
        ensureOpen();
        softmax.crossEntropy(rows, cols, buf(logits), (int) logitsOffset, buf(labels), (int) labelsOffset,
                buf(losses), (int) lossesOffset, buf(probs), (int) probsOffset);
    }

    @Override
    public void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset, Buffer labels,
                                            long labelsOffset, Buffer g, long gOffset, Buffer dlogits,
                                            long dlogitsOffset) {
        ensureOpen();
        softmax.crossEntropyBackward(rows, cols, buf(probs), (int) probsOffset, buf(labels), (int) labelsOffset,
                buf(g), (int) gOffset, buf(dlogits), (int) dlogitsOffset);
    }

    @Override
    public void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer velocity,
                          long velocityOffset, double lr, double momentum, double weightDecay, boolean nesterov) {
        ensureOpen();
        updates.sgd((int) n, buf(param), (int) paramOffset, buf(grad), (int) gradOffset,
                velocity == null ? null : buf(velocity), (int) velocityOffset, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer m,
                           long mOffset, Buffer v, long vOffset, double lr, double beta1, double beta2, double eps,
                           double weightDecay, boolean decoupled, long step) {
        ensureOpen();
        updates.adam((int) n, buf(param), (int) paramOffset, buf(grad), (int) gradOffset, buf(m), (int) mOffset,
                buf(v), (int) vOffset, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    @Override
    public String toString() {
        return "cpu[" + device.name() + ", threads=" + threads.threads() + ", vector=" + vectorState(kernels) + "]";
    }
}
