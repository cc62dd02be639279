package dev.backprop.backend;

/** Reductions offered by {@link Backend#reduce}. */
public enum ReduceOp {
    /** The sum. */
    SUM,
    /** The arithmetic mean. */
    MEAN,
    /** The maximum. */
    MAX
}
