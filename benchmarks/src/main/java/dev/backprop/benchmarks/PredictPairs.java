package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link PredictBenchmark}'s requests on several backend settings side by side in one JVM ({@link Interleaved}):
 * per model and request size, each target's rows per second and the per-round ratio to the first target, for A/B
 * decisions on a noisy machine.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.PredictPairs \
 *      THREADS ROUNDS MODELS BATCHES [TARGET ...]
 *   MODELS: comma-separated mlp, cnn; BATCHES: comma-separated rows per request
 *   TARGET: a backend name with options, as for GemmPairs (default: cpu:gemm.keep=false cpu)
 * e.g. PredictPairs 1 12 mlp,cnn 1,8,64
 * </pre>
 * With one thread, rates are per second of the calling thread's CPU time, which does all of a target's work.
 */
public final class PredictPairs {
    private static final long WINDOW_MILLIS = 300;

    private PredictPairs() {
    }

    /** Runs the comparison described in the class comment and prints one line per model, request and target. */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: PredictPairs THREADS ROUNDS MODELS BATCHES [TARGET ...]");
        }
        int threads = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        List<String> specs = args.length > 4 ? List.of(args).subList(4, args.length)
                : List.of("cpu:gemm.keep=false", "cpu");
        Interleaved harness = new Interleaved(WINDOW_MILLIS, 0, threads == 1);
        System.out.printf(Locale.ROOT, "# PredictPairs %s, %d threads, %d rounds of %d ms windows of %s time%n",
                String.join(" vs ", specs), threads, rounds, WINDOW_MILLIS, threads == 1 ? "CPU" : "wall");
        for (String model : args[2].split(",")) {
            List<Backend> backends = new ArrayList<>();
            List<Sequential> networks = new ArrayList<>();
            try {
                List<Predictor> predictors = new ArrayList<>();
                for (String spec : specs) {
                    Backend be = GemmPairs.backend(spec, threads);
                    backends.add(be);
                    Sequential net = PredictBenchmark.architecture(model).build(be);
                    networks.add(net);
                    predictors.add(new Predictor(net, Task.CLASSIFICATION));
                }
                for (String text : args[3].split(",")) {
                    int batch = Integer.parseInt(text.trim());
                    float[] rows = PredictBenchmark.request(batch);
                    List<Interleaved.Target> targets = new ArrayList<>();
                    for (int i = 0; i < specs.size(); i++) {
                        Predictor p = predictors.get(i);
                        targets.add(new Interleaved.Target(model + " batch " + batch + " " + specs.get(i),
                                () -> p.predict(rows, batch), batch));
                    }
                    for (Interleaved.Result r : harness.measure(targets, rounds)) {
                        System.out.println(r.line("rows/s", 1));
                    }
                }
            } finally {
                networks.forEach(Sequential::close);
                backends.forEach(Backend::close);
            }
        }
    }
}
