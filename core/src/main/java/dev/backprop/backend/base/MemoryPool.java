package dev.backprop.backend.base;

import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.MemoryStats;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The caching allocator of every backend, and its accounting. A request is rounded up to a size class and served
 * from released blocks of that class when there are any, so a training loop that allocates the same shapes every
 * step asks the device for memory only in its first step (creating and freeing device memory costs more than the
 * step's small kernels on GPUs, and a fresh Java array is zeroed and later collected).
 *
 * <ul>
 *   <li><b>Size classes</b> ({@link #sizeClass}): at least {@link #MIN_BLOCK} bytes; below {@link #LARGE} one of 16
 *       steps per power of two (at most 1/16 wasted), above it a multiple of 2 MiB.</li>
 *   <li><b>Byte cap</b>: released blocks are kept while they add up to at most the backend's cap; a block that
 *       does not fit goes back to the device at once.</li>
 *   <li><b>Out of memory</b>: when the device refuses a block, the pool gives every kept block back and asks once
 *       more; a second refusal is a {@link DeviceOutOfMemoryException} naming the request, the block and what
 *       this backend holds. Nothing is allocated or counted then.</li>
 *   <li><b>Accounting</b>: live buffers and their bytes, the peak of those bytes, the bytes kept for reuse.</li>
 * </ul>
 * Reusing a block while queued work may still read it is safe because each backend runs its work in call order
 * on one queue: work queued after the block is handed out again runs after the work that used it before. Work
 * recorded once and replayed later (a CUDA graph) is the exception: its blocks are {@link #pin pinned}.
 *
 * <p>Not thread-safe: {@link BaseBackend} calls it with its lock held.
 *
 * @param <M> the device's handle of a block
 */
public final class MemoryPool<M> {
    /** Smallest block, and the granularity of small classes. */
    public static final long MIN_BLOCK = 512;
    /** From here on, classes are multiples of 2 MiB (large tensors are few and their sizes repeat). */
    public static final long LARGE = 64L << 20;
    private static final long LARGE_STEP = 2L << 20;

    /**
     * One allocation: a block of {@link #bytes()} (its class) holding {@link #usedBytes()} of elements.
     *
     * @param <M> the device's handle of a block
     */
    public static final class Block<M> {
        private final M raw;
        private final long bytes;
        private final long usedBytes;
        private final DType dtype;

        Block(M raw, long bytes, long usedBytes, DType dtype) {
            this.raw = raw;
            this.bytes = bytes;
            this.usedBytes = usedBytes;
            this.dtype = dtype;
        }

        /** {@return the device's handle; null only for an empty block of a device without empty allocations} */
        public M raw() {
            return raw;
        }

        /** {@return the block's size (its size class), in bytes} */
        public long bytes() {
            return bytes;
        }

        /** {@return bytes of the elements it was allocated for} */
        public long usedBytes() {
            return usedBytes;
        }
    }

    private final String owner;
    private final RawMemory<M> raw;
    private final long capBytes;
    private final Map<Long, ArrayDeque<M>> pooled = new HashMap<>();
    private final Set<Block<M>> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Pin<M>> pins = new ArrayList<>();
    private long liveBytes;
    private long peakBytes;
    private long pooledBytes;

    /**
     * An empty pool over a device's memory.
     *
     * @param owner    the backend's name, for messages
     * @param raw      the device's memory
     * @param capBytes most bytes kept in released blocks
     */
    public MemoryPool(String owner, RawMemory<M> raw, long capBytes) {
        if (capBytes < 0) {
            throw new IllegalArgumentException(owner + ": the pool's cap must not be negative, got " + capBytes);
        }
        this.owner = owner;
        this.raw = raw;
        this.capBytes = capBytes;
    }

    /**
     * The size class of a request of {@code bytes > 0}: at least {@code bytes}; see the class comment.
     *
     * @param bytes the request, > 0
     * @return the block size that serves it
     */
    public static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        if (bytes >= LARGE) {
            return bytes > Long.MAX_VALUE - LARGE_STEP ? bytes : (bytes + LARGE_STEP - 1) / LARGE_STEP * LARGE_STEP;
        }
        long below = Long.highestOneBit(bytes - 1);
        long step = Math.max(MIN_BLOCK, below / 16);
        return (bytes + step - 1) / step * step;
    }

    /**
     * A block for {@code elements} elements of {@code dtype}, kept or new.
     *
     * @param dtype    the element type
     * @param elements how many (≥ 0)
     * @return the block
     * @throws IllegalArgumentException   for a negative count
     * @throws DeviceOutOfMemoryException when it exceeds the largest block, or the device has no room even after
     *                                    the pool was emptied; nothing is allocated or counted then
     */
    public Block<M> allocate(DType dtype, long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException(owner + ": cannot allocate " + elements + " elements");
        }
        long max = raw.maxBlockBytes(dtype);
        long bytes = elements > Long.MAX_VALUE / dtype.byteSize() ? -1 : elements * dtype.byteSize();
        if (bytes < 0 || bytes > max) {
            throw new DeviceOutOfMemoryException(String.format(Locale.ROOT, "%s: cannot allocate %,d %s elements (%s):"
                    + " the largest block is %s (%s)", owner, elements, dtype,
                    bytes < 0 ? "over 8 EiB" : MemoryStats.human(bytes), MemoryStats.human(max),
                    raw.maxBlockReason()));
        }
        long size = bytes == 0 ? 0 : Math.min(sizeClass(bytes), max - max % dtype.byteSize());
        M block = bytes == 0 ? null : take(dtype, size);
        if (block == null) {
            block = fresh(dtype, elements, bytes, size);
        }
        Block<M> b = new Block<>(block, size, bytes, dtype);
        live.add(b);
        for (Pin<M> p : pins) {
            if (p.recording) {
                p.blocks.add(b);
            }
        }
        liveBytes += bytes;
        peakBytes = Math.max(peakBytes, liveBytes);
        return b;
    }

    private M take(DType dtype, long size) {
        ArrayDeque<M> kept = pooled.get(key(dtype, size));
        if (kept == null || kept.isEmpty()) {
            return null;
        }
        pooledBytes -= size;
        return kept.pop();
    }

    private M fresh(DType dtype, long elements, long bytes, long size) {
        try {
            return raw.allocate(dtype, size);
        } catch (DeviceOutOfMemoryException first) {
            trim();
            try {
                return raw.allocate(dtype, size);
            } catch (DeviceOutOfMemoryException second) {
                second.addSuppressed(first);
                throw new DeviceOutOfMemoryException(String.format(Locale.ROOT, "%s: cannot allocate %,d %s elements"
                        + " (%s in a %s block) even after emptying the pool: %s; this backend holds %,d live buffers"
                        + " of %s (peak %s); release tensors or use smaller batches", owner, elements, dtype,
                        MemoryStats.human(bytes), MemoryStats.human(size), second.getMessage(), live.size(),
                        MemoryStats.human(liveBytes), MemoryStats.human(peakBytes)), second);
            }
        }
    }

    private long key(DType dtype, long size) {
        return size * 4 + (raw.typed() ? dtype.ordinal() : 0);
    }

    /**
     * Frees a live block: kept for reuse while the cap allows, else given back to the device. Twice does nothing.
     *
     * @param b a block from {@link #allocate}
     */
    public void free(Block<M> b) {
        if (!live.remove(b)) {
            return;
        }
        liveBytes -= b.usedBytes;
        if (b.bytes == 0) {
            return;
        }
        for (Pin<M> p : pins) {
            if (p.blocks.contains(b)) {
                p.held.add(b);
                return;
            }
        }
        release(b);
    }

    private void release(Block<M> b) {
        if (pooledBytes + b.bytes <= capBytes) {
            pooled.computeIfAbsent(key(b.dtype, b.bytes), k -> new ArrayDeque<>()).push(b.raw);
            pooledBytes += b.bytes;
        } else {
            raw.quiesce();
            raw.free(b.raw);
        }
    }

    /** Gives every kept block back to the device (after queued work that may use them); reports the first failure. */
    public void trim() {
        if (pooledBytes == 0) {
            return;
        }
        raw.quiesce();
        List<M> blocks = new ArrayList<>();
        pooled.values().forEach(blocks::addAll);
        pooled.clear();
        pooledBytes = 0;
        freeAll(blocks);
    }

    /** Gives every block, live or kept, back to the device (the backend is closing); reports the first failure. */
    public void close() {
        raw.quiesce();
        List<M> blocks = new ArrayList<>();
        for (Block<M> b : live) {
            if (b.bytes > 0) {
                blocks.add(b.raw);
            }
        }
        live.clear();
        liveBytes = 0;
        for (Pin<M> p : pins) {
            p.held.forEach(b -> blocks.add(b.raw));
            p.held.clear();
        }
        pins.clear();
        pooled.values().forEach(blocks::addAll);
        pooled.clear();
        pooledBytes = 0;
        freeAll(blocks);
    }

    private void freeAll(List<M> blocks) {
        RuntimeException first = null;
        for (M m : blocks) {
            try {
                raw.free(m);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Starts pinning the blocks of a recording that will be replayed (a CUDA graph's device addresses): every block
     * allocated from now until {@link Pin#seal}, and every live block {@link Pin#add added}, is handed out to no one
     * else until the pin is closed. Such a block freed in the meantime is held for the pin, since a replay may still
     * write it, and goes back to the pool when the last pin holding it closes.
     *
     * @throws IllegalStateException when another pin is still recording (one capture at a time)
     */
    public Pin<M> pin() {
        for (Pin<M> p : pins) {
            if (p.recording) {
                throw new IllegalStateException(owner + ": a recording is already pinning its blocks; seal it first");
            }
        }
        Pin<M> p = new Pin<>(this);
        pins.add(p);
        return p;
    }

    /**
     * The blocks one recording refers to (see {@link MemoryPool#pin}). Closed by its owner when the recording is
     * destroyed, or with the pool.
     *
     * @param <M> the device's handle of a block
     */
    public static final class Pin<M> implements AutoCloseable {
        private final MemoryPool<M> pool;
        private final Set<Block<M>> blocks = Collections.newSetFromMap(new IdentityHashMap<>());
        private final List<Block<M>> held = new ArrayList<>();
        private boolean recording = true;

        private Pin(MemoryPool<M> pool) {
            this.pool = pool;
        }

        /** Pins a block allocated before the recording began (a parameter, a batch buffer). */
        public void add(Block<M> b) {
            if (!pool.live.contains(b)) {
                throw new IllegalArgumentException(pool.owner + ": only a live block can be pinned");
            }
            blocks.add(b);
        }

        /** The recording ended: later allocations are not pinned. */
        public void seal() {
            recording = false;
        }

        /** Blocks pinned, live or held. */
        public int pinnedCount() {
            return blocks.size();
        }

        /** Pinned blocks that were freed and are kept for this recording's replays. */
        public int heldCount() {
            return held.size();
        }

        /** Unpins: each held block goes to another pin that holds it too, else back to the pool. Twice does nothing. */
        @Override
        public void close() {
            if (!pool.pins.remove(this)) {
                return;
            }
            recording = false;
            for (Block<M> b : held) {
                Pin<M> other = pool.pins.stream().filter(p -> p.blocks.contains(b)).findFirst().orElse(null);
                if (other != null) {
                    other.held.add(b);
                } else {
                    pool.release(b);
                }
            }
            held.clear();
            blocks.clear();
        }
    }

    /** {@return live buffers (blocks handed out and not freed)} */
    public int liveCount() {
        return live.size();
    }

    /** {@return bytes of elements in live buffers} */
    public long liveBytes() {
        return liveBytes;
    }

    /** {@return bytes kept in released blocks} */
    public long pooledBytes() {
        return pooledBytes;
    }

    /** {@return the accounting, with what the platform reports for the same memory} */
    public MemoryStats stats() {
        List<M> blocks = new ArrayList<>(live.size());
        for (Block<M> b : live) {
            blocks.add(b.raw);
        }
        RawMemory.Platform p = raw.platform(blocks);
        return new MemoryStats(live.size(), liveBytes, peakBytes, pooledBytes, p.bytes(), p.source());
    }
}
