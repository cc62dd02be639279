package dev.backprop.benchmarks;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Our GEMM and OpenBLAS's in one JVM, measured in alternating short windows, reported as the median and spread of
 * the per-pair ratio. The build machines' 2 vCPUs drift by up to 2x from one second to the next (other tenants),
 * so two JMH trials ten seconds apart can move a ratio by ±20%; a pair of windows measured back to back sees the
 * same machine. Complements {@link GemmBenchmark} (JMH, the table), it does not replace it.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.GemmPairs \
 *      THREADS PAIRS SHAPES [BACKEND]
 *   e.g. GemmPairs 2 20 128,256,512,1024,2048,128x784x256:NT,256x128x784:TN
 * </pre>
 * Each pair is one window of each (order alternating from pair to pair). OpenBLAS's idle workers spin for a
 * while after a call, which would slow the next window of ours, so every window is preceded by a pause of
 * {@link #PAUSE_MILLIS}.
 */
public final class GemmPairs {
    private static final long WINDOW_NANOS = 200_000_000L;
    private static final long PAUSE_MILLIS = 150;

    private GemmPairs() {
    }

    /** Runs the comparison described in the class comment and prints one line per shape. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: GemmPairs THREADS PAIRS SHAPES [BACKEND]");
        }
        int threads = Integer.parseInt(args[0]);
        int pairs = Integer.parseInt(args[1]);
        String backend = args.length > 3 ? args[3] : "cpu";
        System.out.printf(Locale.ROOT, "# GemmPairs %s vs openblas, %d threads, %d pairs of %d ms windows%n",
                backend, threads, pairs, WINDOW_NANOS / 1_000_000);
        for (String text : args[2].split(",")) {
            GemmShape shape = GemmShape.parse(text);
            try (GemmTarget ours = new BackendGemm(BenchData.backend(backend, threads), true, shape, 42);
                 GemmTarget ref = new OpenBlasGemm(shape, threads, 42)) {
                report(text, threads, shape, measure(ours, ref, shape, pairs));
            }
        }
    }

    /** GFLOP/s per pair: {@code [0][i]} ours, {@code [1][i]} the reference. */
    private static double[][] measure(GemmTarget ours, GemmTarget ref, GemmShape s, int pairs)
            throws InterruptedException {
        window(ours, s, 4 * WINDOW_NANOS);
        window(ref, s, 4 * WINDOW_NANOS);
        double[][] g = new double[2][pairs];
        for (int i = 0; i < pairs; i++) {
            boolean oursFirst = i % 2 == 0;
            g[oursFirst ? 0 : 1][i] = paused(oursFirst ? ours : ref, s);
            g[oursFirst ? 1 : 0][i] = paused(oursFirst ? ref : ours, s);
        }
        return g;
    }

    private static double paused(GemmTarget t, GemmShape s) throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(PAUSE_MILLIS);
        return window(t, s, WINDOW_NANOS);
    }

    /** GFLOP/s of back-to-back products for at least {@code nanos}. */
    private static double window(GemmTarget t, GemmShape s, long nanos) {
        long t0 = System.nanoTime(), end = t0 + nanos, count = 0, now;
        do {
            t.run();
            count++;
        } while ((now = System.nanoTime()) < end);
        return 2.0 * s.m() * s.n() * s.k() * count / (now - t0);
    }

    private static void report(String name, int threads, GemmShape s, double[][] g) {
        int n = g[0].length;
        double[] ratio = new double[n];
        for (int i = 0; i < n; i++) {
            ratio[i] = g[0][i] / g[1][i];
        }
        double[] ours = sorted(g[0]), ref = sorted(g[1]), r = sorted(ratio);
        System.out.printf(Locale.ROOT, "%-16s threads=%d ours %6.1f  openblas %6.1f GFLOP/s (medians)  ratio median "
                        + "%.3f  IQR [%.3f-%.3f]  range [%.3f-%.3f]%n", name, threads, ours[n / 2], ref[n / 2],
                r[n / 2], r[n / 4], r[n - 1 - n / 4], r[0], r[n - 1]);
    }

    private static double[] sorted(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c;
    }
}
