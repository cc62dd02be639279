package dev.backprop.backend.base;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The half of {@link BaseBackend} that is about buffers and lifetime: buffers from one {@link MemoryPool} (with
 * their accounting), host transfers, copies and fills, one lock, and closing. Only {@link BaseBackend} extends it.
 *
 * <h2>Locking</h2>
 * One {@link ReentrantLock} per backend, held for the whole of every call (allocation, release, transfer, op,
 * statistics, close): calls from several threads are serialized and take effect in lock order, which is what lets
 * a device backend share one queue, one kernel-argument block and one staging ring between threads. Op families
 * never call back into the backend, and nothing waits for another thread while holding the lock.
 *
 * <h2>Lifetime</h2>
 * {@link #close()} releases every buffer and kept block, then the resources registered with {@link #own}, newest
 * first. A backend that becomes unreachable without being closed is closed the same way by a {@link Cleaner},
 * which logs a warning: an unclosed cpu backend would otherwise keep its worker threads, an OpenCL or CUDA one its
 * context and device memory, until the process ends. The cleaner's state ({@link BackendState}) holds the pool and the
 * resources but never the backend, and buffers keep the backend reachable, so it runs only once no buffer of the
 * backend is reachable either.
 *
 * @param <M> the device's handle of a block
 * @param <B> the module's buffer class
 */
public abstract class BackendCore<M, B extends BaseBuffer<M>> implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();

    private final String name;
    private final Class<B> bufferType;
    private final BaseBuffer.Factory<M, B> buffers;
    private final BackendState<M> state;
    private final Cleaner.Cleanable cleanable;
    OpFamilies<B> ops;
    private volatile DeviceInfo device;
    private volatile Capabilities capabilities;

    /**
     * @param name         the provider name, e.g. {@code cpu}
     * @param bufferType   the module's buffer class
     * @param buffers      makes a buffer of that class around a pool block
     * @param memory       the device's memory
     * @param poolCapBytes most bytes kept in released blocks for reuse
     */
    BackendCore(String name, Class<B> bufferType, BaseBuffer.Factory<M, B> buffers, RawMemory<M> memory,
                long poolCapBytes) {
        this.name = name;
        this.bufferType = bufferType;
        this.buffers = buffers;
        this.state = new BackendState<>(name, memory, new MemoryPool<>(name, memory, poolCapBytes));
        this.cleanable = CLEANER.register(this, state);
    }

    /**
     * Sets the op families and the identity; called once, by the module's constructor, before any op.
     *
     * @param families     the module's op families
     * @param device       the device it runs on
     * @param capabilities what it can do
     */
    protected final void install(OpFamilies<B> families, DeviceInfo device, Capabilities capabilities) {
        state.lock.lock();
        try {
            if (ops != null) {
                throw new IllegalStateException(name + ": op families are installed once");
            }
            this.device = Objects.requireNonNull(device);
            this.capabilities = Objects.requireNonNull(capabilities);
            ops = Objects.requireNonNull(families);
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * Registers a native resource (a context, a thread pool, a staging ring) to close with the backend, after its
     * buffers and before the resources registered earlier; it must not refer to the backend.
     *
     * @param resource the resource
     * @param <R>      its type
     * @return {@code resource}
     */
    protected final <R extends AutoCloseable> R own(R resource) {
        state.lock.lock();
        try {
            state.resources.add(resource);
            return resource;
        } finally {
            state.lock.unlock();
        }
    }

    /**
     * Closes a backend whose construction failed with {@code failure}; a failure to close is added to it.
     *
     * @param failure what made the construction fail
     */
    protected final void closeAfter(Throwable failure) {
        try {
            close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * The pool, for op families that need scratch blocks within a call (they run under the lock, as the pool
     * requires); scratch blocks count as live buffers while they are held.
     *
     * @return the pool
     */
    protected final MemoryPool<M> pool() {
        return state.pool;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final DeviceInfo device() {
        return device;
    }

    @Override
    public final Capabilities capabilities() {
        return capabilities;
    }

    /** {@code cpu on AMD EPYC [CPU] 5.9 GiB, cores=2, ...}: the name and the device. */
    @Override
    public String toString() {
        return name + " on " + (device == null ? "(not created)" : device.describe());
    }

    /** {@return whether {@link #close()} has run (or the cleaner closed the backend)} */
    public final boolean isClosed() {
        return state.closed;
    }

    /** Gives every block kept for reuse back to the device (after queued work that may still use them). */
    public final void trimPool() {
        enter();
        try {
            state.pool.trim();
        } finally {
            exit();
        }
    }

    /** Takes the lock for a call that writes something when {@code work} is true; false (and unlocked) when not. */
    final boolean enter(boolean work) {
        enter();
        if (!work) {
            exit();
        }
        return work;
    }

    final void enter() {
        state.lock.lock();
        try {
            if (state.closed) {
                throw new IllegalStateException(name + ": the backend is closed");
            }
            state.memory.enter();
        } catch (RuntimeException | Error e) {
            state.lock.unlock();
            throw e;
        }
    }

    final void exit() {
        state.lock.unlock();
    }

    final B cast(Buffer b) {
        return bufferType.cast(b);
    }

    // ---- memory ----------------------------------------------------------------------------------------

    @Override
    public final Buffer allocate(DType dtype, long elements) {
        enter();
        try {
            @SuppressWarnings("unchecked") // only BaseBackend extends this class (package-private constructor)
            BaseBackend<M, B> owner = (BaseBackend<M, B>) this;
            return buffers.create(owner, dtype, elements, state.pool.allocate(dtype, elements));
        } finally {
            exit();
        }
    }

    @Override
    public final void release(Buffer buffer) {
        if (!bufferType.isInstance(buffer) || buffer.backend() != this) {
            throw new IllegalArgumentException(name + ": release of a buffer of another backend: " + buffer);
        }
        state.lock.lock();
        try {
            if (!state.closed) {
                MemoryPool.Block<M> block = cast(buffer).detach();
                if (block != null) {
                    state.memory.enter();
                    state.pool.free(block);
                }
            }
        } finally {
            state.lock.unlock();
        }
    }

    @Override
    public final void upload(HostArray src, Buffer dst, long dstOffset) {
        enter();
        try {
            refuseWhileRecording("an upload");
            B d = transferred("upload", src, dst, dstOffset);
            if (src.length() > 0) {
                ops.transfers().upload(src, d, dstOffset);
            }
        } finally {
            exit();
        }
    }

    @Override
    public final void download(Buffer src, long srcOffset, HostArray dst) {
        enter();
        try {
            refuseWhileRecording("a download");
            B s = transferred("download", dst, src, srcOffset);
            if (dst.length() > 0) {
                ops.transfers().download(s, srcOffset, dst);
            }
        } finally {
            exit();
        }
    }

    /** The device side of a transfer, checked against the host range: same dtype, range inside the buffer. */
    private B transferred(String what, HostArray host, Buffer device, long offset) {
        if (host.dtype() != device.dtype()) {
            throw new IllegalArgumentException(name + ": " + what + " between a " + host + " and a " + device.dtype()
                    + " buffer");
        }
        Objects.checkFromIndexSize(offset, host.length(), device.size());
        return cast(device);
    }

    @Override
    public final void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length) {
        if (enter(length > 0 && !(src == dst && srcOffset == dstOffset))) {
            try {
                    ops.transfers().copy(cast(src), srcOffset, cast(dst), dstOffset, length);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void fill(Buffer dst, long offset, long length, double value) {
        if (enter(length > 0)) {
            try {
                    ops.transfers().fill(cast(dst), offset, length, value);
            } finally {
                exit();
            }
        }
    }

    @Override
    public final void synchronize() {
        enter();
        try {
            refuseWhileRecording("a wait for the device");
            ops.transfers().synchronize();
        } finally {
            exit();
        }
    }

    @Override
    public final MemoryStats memoryStats() {
        enter();
        try {
            return state.pool.stats();
        } finally {
            exit();
        }
    }

    /** Waits for queued work, then frees every buffer, kept block and owned resource. Idempotent. */
    @Override
    public final void close() {
        state.explicit = true;
        cleanable.clean();
        RuntimeException failure = state.failure;
        state.failure = null;
        Reference.reachabilityFence(this);
        if (failure != null) {
            throw failure;
        }
    }

    /** The module's own convolution when it has one, else the SPI's default on this backend's GEMM. */
    @Override
    public final void conv2d(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight, long weightOffset,
                             Buffer bias, long biasOffset, Buffer y, long yOffset) {
        if (ops.convolution() == null) {
            Backend.super.conv2d(w, outChannels, x, xOffset, weight, weightOffset, bias, biasOffset, y, yOffset);
        } else {
            locked(w.columns() > 0, () -> ops.convolution().conv2d(w, outChannels, cast(x), xOffset, cast(weight),
                    weightOffset, bias == null ? null : cast(bias), biasOffset, cast(y), yOffset));
        }
    }

    /** The module's own convolution backward when it has one, else the SPI's default. */
    @Override
    public final void conv2dBackward(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                                     long weightOffset, Buffer dy, long dyOffset, Buffer dx, long dxOffset,
                                     Buffer dweight, long dweightOffset, Buffer dbias, long dbiasOffset) {
        if (ops.convolution() == null) {
            Backend.super.conv2dBackward(w, outChannels, x, xOffset, weight, weightOffset, dy, dyOffset, dx, dxOffset,
                    dweight, dweightOffset, dbias, dbiasOffset);
        } else {
            locked(true, () -> ops.convolution().conv2dBackward(w, outChannels, x == null ? null : cast(x), xOffset,
                    cast(weight), weightOffset, cast(dy), dyOffset, dx == null ? null : cast(dx), dxOffset,
                    dweight == null ? null : cast(dweight), dweightOffset, dbias == null ? null : cast(dbias),
                    dbiasOffset));
        }
    }

    /** The module's fused epilogue when it has one, else the SPI's default (ADD then the activation). */
    @Override
    public final void biasActivation(UnaryOp act, int rows, int cols, Buffer z, long zOffset, Buffer bias,
                                     long biasOffset, Buffer y, long yOffset) {
        fusedActivation("biasActivation", act);
        if (ops.fused() == null) {
            Backend.super.biasActivation(act, rows, cols, z, zOffset, bias, biasOffset, y, yOffset);
        } else {
            locked((long) rows * cols > 0, () -> ops.fused().biasActivation(act, rows, cols, cast(z), zOffset,
                    cast(bias), biasOffset, cast(y), yOffset));
        }
    }

    /** The module's fused epilogue backward when it has one, else the SPI's default. */
    @Override
    public final void biasActivationBackward(UnaryOp act, int rows, int cols, Buffer y, long yOffset, Buffer g,
                                             long gOffset, Buffer dz, long dzOffset, Buffer dbias,
                                             long dbiasOffset) {
        fusedActivation("biasActivationBackward", act);
        if (ops.fused() == null) {
            Backend.super.biasActivationBackward(act, rows, cols, y, yOffset, g, gOffset, dz, dzOffset, dbias,
                    dbiasOffset);
        } else {
            locked(cols > 0, () -> ops.fused().biasActivationBackward(act, rows, cols, cast(y), yOffset, cast(g),
                    gOffset, cast(dz), dzOffset, cast(dbias), dbiasOffset));
        }
    }

    /** Refuses an activation the fused ops do not take, before anything is queued on either path. */
    private static void fusedActivation(String op, UnaryOp act) {
        if (!FUSED_ACTIVATIONS.contains(act)) {
            throw new IllegalArgumentException(op + ": " + act + " is not one of " + FUSED_ACTIVATIONS);
        }
    }

    /** The module's multi-tensor SGD step when it has one, else one {@link #sgdUpdate} per tensor. */
    @Override
    public final void sgdUpdateAll(List<SgdTensor> tensors, double lr, double momentum, double weightDecay,
                                   boolean nesterov) {
        if (ops.fused() == null) {
            Backend.super.sgdUpdateAll(tensors, lr, momentum, weightDecay, nesterov);
            return;
        }
        List<SgdTensor> writing = tensors.stream().filter(t -> t.n() > 0).toList();
        locked(!writing.isEmpty(), () -> {
            for (SgdTensor t : writing) {
                cast(t.param());
                cast(t.grad());
                if (t.velocity() != null) {
                    cast(t.velocity());
                }
            }
            ops.fused().sgdUpdateAll(writing, lr, momentum, weightDecay, nesterov);
        });
    }

    /** The module's multi-tensor Adam step when it has one, else one {@link #adamUpdate} per tensor. */
    @Override
    public final void adamUpdateAll(List<AdamTensor> tensors, double lr, double beta1, double beta2, double eps,
                                    double weightDecay, boolean decoupled, long step) {
        if (ops.fused() == null) {
            Backend.super.adamUpdateAll(tensors, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            return;
        }
        List<AdamTensor> writing = tensors.stream().filter(t -> t.n() > 0).toList();
        locked(!writing.isEmpty(), () -> {
            for (AdamTensor t : writing) {
                cast(t.param());
                cast(t.grad());
                cast(t.m());
                cast(t.v());
            }
            ops.fused().adamUpdateAll(writing, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        });
    }

    /**
     * The module's recorder of training steps, or null (the default): {@link #runStep} then runs every step as it
     * comes. Asked on every transfer, so a field read.
     *
     * @return the recorder, or null
     */
    protected OpFamilies.StepRecorder<M> stepRecorder() {
        return null;
    }

    /** A transfer or a wait would not be repeated by a replay: refused while a step is recorded. */
    private void refuseWhileRecording(String what) {
        OpFamilies.StepRecorder<M> recorder = stepRecorder();
        if (recorder != null && recorder.recording()) {
            throw new IllegalStateException(name + ": " + what + " inside a recorded training step, which a replay "
                    + "would not repeat; do it before or after the step");
        }
    }

    /** Runs {@code op} with the lock held and the backend open, when it writes something. */
    final void locked(boolean writes, Runnable op) {
        if (enter(writes)) {
            try {
                op.run();
            } finally {
                exit();
            }
        }
    }
}
