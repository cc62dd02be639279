package dev.backprop.cpu;

import dev.backprop.backend.DType;
import dev.backprop.backend.base.BaseBackend;
import dev.backprop.backend.base.BaseBuffer;
import dev.backprop.backend.base.MemoryPool;

/**
 * A cpu buffer: its block is one Java heap array ({@code float[]}, {@code double[]} or {@code int[]} by dtype), at
 * least as long as the buffer (the pool rounds sizes up to a class). Heap arrays are what the Vector API loads and
 * stores fastest ({@code fromArray}/{@code intoArray} compile to plain SIMD moves).
 *
 * <p>Accessors return the array itself, so an op reads it once and loops on the array. Every accessor but
 * {@link #readOnly} drops the buffer's {@link PackedPanels}: an op that may write the array makes a packed copy
 * stale, and every op reaches the array through an accessor, under the backend's lock.
 */
final class CpuBuffer extends BaseBuffer<Object> {
    /** GEMM panels packed from this buffer's contents, a mark of reads, or null; see {@link PackedPanels}. */
    private volatile PackedPanels packed;
    /** Whether the buffer was written after panels were packed (or refused) for it: see {@link PackedPanels}. */
    private volatile boolean rewritten;

    CpuBuffer(BaseBackend<Object, CpuBuffer> owner, DType dtype, long size, MemoryPool.Block<Object> block) {
        super(owner, dtype, size, block);
    }

    float[] floats() {
        forgetPanels();
        return (float[]) memory();
    }

    double[] doubles() {
        forgetPanels();
        return (double[]) memory();
    }

    int[] ints() {
        forgetPanels();
        return (int[]) memory();
    }

    /** The array whatever its type, for an op that may write it (a copy's or a transpose's destination). */
    Object array() {
        forgetPanels();
        return memory();
    }

    /**
     * The array for an op that only reads it and cannot write it through another buffer, which keeps the packed
     * panels: a GEMM's A and B, a download's or copy's source.
     */
    Object readOnly() {
        return memory();
    }

    /**
     * The array of {@code src} for an op that reads it and writes {@code dst}: {@link #readOnly} unless both are
     * one array (the same buffer, or views of one block), where the write changes the source and drops its panels.
     */
    static Object source(CpuBuffer src, CpuBuffer dst) {
        Object from = src.readOnly();
        return from == dst.readOnly() ? src.array() : from;
    }

    /** The panels packed from the current contents, or null (none, or the buffer was released). */
    PackedPanels panels() {
        PackedPanels p = packed;
        if (p != null && isReleased()) {
            forgetPanels();
            return null;
        }
        return p;
    }

    /** Records panels packed from the current contents (or a mark of reads), giving back replaced panels' bytes. */
    void panels(PackedPanels p) {
        PackedPanels old = packed;
        if (old != null && old != p) {
            old.free();
        }
        packed = p;
    }

    /** Whether panels were packed (or refused) for this buffer and it was written since. */
    boolean rewritten() {
        return rewritten;
    }

    /** Kept panels belong to the contents: a released buffer's go now, not when the object is collected. */
    @Override
    protected void released() {
        forgetPanels();
    }

    private void forgetPanels() {
        PackedPanels p = packed;
        if (p != null) {
            packed = null;
            if (p.attempted()) {
                rewritten = true;
            }
            p.free();
        }
    }
}
