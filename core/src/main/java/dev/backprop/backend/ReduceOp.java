package dev.backprop.backend;

/** Reductions offered by {@link Backend#reduce}. */
public enum ReduceOp {
    SUM, MEAN, MAX
}
