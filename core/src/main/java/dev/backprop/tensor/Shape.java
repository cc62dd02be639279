package dev.backprop.tensor;

import java.util.Arrays;

/**
 * The dimensions of a tensor, of any order, row-major (the last dimension varies fastest). A batch of colour
 * images is {@code [N, H, W, C]}; a scalar is {@code []}. Immutable.
 *
 * <p>Every rank can be made. Elementwise ops, row and column reductions and softmax view a tensor as a matrix
 * ({@link #rows()} × {@link #cols()}), so they work at any rank; the ops that take fixed ranks check them and name
 * the shape when it does not fit: matrix products rank 2 or 3, convolution and pooling 4, batch norm 2 to 4,
 * permute 1 to 4, dense layers and cross-entropy 2.
 */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        this.dims = dims;
        long s = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + dims[i] + " at axis " + i + " in "
                        + Arrays.toString(dims));
            }
            try {
                s = Math.multiplyExact(s, dims[i]);
            } catch (ArithmeticException e) {
                // PyTorch: "Storage size calculation overflowed with sizes=[...]"
                throw new ArithmeticException("shape " + Arrays.toString(dims) + " has more than 2^63-1 elements");
            }
        }
        this.size = s;
    }

    /**
     * A shape with the given dimensions (none for a scalar).
     *
     * @param dims the dimensions, each ≥ 0
     * @return the shape
     */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return dims.length;
    }

    /**
     * Dimension {@code axis}; negative axes count from the end ({@code -1} is the last).
     *
     * @param axis the axis; negative axes count from the end
     * @return the dimension
     */
    public int dim(int axis) {
        int a = axis < 0 ? dims.length + axis : axis;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for shape " + this);
        }
        return dims[a];
    }

    /** {@return a copy of the dimensions} */
    public int[] dims() {
        return dims.clone();
    }

    /** {@return the number of elements (1 for a scalar)} */
    public long size() {
        return size;
    }

    /**
     * {@return the rows when viewed as a matrix} They are the product of all but the last dimension (1 for rank 0
     * and 1).
     *
     * @throws ArithmeticException when they are more than {@code 2^31-1}, naming the shape
     */
    public int rows() {
        // A product, not size / cols: the last dimension may be 0.
        long rows = 1;
        for (int i = 0; i < dims.length - 1; i++) {
            // Saturates past the int range (no long overflow), and a later 0 still makes it 0.
            rows = Math.min(rows * dims[i], Integer.MAX_VALUE + 1L);
        }
        if (rows > Integer.MAX_VALUE) {
            throw new ArithmeticException("shape " + this + " has more than 2^31-1 rows when viewed as a matrix");
        }
        return (int) rows;
    }

    /** {@return the columns when viewed as a matrix: the last dimension (1 for a scalar)} */
    public int cols() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** {@code [128, 784]}. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
