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
 *   LAYERS: comma-separated {@link ConvLayer} specs: conv1, conv2, or N;C;H;W;O;K;S;P
 *   TARGET: a backend name with options, as for GemmPairs (default: cpu:conv.own=false cpu, the SPI's default
 *           convolution first)
 * e.g. ConvPairs 2 10 conv1,conv2
 * </pre>
 */
public final class ConvPairs {
    private static final long WINDOW_MILLIS = 400;

    private ConvPairs() {
    }

    /** Runs the comparison described in the class comment and prints one line per layer, pass and target. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: ConvPairs THREADS ROUNDS LAYERS [TARGET ...]");
        }
        int threads = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        List<String> specs = args.length > 3 ? List.of(args).subList(3, args.length)
                : List.of("cpu:conv.own=false", "cpu");
        Interleaved harness = new Interleaved(WINDOW_MILLIS, 0);
        System.out.printf(Locale.ROOT, "# ConvPairs %s, %d threads, %d rounds of %d ms windows%n",
                String.join(" vs ", specs), threads, rounds, WINDOW_MILLIS);
        for (String text : args[2].split(",")) {
            ConvLayer layer = ConvLayer.parse(text.replace(';', ','));
            List<Backend> backends = new ArrayList<>();
            List<ConvLayer.Operands> operands = new ArrayList<>();
            try {
                for (String spec : specs) {
                    Backend be = GemmPairs.backend(spec, threads);
                    backends.add(be);
                    operands.add(layer.new Operands(be, 42));
                }
                for (boolean forward : new boolean[] {true, false}) {
                    List<Interleaved.Target> targets = new ArrayList<>();
                    for (int i = 0; i < specs.size(); i++) {
                        ConvLayer.Operands o = operands.get(i);
                        targets.add(new Interleaved.Target(layer.name() + (forward ? " forward " : " backward ")
                                + specs.get(i), forward ? o::forward : o::backward,
                                forward ? layer.forwardFlops() : layer.backwardFlops()));
                    }
                    for (Interleaved.Result r : harness.measure(targets, rounds)) {
                        System.out.println(r.line("GFLOP/s", 1e-9));
                    }
                }
            } finally {
                operands.forEach(ConvLayer.Operands::close);
                backends.forEach(Backend::close);
            }
        }
    }
}
