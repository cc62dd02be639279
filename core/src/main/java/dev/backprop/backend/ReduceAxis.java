package dev.backprop.backend;

/** Which elements of a {@code rows × cols} matrix {@link Backend#reduce} combines. */
public enum ReduceAxis {
    /** Everything: one result. */
    ALL,
    /** Each row on its own: {@code rows} results (e.g. per-sample sums). */
    PER_ROW,
    /** Each column on its own: {@code cols} results (e.g. bias gradients, column sums of δ). */
    PER_COLUMN;

    /**
     * Number of results for a {@code rows × cols} input.
     *
     * @param rows rows of the input
     * @param cols columns of the input
     * @return the number of results
     */
    public int resultLength(int rows, int cols) {
        return switch (this) {
            case ALL -> 1;
            case PER_ROW -> rows;
            case PER_COLUMN -> cols;
        };
    }
}
