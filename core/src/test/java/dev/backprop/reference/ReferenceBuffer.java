package dev.backprop.reference;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

/**
 * A {@link ReferenceBackend} buffer: every element is held as a {@code double}, whatever the dtype. FLOAT32
 * values are floats widened (each store rounds to float first), INT32 values are whole doubles in int range.
 * Only {@link ReferenceBackend} reads or writes {@link #data}.
 */
final class ReferenceBuffer implements Buffer {
    private final ReferenceBackend backend;
    private final DType dtype;
    final double[] data;
    private volatile boolean released;

    ReferenceBuffer(ReferenceBackend backend, DType dtype, int elements) {
        this.backend = backend;
        this.dtype = dtype;
        this.data = new double[elements];
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
        return data.length;
    }

    @Override
    public boolean isReleased() {
        return released;
    }

    void markReleased() {
        released = true;
    }

    /** The value as this dtype stores it: float rounding for FLOAT32, int wrap-around for INT32. */
    double round(double value) {
        return switch (dtype) {
            case FLOAT32 -> (float) value;
            case FLOAT64 -> value;
            case INT32 -> (int) (long) value;
        };
    }

    /** @throws IndexOutOfBoundsException unless {@code [offset, offset + length)} lies inside the buffer */
    void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > data.length) {
            throw new IndexOutOfBoundsException("reference: range [" + offset + ", " + (offset + length)
                    + ") outside " + this);
        }
    }

    @Override
    public String toString() {
        return "ReferenceBuffer[" + dtype + " x " + data.length + (released ? ", released]" : "]");
    }
}
