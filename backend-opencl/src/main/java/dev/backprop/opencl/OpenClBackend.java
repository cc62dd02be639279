package dev.backprop.opencl;

import dev.backprop.backend.Backend;
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
import org.jocl.Pointer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code opencl} backend: one device, one context, one in-order command queue. It wires buffers
 * ({@link OpenClMemory}) to the op families ({@link OpenClGemm}, {@link OpenClElementwise},
 * {@link OpenClReductions}, {@link OpenClSoftmax}, {@link OpenClUpdates}); each op enqueues kernels and returns
 * without waiting. Only downloads and {@link #synchronize()} wait for the device.
 *
 * <p><b>Threads:</b> every method is {@code synchronized} on the backend, so calls from several threads are
 * serialized onto the one queue in the order they take the lock ({@link Capabilities#threadSafe()} is true).
 * Kernel objects are shared between calls, which is safe only because argument setting and enqueueing happen
 * under that lock.
 *
 * <p>Created by {@link OpenClBackendProvider#create}; arguments are trusted as validated by core's facades.
 */
public final class OpenClBackend implements Backend {
    private final OpenClRuntime rt;
    private final OpenClMemory memory;
    private final OpenClStaging staging;
    private final OpenClGemm gemm;
    private final OpenClElementwise elementwise;
    private final OpenClReductions reductions;
    private final OpenClSoftmax softmax;
    private final OpenClUpdates updates;
    private final Capabilities capabilities;
    private boolean closed;

    /** Builds every program for the supported dtypes; a build failure closes what was opened and rethrows. */
    OpenClBackend(OpenClRuntime rt, String gemmVariant) {
        this.rt = rt;
        this.memory = new OpenClMemory(rt);
        this.staging = new OpenClStaging(rt);
        this.gemm = new OpenClGemm(rt, gemmVariant);
        this.elementwise = new OpenClElementwise(rt);
        this.reductions = new OpenClReductions(rt, this);
        this.softmax = new OpenClSoftmax(rt);
        this.updates = new OpenClUpdates(rt);
        try {
            for (DType dt : DType.values()) {
                if (dt == DType.FLOAT64 && !rt.device.fp64()) {
                    continue;
                }
                elementwise.prepare(dt);
                if (dt.isFloating()) {
                    gemm.prepare(dt);
                    reductions.prepare(dt);
                    softmax.prepare(dt);
                    updates.prepare(dt);
                }
            }
        } catch (RuntimeException | Error e) {
            reductions.close();
            throw e;
        }
        this.capabilities = new Capabilities(rt.device.fp64(), true, details());
    }

    /** The buffers and their cache (for tests). */
    OpenClMemory memory() {
        return memory;
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

    /** The runtime (for tests of the program cache). */
    OpenClRuntime runtime() {
        return rt;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the opencl backend on " + rt.device.label() + " is closed");
        }
    }

    private static OpenClBuffer cl(Buffer b) {
        return (OpenClBuffer) b;
    }

    // ---- identity ------------------------------------------------------------------------------------

    @Override
    public String name() {
        return OpenClBackendProvider.NAME;
    }

    @Override
    public DeviceInfo device() {
        return rt.device.info();
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    // ---- memory --------------------------------------------------------------------------------------

    @Override
    public synchronized Buffer allocate(DType dtype, long elements) {
        ensureOpen();
        return memory.allocate(this, dtype, elements);
    }

    @Override
    public synchronized void release(Buffer buffer) {
        if (!closed) {
            memory.release(cl(buffer));
        }
    }

    @Override
    public synchronized void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JOCL would read past the array
        upload((from, bytes, t) -> t.asFloatBuffer().put(src, srcOffset + (int) (from / 4), bytes / 4), length,
                cl(dst), dstOffset);
    }

    @Override
    public synchronized void upload(double[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JOCL would read past the array
        upload((from, bytes, t) -> t.asDoubleBuffer().put(src, srcOffset + (int) (from / 8), bytes / 8), length,
                cl(dst), dstOffset);
    }

    @Override
    public synchronized void upload(int[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JOCL would read past the array
        upload((from, bytes, t) -> t.asIntBuffer().put(src, srcOffset + (int) (from / 4), bytes / 4), length,
                cl(dst), dstOffset);
    }

    /** Through the staging ring: no wait for the queue. */
    private void upload(OpenClStaging.Source source, int length, OpenClBuffer dst, long dstOffset) {
        if (length == 0) {
            return;
        }
        int size = dst.dtype().byteSize();
        staging.write(source, (long) length * size, size, dst.mem(), dstOffset * size);
    }

    @Override
    public synchronized void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JOCL would write past the array
        memory.read(cl(src), srcOffset, Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), length);
    }

    @Override
    public synchronized void download(Buffer src, long srcOffset, double[] dst, int dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JOCL would write past the array
        memory.read(cl(src), srcOffset, Pointer.to(dst).withByteOffset((long) dstOffset * Double.BYTES), length);
    }

    @Override
    public synchronized void download(Buffer src, long srcOffset, int[] dst, int dstOffset, int length) {
        ensureOpen();
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JOCL would write past the array
        memory.read(cl(src), srcOffset, Pointer.to(dst).withByteOffset((long) dstOffset * Integer.BYTES), length);
    }

    @Override
    public synchronized void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length) {
        ensureOpen();
        memory.copy(cl(src), srcOffset, cl(dst), dstOffset, length);
    }

    @Override
    public synchronized void fill(Buffer dst, long offset, long length, double value) {
        ensureOpen();
        memory.fill(cl(dst), offset, length, value);
    }

    @Override
    public synchronized void synchronize() {
        ensureOpen();
        rt.finish();
    }

    @Override
    public synchronized MemoryStats memoryStats() {
        if (closed) {
            return new MemoryStats(0, 0, 0, "backend closed");
        }
        return memory.stats();
    }

    /** Waits for the queue, releases every buffer, the kernels, programs, queue and context. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            rt.finish();
        } finally {
            try {
                staging.close();
                memory.releaseAll();
                reductions.close();
            } finally {
                rt.close();
            }
        }
    }

    // ---- linear algebra ------------------------------------------------------------------------------

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                                  Buffer a, long aOffset, int lda, Buffer b, long bOffset, int ldb,
                                  double beta, Buffer c, long cOffset, int ldc,
                                  int batch, long strideA, long strideB, long strideC) {
        ensureOpen();
        gemm.gemm(transA, transB, m, n, k, alpha, cl(a), aOffset, lda, cl(b), bOffset, ldb, beta, cl(c), cOffset, ldc,
                batch, strideA, strideB, strideC);
    }

    @Override
    public synchronized void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        ensureOpen();
        elementwise.transpose(rows, cols, cl(src), srcOffset, cl(dst), dstOffset);
    }

    @Override
    public synchronized void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                                        long indicesOffset, Buffer dst, long dstOffset) {
        ensureOpen();
        elementwise.gatherRows(rows, cols, cl(src), srcOffset, srcRows, cl(indices), indicesOffset, cl(dst),
                dstOffset);
    }

    // ---- elementwise ---------------------------------------------------------------------------------

    @Override
    public synchronized void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset,
                                   long n) {
        ensureOpen();
        elementwise.unary(op, p1, p2, cl(x), xOffset, cl(y), yOffset, n);
    }

    @Override
    public synchronized void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g,
                                           long gOffset, Buffer dx, long dxOffset, long n) {
        ensureOpen();
        elementwise.unaryBackward(op, p1, p2, cl(x), xOffset, cl(g), gOffset, cl(dx), dxOffset, n);
    }

    @Override
    public synchronized void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast,
                                    Buffer b, long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        ensureOpen();
        elementwise.binary(op, rows, cols, cl(a), aOffset, aBroadcast, cl(b), bOffset, bBroadcast, cl(out), outOffset);
    }

    @Override
    public synchronized void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset) {
        ensureOpen();
        elementwise.axpby(n, alpha, cl(x), xOffset, beta, cl(y), yOffset);
    }

    // ---- reductions ----------------------------------------------------------------------------------

    @Override
    public synchronized void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset,
                                    Buffer out, long outOffset) {
        ensureOpen();
        reductions.reduce(op, axis, rows, cols, cl(x), xOffset, cl(out), outOffset);
    }

    @Override
    public synchronized void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        ensureOpen();
        reductions.argmaxRows(rows, cols, cl(x), xOffset, cl(out), outOffset);
    }

    // ---- softmax and loss ----------------------------------------------------------------------------

    @Override
    public synchronized void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y,
                                         long yOffset) {
        ensureOpen();
        softmax.softmaxRows(log, rows, cols, cl(x), xOffset, cl(y), yOffset);
    }

    @Override
    public synchronized void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                                                 long labelsOffset, Buffer losses, long lossesOffset, Buffer probs,
                                                 long probsOffset) {
        ensureOpen();
        softmax.softmaxCrossEntropy(rows, cols, cl(logits), logitsOffset, cl(labels), labelsOffset, cl(losses),
                lossesOffset, cl(probs), probsOffset);
    }

    @Override
    public synchronized void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset,
                                                         Buffer labels, long labelsOffset, Buffer g, long gOffset,
                                                         Buffer dlogits, long dlogitsOffset) {
        ensureOpen();
        softmax.softmaxCrossEntropyBackward(rows, cols, cl(probs), probsOffset, cl(labels), labelsOffset, cl(g),
                gOffset, cl(dlogits), dlogitsOffset);
    }

    // ---- optimizer updates ---------------------------------------------------------------------------

    @Override
    public synchronized void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                                       Buffer velocity, long velocityOffset, double lr, double momentum,
                                       double weightDecay, boolean nesterov) {
        ensureOpen();
        updates.sgdUpdate(n, cl(param), paramOffset, cl(grad), gradOffset, velocity == null ? null : cl(velocity),
                velocityOffset, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public synchronized void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                                        Buffer m, long mOffset, Buffer v, long vOffset, double lr, double beta1,
                                        double beta2, double eps, double weightDecay, boolean decoupled, long step) {
        ensureOpen();
        updates.adamUpdate(n, cl(param), paramOffset, cl(grad), gradOffset, cl(m), mOffset, cl(v), vOffset, lr, beta1,
                beta2, eps, weightDecay, decoupled, step);
    }

    @Override
    public String toString() {
        return "opencl on " + rt.device.label();
    }
}
