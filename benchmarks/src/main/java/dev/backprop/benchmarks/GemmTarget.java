package dev.backprop.benchmarks;

/**
 * One implementation of a fixed GEMM, ready to run repeatedly: operands allocated and filled once, C
 * overwritten on every call ({@code alpha = 1, beta = 0}).
 */
public interface GemmTarget extends AutoCloseable {
    /** Computes C and waits until it is done (so asynchronous backends are timed honestly). */
    void run();

    /** Copies C to the host (for correctness checks, not timed). */
    float[] result();

    /** Frees the operands and whatever the target owns. */
    @Override
    void close();
}
