package dev.backprop.backend;

/**
 * How an operand of {@link Backend#binary} covers the {@code rows × cols} result.
 */
public enum Broadcast {
    /** A full {@code rows × cols} matrix. */
    FULL,
    /** A row vector of length {@code cols}, repeated on every row (a bias). */
    ROW,
    /** A column vector of length {@code rows}, repeated on every column (a per-sample value). */
    COLUMN,
    /** A single element. */
    SCALAR;

    /**
     * Number of elements an operand with this broadcast has for a {@code rows × cols} result.
     *
     * @param rows rows of the result
     * @param cols columns of the result
     * @return elements of the operand
     */
    public long length(int rows, int cols) {
        return switch (this) {
            case FULL -> (long) rows * cols;
            case ROW -> cols;
            case COLUMN -> rows;
            case SCALAR -> 1;
        };
    }
}
