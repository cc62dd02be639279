package dev.backprop.backend.base;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;

import java.util.List;

/**
 * What a backend module provides to {@link MemoryPool}: blocks of device memory as the device hands them out
 * ({@code M} is the device's handle: a Java array, a {@code cl_mem}, a device pointer). The pool decides sizes,
 * reuse and accounting; this says only how to get and give back a block, and what the platform reports.
 *
 * <p>Called with the backend's lock held, after {@link #enter()}. Every method but {@link #allocate} and
 * {@link #free} has a default or is a fact.
 *
 * @param <M> the device's handle of a block
 */
public interface RawMemory<M> {

    /**
     * What the platform reports for a backend's memory; see {@link dev.backprop.backend.MemoryStats}.
     *
     * @param bytes  the bytes it reports in use
     * @param source where the figure comes from, for display
     */
    record Platform(long bytes, String source) {
    }

    /**
     * Prepares the calling thread to use the device (a CUDA context made current). Called under the lock before
     * every call of the backend touches the device, and before the pool frees blocks on close. Default: nothing.
     */
    default void enter() {
    }

    /**
     * Whether a block can hold elements of one dtype only (Java arrays are typed): then the pool keeps released
     * blocks per dtype as well as per size, and passes the dtype to {@link #allocate}.
     *
     * @return true when blocks are typed (default false)
     */
    default boolean typed() {
        return false;
    }

    /**
     * The largest block the device can hold for {@code dtype}, in bytes.
     *
     * @param dtype the element type
     * @return the size limit
     */
    long maxBlockBytes(DType dtype);

    /** {@return why {@link #maxBlockBytes} is what it is, for the message that refuses a larger request} */
    String maxBlockReason();

    /**
     * A new block of exactly {@code bytes} bytes (a whole number of {@code dtype} elements; 0 gives an empty block,
     * which may be null on a device without empty allocations). Its contents are unspecified.
     *
     * @param dtype the element type
     * @param bytes the block's size
     * @return the device's handle of the block
     * @throws DeviceOutOfMemoryException when the device has no room (the pool then empties itself and asks once
     *                                    more); its message says what the device reported
     */
    M allocate(DType dtype, long bytes);

    /**
     * Gives a block back to the device; the pool calls {@link #quiesce()} first where queued work may use it.
     *
     * @param block a block from {@link #allocate}
     */
    void free(M block);

    /** Waits until no queued work can still use a block about to be freed. Default: nothing queues. */
    default void quiesce() {
    }

    /**
     * What the platform reports for this backend's memory, given the live blocks (empty ones included).
     *
     * @param liveBlocks the blocks in use
     * @return the platform's figures
     */
    Platform platform(List<M> liveBlocks);
}
