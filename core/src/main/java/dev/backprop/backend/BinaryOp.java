package dev.backprop.backend;

/**
 * Elementwise binary functions {@code out = a op b}. Comparisons give a 0/1 mask in the operands' dtype.
 * On INT32 every op except {@link #DIV} is defined (wrapping arithmetic).
 */
public enum BinaryOp {
    /** {@code a + b} */ ADD,
    /** {@code a - b} */ SUB,
    /** {@code a · b} */ MUL,
    /** {@code a / b} (not on INT32) */ DIV,
    /** {@code max(a, b)} */ MAX,
    /** {@code min(a, b)} */ MIN,
    /** {@code 1[a == b]} */ EQ,
    /** {@code 1[a != b]} */ NE,
    /** {@code 1[a < b]} */ LT,
    /** {@code 1[a <= b]} */ LE,
    /** {@code 1[a > b]} */ GT,
    /** {@code 1[a >= b]} */ GE;

    /** {@return whether the op yields a 0/1 mask} */
    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
