package dev.backprop.backend;

/**
 * Elementwise binary functions {@code out = a op b}. Comparisons give a 0/1 mask in the operands' dtype.
 * On INT32 every op except {@link #DIV} is defined (wrapping arithmetic).
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN,
    /** {@code 1[a == b]} */ EQ,
    /** {@code 1[a != b]} */ NE,
    /** {@code 1[a < b]} */ LT,
    /** {@code 1[a <= b]} */ LE,
    /** {@code 1[a > b]} */ GT,
    /** {@code 1[a >= b]} */ GE;

    /** Whether the op yields a 0/1 mask. */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
