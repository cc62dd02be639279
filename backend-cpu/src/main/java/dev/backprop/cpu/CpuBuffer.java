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
 * <p>Accessors return the array itself, so an op reads it once and loops on the array.
 */
final class CpuBuffer extends BaseBuffer<Object> {
    CpuBuffer(BaseBackend<Object, CpuBuffer> owner, DType dtype, long size, MemoryPool.Block<Object> block) {
        super(owner, dtype, size, block);
    }

    float[] floats() {
        return (float[]) memory();
    }

    double[] doubles() {
        return (double[]) memory();
    }

    int[] ints() {
        return (int[]) memory();
    }

    /** The array whatever its type (for copies and transposes that only move elements). */
    Object array() {
        return memory();
    }
}
