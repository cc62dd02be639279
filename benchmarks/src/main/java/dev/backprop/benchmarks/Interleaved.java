package dev.backprop.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The interleaved A/B harness: several targets measured in one JVM in alternating short windows, reported as
 * each target's median and best rate and the median and spread of its per-round ratio to the first target. On a
 * shared machine the load drifts by up to 2x from one second to the next, and two runs ten seconds apart can move
 * a ratio by ±20%; the windows of one round see the same machine, so a ratio per round is what stays meaningful.
 *
 * <p>A round measures every target once, in forward order on even rounds and backward on odd ones, so no target
 * always goes first. Each target first gets four windows to warm up (JIT, caches, thread pools). A pause before
 * each window lets a library whose idle workers spin after a call (OpenBLAS) stop before the next target runs.
 */
public final class Interleaved {
    /** One thing to measure: a call, and the work one call does (flops, bytes) for the rate. */
    public record Target(String name, Runnable call, double workPerCall) {
    }

    /** A target's rate per round ({@code work per second}) and its ratio to the first target per round. */
    public record Result(String name, double[] rates, double[] ratios) {
        /** The median of {@code values}, and its quartiles and extremes, in that order. */
        static double[] spread(double[] values) {
            double[] v = values.clone();
            Arrays.sort(v);
            int n = v.length;
            return new double[] {v[n / 2], v[n / 4], v[n - 1 - n / 4], v[0], v[n - 1]};
        }

        /** {@code name  median 12.3  best 14.0  ratio 0.987 IQR [0.95-1.02] range [0.90-1.10]} with a unit. */
        public String line(String unit, double scale) {
            double[] r = spread(rates);
            double[] q = spread(ratios);
            return String.format(Locale.ROOT, "%-36s median %8.2f  best %8.2f %s  ratio %.3f IQR [%.3f-%.3f] "
                    + "range [%.3f-%.3f]", name, r[0] * scale, r[4] * scale, unit, q[0], q[1], q[2], q[3], q[4]);
        }
    }

    private final long windowNanos;
    private final long pauseMillis;
    private final boolean cpuTime;

    /**
     * @param windowMillis how long one window runs a target's calls back to back
     * @param pauseMillis  the pause before each window (0 for none)
     */
    public Interleaved(long windowMillis, long pauseMillis) {
        this(windowMillis, pauseMillis, false);
    }

    /**
     * @param cpuTime rates per second of the calling thread's CPU time instead of wall time: for targets that do
     *                all their work on the calling thread (one worker thread), a rate that other processes on the
     *                machine do not change
     */
    public Interleaved(long windowMillis, long pauseMillis, boolean cpuTime) {
        this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMillis);
        this.pauseMillis = pauseMillis;
        this.cpuTime = cpuTime;
    }

    /** Warms every target up, then measures {@code rounds} rounds; results in the targets' order. */
    public List<Result> measure(List<Target> targets, int rounds) throws InterruptedException {
        if (targets.isEmpty() || rounds < 1) {
            throw new IllegalArgumentException("need at least one target and one round, got " + targets.size()
                    + " targets and " + rounds + " rounds");
        }
        int n = targets.size();
        for (Target t : targets) {
            window(t, 4 * windowNanos);
        }
        double[][] rate = new double[n][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < n; i++) {
                int t = r % 2 == 0 ? i : n - 1 - i;
                if (pauseMillis > 0) {
                    TimeUnit.MILLISECONDS.sleep(pauseMillis);
                }
                rate[t][r] = window(targets.get(t), windowNanos);
            }
        }
        List<Result> results = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = rate[t][r] / rate[0][r];
            }
            results.add(new Result(targets.get(t).name(), rate[t], ratio));
        }
        return results;
    }

    /** Work per second (of wall or CPU time) of back-to-back calls for at least {@code nanos} of that time. */
    private double window(Target t, long nanos) {
        long start = clock(), end = start + nanos, calls = 0, now;
        do {
            t.call().run();
            calls++;
        } while ((now = clock()) < end);
        return t.workPerCall() * calls / ((now - start) / 1e9);
    }

    private long clock() {
        return cpuTime ? CPU.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
}
