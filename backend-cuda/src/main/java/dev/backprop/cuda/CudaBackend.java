package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code cuda} backend: one GPU, one stream, cuBLAS for GEMM and the kernels of {@code src/main/cuda}
 * for everything else.
 *
 * <p><b>Asynchrony.</b> Uploads, copies, fills, kernels and GEMMs are queued on the backend's stream and
 * return at once; only {@link #download} and {@link #synchronize} wait. Uploads go through pinned staging
 * memory ({@link CudaStaging}); device memory comes from a caching allocator ({@link CudaMemory}).
 * <p><b>Threads.</b> Thread-safe: every call holds the backend's lock and makes its context current on the
 * calling thread, so calls from several threads are serialized in lock order. {@link #release} never touches
 * the GPU (the block returns to the cache), so a {@link java.lang.ref.Cleaner} may call it.
 * <p><b>Errors.</b> A failed native call throws {@link dev.backprop.backend.BackendFailureException} naming the
 * call and CUDA error; a failed allocation throws {@link DeviceOutOfMemoryException} after the cache was
 * emptied and the allocation retried, and leaves the backend usable.
 */
final class CudaBackend implements Backend {
    private final Object lock = new Object();
    private final CudaContext context;
    private final CudaMemory memory;
    private final CudaStaging staging;
    private final CudaElementwise elementwise;
    private final CudaReductions reductions;
    private final CudaSoftmax softmax;
    private final CudaUpdates updates;
    private final CudaGemm gemm;
    private final DeviceInfo deviceInfo;
    private final Capabilities capabilities;
    private final Set<CudaBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long liveBytes;
    private boolean closed;

    CudaBackend(CudaContext context, DeviceInfo deviceInfo, Map<String, String> details) {
        this.context = context;
        this.deviceInfo = deviceInfo;
        this.memory = new CudaMemory(CudaMemory.of(context));
        this.staging = new CudaStaging(CudaStaging.of(context));
        CudaLaunch launch = new CudaLaunch(context);
        this.elementwise = new CudaElementwise(context, launch);
        this.reductions = new CudaReductions(launch, memory);
        this.softmax = new CudaSoftmax(launch);
        this.updates = new CudaUpdates(launch);
        this.gemm = new CudaGemm(context, elementwise, memory::trim);
        Map<String, String> d = new LinkedHashMap<>(details);
        d.put("stream", "1 non-blocking stream; host waits only in download/synchronize");
        d.put("allocator", "caching (size classes), pinned upload staging " + CudaStaging.SLOTS + " x "
                + (CudaStaging.SLOT_BYTES >> 20) + " MiB");
        this.capabilities = new Capabilities(true, true, d);
    }

    private void enter() {
        if (closed) {
            throw new IllegalStateException("cuda backend is closed");
        }
        context.makeCurrent();
    }

    /** Runs {@code op} holding the lock, with the backend open and its context current. */
    private void locked(Runnable op) {
        synchronized (lock) {
            enter();
            op.run();
        }
    }

    /** {@link #locked(Runnable)}, skipping {@code op} when it has no elements to work on. */
    private void locked(long elements, Runnable op) {
        synchronized (lock) {
            enter();
            if (elements > 0) {
                op.run();
            }
        }
    }

    private static CudaBuffer buf(Buffer b) {
        if (b instanceof CudaBuffer c) {
            return c;
        }
        throw new IllegalArgumentException("not a cuda buffer: " + b);
    }

    /** The stream and kernels, for timing code in this package (benchmarks use events on the same stream). */
    CudaContext context() {
        return context;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public DeviceInfo device() {
        return deviceInfo;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public Buffer allocate(DType dtype, long elements) {
        synchronized (lock) {
            enter();
            if (elements < 0) {
                throw new IllegalArgumentException("cuda: allocate: negative element count " + elements);
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(elements, (long) dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new DeviceOutOfMemoryException("cuda: " + elements + " elements of " + dtype
                        + " exceed the address space");
            }
            CudaBuffer b = new CudaBuffer(this, dtype, elements, bytes == 0 ? null : memory.allocate(bytes));
            live.add(b);
            liveBytes += bytes;
            return b;
        }
    }

    @Override
    public void release(Buffer buffer) {
        synchronized (lock) {
            CudaBuffer b = buf(buffer);
            if (b.backend() != this) {
                throw new IllegalArgumentException("cuda: release of a buffer of another backend: " + b);
            }
            if (closed || !b.markReleased()) {
                return;
            }
            if (live.remove(b)) {
                liveBytes -= b.bytes();
                if (b.block() != null) {
                    memory.free(b.block());
                }
            }
        }
    }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JCuda would read past the array
        upload((from, bytes, t) -> t.asFloatBuffer().put(src, srcOffset + (int) (from / 4), bytes / 4),
                length, 4, dst, dstOffset);
    }

    @Override
    public void upload(double[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JCuda would read past the array
        upload((from, bytes, t) -> t.asDoubleBuffer().put(src, srcOffset + (int) (from / 8), bytes / 8),
                length, 8, dst, dstOffset);
    }

    @Override
    public void upload(int[] src, int srcOffset, Buffer dst, long dstOffset, int length) {
        Objects.checkFromIndexSize(srcOffset, length, src.length); // JCuda would read past the array
        upload((from, bytes, t) -> t.asIntBuffer().put(src, srcOffset + (int) (from / 4), bytes / 4),
                length, 4, dst, dstOffset);
    }

    private void upload(CudaStaging.Source source, int length, int elementSize, Buffer dst, long dstOffset) {
        locked(length, () -> staging.upload(source, (long) length * elementSize, elementSize,
                buf(dst).at(dstOffset)));
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JCuda would write past the array
        download(src, srcOffset, Pointer.to(dst).withByteOffset(dstOffset * 4L), length * 4L);
    }

    @Override
    public void download(Buffer src, long srcOffset, double[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JCuda would write past the array
        download(src, srcOffset, Pointer.to(dst).withByteOffset(dstOffset * 8L), length * 8L);
    }

    @Override
    public void download(Buffer src, long srcOffset, int[] dst, int dstOffset, int length) {
        Objects.checkFromIndexSize(dstOffset, length, dst.length); // JCuda would write past the array
        download(src, srcOffset, Pointer.to(dst).withByteOffset(dstOffset * 4L), length * 4L);
    }

    /** Waits for the stream, then copies synchronously (nothing else can be writing the source any more). */
    private void download(Buffer src, long srcOffset, Pointer host, long bytes) {
        synchronized (lock) {
            enter();
            waitForStream();
            if (bytes > 0) {
                CudaCheck.check(JCudaDriver.cuMemcpyDtoH(host, buf(src).at(srcOffset), bytes), "cuMemcpyDtoH");
            }
        }
    }

    private void waitForStream() {
        context.synchronize();
        staging.idle();
    }

    @Override
    public void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length) {
        synchronized (lock) {
            enter();
            CudaBuffer s = buf(src);
            if (length == 0 || (src == dst && srcOffset == dstOffset)) {
                return;
            }
            CudaCheck.check(JCudaDriver.cuMemcpyDtoDAsync(buf(dst).at(dstOffset), s.at(srcOffset),
                    length * s.dtype().byteSize(), context.stream), "cuMemcpyDtoDAsync");
        }
    }

    @Override
    public void fill(Buffer dst, long offset, long length, double value) {
        locked(length, () -> elementwise.fill(buf(dst), offset, length, value));
    }

    @Override
    public void synchronize() {
        synchronized (lock) {
            enter();
            waitForStream();
        }
    }

    @Override
    public MemoryStats memoryStats() {
        synchronized (lock) {
            enter();
            long[] info = context.memoryInfo();
            return new MemoryStats(live.size(), liveBytes, info[1] - info[0],
                    "cuMemGetInfo (device-wide used bytes: this backend's " + (memory.reservedBytes() >> 20)
                            + " MiB of blocks, cuBLAS workspace and context, other processes)");
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            List<RuntimeException> failures = new ArrayList<>();
            // Each step runs even when an earlier one failed (a sticky CUDA error fails them all), so host
            // memory and the context reference are released in any case.
            step(failures, () -> {
                context.makeCurrent();
                context.synchronize();
            });
            for (CudaBuffer b : live) {
                b.markReleased();
                if (b.block() != null) {
                    step(failures, () -> memory.destroy(b.block()));
                }
            }
            live.clear();
            liveBytes = 0;
            step(failures, memory::trim);
            step(failures, staging::close);
            step(failures, context::close);
            if (!failures.isEmpty()) {
                RuntimeException first = failures.get(0);
                failures.subList(1, failures.size()).forEach(first::addSuppressed);
                throw first;
            }
        }
    }

    private static void step(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Buffer a, long aOffset,
                     int lda, Buffer b, long bOffset, int ldb, double beta, Buffer c, long cOffset, int ldc,
                     int batch, long strideA, long strideB, long strideC) {
        locked(() -> gemm.gemm(transA, transB, m, n, k, alpha, buf(a), aOffset, lda, buf(b), bOffset, ldb, beta,
                buf(c), cOffset, ldc, batch, strideA, strideB, strideC));
    }

    @Override
    public void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        locked((long) rows * cols, () -> elementwise.transpose(rows, cols, buf(src), srcOffset, buf(dst), dstOffset));
    }

    @Override
    public void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                           long indicesOffset, Buffer dst, long dstOffset) {
        locked((long) rows * cols, () -> elementwise.gatherRows(rows, cols, buf(src), srcOffset, srcRows,
                buf(indices), indicesOffset, buf(dst), dstOffset));
    }

    @Override
    public void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset, long n) {
        locked(n, () -> elementwise.unary(op, p1, p2, buf(x), xOffset, buf(y), yOffset, n));
    }

    @Override
    public void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g, long gOffset,
                              Buffer dx, long dxOffset, long n) {
        locked(n, () -> elementwise.unaryBackward(op, p1, p2, buf(x), xOffset, buf(g), gOffset, buf(dx), dxOffset,
                n));
    }

    @Override
    public void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast, Buffer b,
                       long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        locked((long) rows * cols, () -> elementwise.binary(op, rows, cols, buf(a), aOffset, aBroadcast, buf(b),
                bOffset, bBroadcast, buf(out), outOffset));
    }

    @Override
    public void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y, long yOffset) {
        locked(n, () -> elementwise.axpby(n, alpha, buf(x), xOffset, beta, buf(y), yOffset));
    }

    @Override
    public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset, Buffer out,
                       long outOffset) {
        locked(axis.resultLength(rows, cols), () -> reductions.reduce(op, axis, rows, cols, buf(x), xOffset,
                buf(out), outOffset));
    }

    @Override
    public void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        locked(rows, () -> reductions.argmaxRows(rows, cols, buf(x), xOffset, buf(out), outOffset));
    }

    @Override
    public void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y, long yOffset) {
        locked((long) rows * cols, () -> softmax.softmaxRows(log, rows, cols, buf(x), xOffset, buf(y), yOffset));
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset, Buffer labels,
                                    long labelsOffset, Buffer losses, long lossesOffset, Buffer probs,
                                    long probsOffset) {
        locked(rows, () -> softmax.crossEntropy(rows, cols, buf(logits), logitsOffset, buf(labels), labelsOffset,
                buf(losses), lossesOffset, buf(probs), probsOffset));
    }

    @Override
    public void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset, Buffer labels,
                                            long labelsOffset, Buffer g, long gOffset, Buffer dlogits,
                                            long dlogitsOffset) {
        locked((long) rows * cols, () -> softmax.crossEntropyBackward(rows, cols, buf(probs), probsOffset,
                buf(labels), labelsOffset, buf(g), gOffset, buf(dlogits), dlogitsOffset));
    }

    @Override
    public void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer velocity,
                          long velocityOffset, double lr, double momentum, double weightDecay, boolean nesterov) {
        locked(n, () -> updates.sgd(n, buf(param), paramOffset, buf(grad), gradOffset,
                velocity == null ? null : buf(velocity), velocityOffset, lr, momentum, weightDecay, nesterov));
    }

    @Override
    public void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset, Buffer m,
                           long mOffset, Buffer v, long vOffset, double lr, double beta1, double beta2, double eps,
                           double weightDecay, boolean decoupled, long step) {
        locked(n, () -> updates.adam(n, buf(param), paramOffset, buf(grad), gradOffset, buf(m), mOffset, buf(v),
                vOffset, lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }

    @Override
    public String toString() {
        return "cuda backend on " + deviceInfo.describe();
    }
}
