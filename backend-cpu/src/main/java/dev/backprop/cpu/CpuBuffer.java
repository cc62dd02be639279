package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A cpu buffer: one Java heap array ({@code float[]}, {@code double[]} or {@code int[]} by dtype). Heap arrays
 * are what the Vector API loads and stores fastest ({@code fromArray}/{@code intoArray} compile to plain SIMD
 * moves), and the garbage collector, not the backend, owns the memory: releasing a buffer drops the array
 * reference and updates the backend's accounting.
 *
 * <p>Accessors return the array itself, so an op reads the field once and loops on the array.
 */
final class CpuBuffer implements Buffer {
    private final CpuBackend backend;
    private final DType dtype;
    private final int size;
    private final AtomicBoolean released = new AtomicBoolean();
    /** The array; null once released, so the heap can reclaim it even if a closed tensor still holds this. */
    private volatile Object data;

    CpuBuffer(CpuBackend backend, DType dtype, int size, Object data) {
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.data = data;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long size() {
        return size;
    }

    /** Bytes of element data (what the accounting counts). */
    long bytes() {
        return (long) size * dtype.byteSize();
    }

    @Override
    public boolean isReleased() {
        return released.get();
    }

    /**
     * Marks the buffer released and returns its array, for the one call that actually released it; null for
     * later calls. The buffer no longer refers to the array, so the array may be reused for another buffer.
     */
    Object markReleased() {
        if (released.compareAndSet(false, true)) {
            Object d = data;
            data = null;
            return d;
        }
        return null;
    }

    float[] floats() {
        return (float[]) live();
    }

    double[] doubles() {
        return (double[]) live();
    }

    int[] ints() {
        return (int[]) live();
    }

    private Object live() {
        Object d = data;
        if (d == null) {
            throw new IllegalStateException("cpu: buffer of " + size + " " + dtype + " elements used after release");
        }
        return d;
    }

    @Override
    public String toString() {
        return "CpuBuffer[" + dtype + " x " + size + (isReleased() ? ", released]" : "]");
    }
}
