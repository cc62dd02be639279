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
    /** GEMM panels packed from this buffer's contents, or null; see {@link PackedPanels}. */
    private volatile PackedPanels packed;

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

    /** The array whatever its type (for copies and transposes that only move elements). */
    Object array() {
        forgetPanels();
        return memory();
    }

    /** The array for an op that only reads it, which keeps the packed panels: a GEMM's A and B. */
    Object readOnly() {
        return memory();
    }

    /** The panels packed from the current contents, or null (none, or the buffer was released). */
    PackedPanels panels() {
        PackedPanels p = packed;
        if (p != null && isReleased()) {
            packed = null;
            return null;
        }
        return p;
    }

    /** Records panels packed from the current contents (or the mark that it was read once). */
    void panels(PackedPanels p) {
        packed = p;
    }

    private void forgetPanels() {
        if (packed != null) {
            packed = null;
        }
    }
}
