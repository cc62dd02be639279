package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * GEMM implementations and settings side by side in one JVM ({@link Interleaved}): Backprop's backends with any
 * options against each other and against OpenBLAS, per shape, as the median and spread of each target's per-round
 * ratio to the first. Complements {@link GemmBenchmark} (JMH, the published tables), it does not replace it.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.GemmPairs \
 *      THREADS ROUNDS SHAPES [TARGET ...]
 *   SHAPES: comma-separated GemmShape specs, e.g. 128,1024,128x784x256:NT
 *   TARGET: openblas, or a backend name with options: cpu, cpu:gemm.kc=384;gemm.mc=96, opencl:gemm=tiled
 *           (default: cpu openblas; the first target is the baseline of the ratios)
 * e.g. GemmPairs 2 20 128,1024,128x784x256:NT cpu openblas
 *      GemmPairs 1 24 1024 cpu "cpu:gemm.kc=384"
 * </pre>
 * Windows are 200 ms; with OpenBLAS among the targets each window is preceded by a 150 ms pause, since its idle
 * workers spin for a while after a call and would slow the next target's window.
 */
public final class GemmPairs {
    private static final long WINDOW_MILLIS = 200;
    private static final long PAUSE_MILLIS = 150;

    private GemmPairs() {
    }

    /** Runs the comparison described in the class comment and prints one line per shape and target. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: GemmPairs THREADS ROUNDS SHAPES [TARGET ...]");
        }
        int threads = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        List<String> specs = args.length > 3 ? List.of(args).subList(3, args.length) : List.of("cpu", "openblas");
        Interleaved harness = new Interleaved(WINDOW_MILLIS,
                specs.contains(BenchMain.OPENBLAS) ? PAUSE_MILLIS : 0);
        System.out.printf(Locale.ROOT, "# GemmPairs %s, %d threads, %d rounds of %d ms windows%n",
                String.join(" vs ", specs), threads, rounds, WINDOW_MILLIS);
        for (String text : args[2].split(",")) {
            GemmShape shape = GemmShape.parse(text);
            List<GemmTarget> opened = new ArrayList<>();
            try {
                List<Interleaved.Target> targets = new ArrayList<>();
                for (String spec : specs) {
                    GemmTarget t = open(spec, threads, shape);
                    opened.add(t);
                    targets.add(new Interleaved.Target(text + " " + spec, t::run,
                            2.0 * shape.m() * shape.n() * shape.k()));
                }
                for (Interleaved.Result r : harness.measure(targets, rounds)) {
                    System.out.println(r.line("GFLOP/s", 1e-9));
                }
            } finally {
                opened.forEach(GemmTarget::close);
            }
        }
    }

    /** {@code openblas}, or {@code backend[:key=value;key=value]} with {@code threads} set unless given. */
    static GemmTarget open(String spec, int threads, GemmShape shape) {
        if (spec.equals(BenchMain.OPENBLAS)) {
            return new OpenBlasGemm(shape, threads, 42);
        }
        return new BackendGemm(backend(spec, threads), true, shape, 42);
    }

    /** The backend of a target spec {@code backend[:key=value;key=value]}, with {@code threads} set unless given. */
    static Backend backend(String spec, int threads) {
        String[] parts = spec.split(":", 2);
        Map<String, String> options = new HashMap<>();
        options.put("threads", Integer.toString(threads));
        if (parts.length > 1) {
            for (String kv : parts[1].split(";")) {
                String[] p = kv.split("=", 2);
                if (p.length != 2) {
                    throw new IllegalArgumentException("target option '" + kv + "' of '" + spec + "' is not key=value");
                }
                options.put(p[0].trim(), p[1].trim());
            }
        }
        return BenchData.backend(parts[0], options);
    }
}
