package dev.backprop.backend;

/**
 * A block of device memory owned by one {@link Backend}: a flat array of {@link #size()} elements of one
 * {@link #dtype()}. Created by {@link Backend#allocate}, freed by {@link Backend#release}. Offsets in every
 * backend call are in elements, not bytes.
 *
 * <p>Users normally hold {@link dev.backprop.tensor.Tensor}s, which own a buffer and add shape, views and
 * scoped lifetime; a buffer is the backend's view of the same memory.
 */
public interface Buffer {
    /** {@return the backend that allocated this buffer} */
    Backend backend();

    /** {@return the element type} */
    DType dtype();

    /** {@return the number of elements} */
    long size();

    /** {@return whether {@link Backend#release} has been called on it} */
    boolean isReleased();
}
