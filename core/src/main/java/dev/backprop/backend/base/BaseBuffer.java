package dev.backprop.backend.base;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

/**
 * A buffer of a {@link BaseBackend}: its owner, dtype and length, and the pool block holding its elements. A
 * backend module's buffer class only adds typed access to the block ({@code floats()}, a device pointer at an
 * offset).
 *
 * <p>Release hands the block back and forgets it, so a released buffer that is still referenced (by a closed
 * tensor) holds no memory, and using it fails instead of reading a block that now belongs to another buffer.
 *
 * @param <M> the device's handle of a block
 */
public abstract class BaseBuffer<M> implements Buffer {
    /**
     * Makes a module's buffer around a pool block: the buffer class's constructor.
     *
     * @param <M> the device's handle of a block
     * @param <B> the module's buffer class
     */
    @FunctionalInterface
    public interface Factory<M, B extends BaseBuffer<M>> {
        /**
         * A buffer of {@code size} elements of {@code dtype} in {@code block}, owned by {@code owner}.
         *
         * @param owner the backend
         * @param dtype the element type
         * @param size  elements
         * @param block the pool's block
         * @return the buffer
         */
        B create(BaseBackend<M, B> owner, DType dtype, long size, MemoryPool.Block<M> block);
    }

    private final BaseBackend<M, ?> owner;
    private final DType dtype;
    private final long size;
    private volatile MemoryPool.Block<M> block;

    /**
     * A buffer around a pool block.
     *
     * @param owner the backend that allocated it
     * @param dtype the element type
     * @param size  elements
     * @param block the pool's block for them
     */
    protected BaseBuffer(BaseBackend<M, ?> owner, DType dtype, long size, MemoryPool.Block<M> block) {
        this.owner = owner;
        this.dtype = dtype;
        this.size = size;
        this.block = block;
    }

    @Override
    public final Backend backend() {
        return owner;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public final long size() {
        return size;
    }

    /** {@return bytes of element data} */
    public final long bytes() {
        return size * dtype.byteSize();
    }

    /** Released, or its backend closed. */
    @Override
    public final boolean isReleased() {
        return block == null || owner.isClosed();
    }

    /**
     * The device's handle of the block (null only for an empty buffer on a device without empty allocations).
     *
     * @return the handle
     * @throws IllegalStateException when the buffer was released
     */
    protected final M memory() {
        MemoryPool.Block<M> b = block;
        if (b == null) {
            throw new IllegalStateException(owner.name() + ": " + this + " used after release");
        }
        return b.raw();
    }

    /** The pool's block, null once released; read under the backend's lock. */
    final MemoryPool.Block<M> block() {
        return block;
    }

    /** Takes the block away, for the one call that releases the buffer (under the backend's lock); null later. */
    final MemoryPool.Block<M> detach() {
        MemoryPool.Block<M> b = block;
        block = null;
        if (b != null) {
            released();
        }
        return b;
    }

    /**
     * Called once when the buffer is released, under the backend's lock, so a module's buffer can drop what it
     * keeps beside its block (a cache derived from the contents); the default keeps nothing.
     */
    protected void released() {
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + dtype + " x " + size + (block == null ? ", released]" : "]");
    }
}
