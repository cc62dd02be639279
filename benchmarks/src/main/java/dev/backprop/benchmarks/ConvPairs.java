package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Convolution implementations and settings side by side in one JVM ({@link Interleaved}): per layer, the forward
 * and the backward pass of each target, as GFLOP/s and the per-round ratio to the first target. Complements
 * {@link ConvBenchmark} (JMH) for A/B decisions on a noisy machine.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.ConvPairs \
 *      THREADS ROUNDS LAYERS [TARGET ...]
 *   LAYERS: comma-separated {@link ConvLayer} specs: conv1, conv2, or N;C;H;W;O;K;S;P (';' inside a spec)
 *   TARGET: a backend name with options, as for GemmPairs (default: cpu:conv.own=false cpu, the SPI's default
 *           convolution first), or gemm:BACKEND for the GEMMs of the default convolution alone
 * e.g. ConvPairs 2 10 conv1,conv2
 *      ConvPairs 1 8 conv2 gemm:cpu cpu:conv.own=false cpu
 * </pre>
 * With one thread, rates are per second of the calling thread's CPU time, which does all of a target's work: on a
 * machine shared with other processes, that is the one rate that their load does not change.
 */
public final class ConvPairs {
    private static final long WINDOW_MILLIS = 400;
    /** A target spec prefix: the layer's products as plain GEMMs on that backend ({@link ConvLayer.Products}). */
    static final String GEMM = "gemm:";

    private ConvPairs() {
    }

    /** Runs the comparison described in the class comment and prints one line per layer, pass and target. */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: ConvPairs THREADS ROUNDS LAYERS [TARGET ...]");
        }
        int threads = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        List<String> specs = args.length > 3 ? List.of(args).subList(3, args.length)
                : List.of("cpu:conv.own=false", "cpu");
        Interleaved harness = new Interleaved(WINDOW_MILLIS, 0, threads == 1);
        System.out.printf(Locale.ROOT, "# ConvPairs %s, %d threads, %d rounds of %d ms windows of %s time%n",
                String.join(" vs ", specs), threads, rounds, WINDOW_MILLIS, threads == 1 ? "CPU" : "wall");
        for (String text : args[2].split(",")) {
            ConvLayer layer = ConvLayer.parse(text.replace(';', ','));
            List<Backend> backends = new ArrayList<>();
            List<AutoCloseable> operands = new ArrayList<>();
            List<Runnable[]> passes = new ArrayList<>();
            try {
                for (String spec : specs) {
                    boolean gemm = spec.startsWith(GEMM);
                    Backend be = GemmPairs.backend(gemm ? spec.substring(GEMM.length()) : spec, threads);
                    backends.add(be);
                    if (gemm) {
                        ConvLayer.Products p = layer.new Products(be, 42);
                        operands.add(p);
                        passes.add(new Runnable[] {p::forward, p::backward});
                    } else {
                        ConvLayer.Operands o = layer.new Operands(be, 42);
                        operands.add(o);
                        passes.add(new Runnable[] {o::forward, o::backward});
                    }
                }
                for (int pass = 0; pass < 2; pass++) {
                    List<Interleaved.Target> targets = new ArrayList<>();
                    for (int i = 0; i < specs.size(); i++) {
                        targets.add(new Interleaved.Target(layer.name() + (pass == 0 ? " forward " : " backward ")
                                + specs.get(i), passes.get(i)[pass],
                                pass == 0 ? layer.forwardFlops() : layer.backwardFlops()));
                    }
                    for (Interleaved.Result r : harness.measure(targets, rounds)) {
                        System.out.println(r.line("GFLOP/s", 1e-9));
                    }
                }
            } finally {
                for (AutoCloseable c : operands) {
                    c.close();
                }
                backends.forEach(Backend::close);
            }
        }
    }
}
