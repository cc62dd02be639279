package dev.backprop.backend;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The host side of a transfer: a range of a {@code float[]}, {@code double[]} or {@code int[]}, whose element type
 * is the {@link DType} of the buffer on the other side. {@link Backend#upload(HostArray, Buffer, long)} and
 * {@link Backend#download(Buffer, long, HostArray)} take one, so a backend writes one method per direction instead
 * of one per Java array type; the typed overloads of {@link Backend} wrap their arguments in one.
 */
public final class HostArray {
    private final Object array;
    private final DType dtype;
    private final int offset;
    private final int length;

    private HostArray(Object array, DType dtype, int arrayLength, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, arrayLength);
        this.array = array;
        this.dtype = dtype;
        this.offset = offset;
        this.length = length;
    }

    /**
     * {@code length} floats from {@code array[offset]}.
     *
     * @param array  the array (not copied)
     * @param offset the range's first element
     * @param length elements in the range
     * @return the range
     * @throws IndexOutOfBoundsException when the range does not lie inside the array
     */
    public static HostArray of(float[] array, int offset, int length) {
        return new HostArray(array, DType.FLOAT32, array.length, offset, length);
    }

    /**
     * {@code length} doubles from {@code array[offset]}; see {@link #of(float[], int, int)}.
     *
     * @param array  the array (not copied)
     * @param offset the range's first element
     * @param length elements in the range
     * @return the range
     */
    public static HostArray of(double[] array, int offset, int length) {
        return new HostArray(array, DType.FLOAT64, array.length, offset, length);
    }

    /**
     * {@code length} ints from {@code array[offset]}; see {@link #of(float[], int, int)}.
     *
     * @param array  the array (not copied)
     * @param offset the range's first element
     * @param length elements in the range
     * @return the range
     */
    public static HostArray of(int[] array, int offset, int length) {
        return new HostArray(array, DType.INT32, array.length, offset, length);
    }

    /**
     * {@return the element type: FLOAT32 for a {@code float[]}, FLOAT64 for a {@code double[]}, INT32 for an
     * {@code int[]}}
     */
    public DType dtype() {
        return dtype;
    }

    /** {@return the whole Java array (not a copy); the range starts at {@link #offset()}} */
    public Object array() {
        return array;
    }

    /** {@return the index of the first element of the range in {@link #array()}} */
    public int offset() {
        return offset;
    }

    /** {@return elements in the range} */
    public int length() {
        return length;
    }

    /** {@return bytes in the range} */
    public long bytes() {
        return (long) length * dtype.byteSize();
    }

    /** {@return where the range starts in the array, in bytes (what a native pointer to the array is offset by)} */
    public long byteOffset() {
        return (long) offset * dtype.byteSize();
    }

    /**
     * Copies {@code bytes} bytes of the range, starting {@code fromByte} bytes into it, into {@code target} at its
     * position, in {@code target}'s byte order; both must be whole elements. For uploads through host staging memory.
     *
     * @param fromByte where to start in the range, in bytes
     * @param bytes    how many bytes to copy
     * @param target   the buffer to copy into, from its position
     */
    public void copyTo(long fromByte, int bytes, ByteBuffer target) {
        int size = dtype.byteSize();
        int first = offset + Math.toIntExact(fromByte / size);
        int count = bytes / size;
        switch (dtype) {
            case FLOAT32 -> target.asFloatBuffer().put((float[]) array, first, count);
            case FLOAT64 -> target.asDoubleBuffer().put((double[]) array, first, count);
            case INT32 -> target.asIntBuffer().put((int[]) array, first, count);
        }
    }

    @Override
    public String toString() {
        return dtype + " array range [" + offset + ", " + (offset + length) + ")";
    }
}
