package dev.backprop.cpu;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of {@link PackedPanels} one backend may keep at once ({@code gemm.keep.limit}), and how many it keeps.
 * Kept panels are a second copy of a model's weights on the heap; without a bound, a model that barely fits the heap
 * would fail on its second request (when its panels are packed) although the product needs no kept copy.
 *
 * <h2>Accounting</h2>
 * Panels take their bytes here before they are allocated and give them back when they are dropped: the buffer is
 * written, released, or its panels are replaced by another layout's. A buffer that is neither released nor written
 * and is collected with its panels keeps its bytes counted (as the memory pool counts its block as live: an
 * unreleased buffer is a leak either way). The backend's {@code liveBytes} counts buffers only, as on every
 * backend; the kept bytes are this class's figure ({@link #keptBytes}), and being heap arrays they are part of the
 * cpu backend's platform figure (heap after collection, {@link CpuMemory}).
 */
final class PanelBudget {
    /** Share of the heap ({@code 1/n}) kept panels may take by default: a second copy of a quarter of the heap. */
    static final int DEFAULT_HEAP_SHARE = 4;

    private final long limitBytes;
    private final AtomicLong kept = new AtomicLong();

    PanelBudget(long limitBytes) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("backprop.cpu.gemm.keep.limit must be at least 0 MiB, got "
                    + (limitBytes >> 20) + " MiB");
        }
        this.limitBytes = limitBytes;
    }

    /** The default bound: {@code 1/}{@link #DEFAULT_HEAP_SHARE} of the heap limit, in MiB. */
    static int defaultLimitMiB() {
        return (int) Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() / DEFAULT_HEAP_SHARE >> 20);
    }

    /** Takes {@code bytes} for panels about to be packed; false (nothing taken) where they would pass the bound. */
    boolean reserve(long bytes) {
        long now;
        do {
            now = kept.get();
            if (bytes > limitBytes - now) {
                return false;
            }
        } while (!kept.compareAndSet(now, now + bytes));
        return true;
    }

    /** Gives back the bytes of panels that were dropped (or could not be allocated). */
    void free(long bytes) {
        kept.addAndGet(-bytes);
    }

    /** Bytes of panels kept now. */
    long keptBytes() {
        return kept.get();
    }

    long limitBytes() {
        return limitBytes;
    }
}
