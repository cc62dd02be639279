package dev.backprop.spark.engine;

import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * Where one rank's steps spent their wall time, summed over the steps of an attempt: the phases of a
 * gradient-averaging step, and the CPU time the rank's own thread got over those steps (when the JVM measures
 * thread CPU time). Wall time well above thread CPU time means the thread waited: for the network, for a slower
 * rank, or for a core that another thread held.
 */
public final class StepTimes implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The phases of a step, in the order they run. */
    public enum Phase {
        /** Zeroing gradients, loading the batch, forward, loss and backward (minus any overlapped wait). */
        FORWARD_BACKWARD,
        /** Copying gradients between the parameters and the all-reduce vector. */
        GRADIENT_COPY,
        /** Waiting for the all-reduce to finish after the last gradient was handed to it. */
        ALL_REDUCE_WAIT,
        /** Gradient clipping and the optimizer step. */
        UPDATE
    }

    private final long[] nanos = new long[Phase.values().length];
    private long steps;
    private long wallNanos;
    private long cpuNanos;
    private transient long stepStart;
    private transient long cpuStart;


    /** Marks the start of a step. */
    void startStep() {
        stepStart = System.nanoTime();
        cpuStart = threadCpu();
    }

    /** Adds {@code n} nanoseconds to {@code phase}. */
    void add(Phase phase, long n) {
        nanos[phase.ordinal()] += n;
    }

    /** Marks the end of a step started by {@link #startStep}. */
    void endStep() {
        steps++;
        wallNanos += System.nanoTime() - stepStart;
        long cpu = threadCpu();
        if (cpu >= 0 && cpuStart >= 0) {
            cpuNanos += cpu - cpuStart;
        }

    }

    private static long threadCpu() {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    /** Steps measured. */
    public long steps() {
        return steps;
    }

    /** Mean milliseconds per step in {@code phase}. */
    public double meanMillis(Phase phase) {
        return steps == 0 ? 0 : nanos[phase.ordinal()] / 1e6 / steps;
    }

    /** Mean wall milliseconds per step. */
    public double meanWallMillis() {
        return steps == 0 ? 0 : wallNanos / 1e6 / steps;
    }

    /** Mean CPU milliseconds the rank's thread used per step (0 where not measured). */
    public double meanCpuMillis() {
        return steps == 0 ? 0 : cpuNanos / 1e6 / steps;
    }

    /** One line: milliseconds per step of each phase, wall and thread CPU. */
    public String describe() {
        return String.format(Locale.ROOT, "fwd+bwd %.2f, copy %.2f, all-reduce wait %.2f, update %.2f, step "
                        + "wall %.2f, rank thread cpu %.2f ms/step", meanMillis(Phase.FORWARD_BACKWARD),
                meanMillis(Phase.GRADIENT_COPY), meanMillis(Phase.ALL_REDUCE_WAIT), meanMillis(Phase.UPDATE),
                meanWallMillis(), meanCpuMillis());
    }
}
