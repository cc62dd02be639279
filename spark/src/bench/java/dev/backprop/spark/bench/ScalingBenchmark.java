package dev.backprop.spark.bench;

import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.engine.StepTimes;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import dev.backprop.spark.transport.AllReduceCost;
import dev.backprop.spark.transport.NetworkDelay;
import dev.backprop.spark.transport.TransportOptions;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Scaling of data-parallel training: 1 rank against 2 ranks, each rank one thread of this JVM with its own cpu
 * backend of one worker thread, talking over loopback TCP with a simulated network delay, on the Fashion-MNIST
 * MLP 784-256-128-10 (235,146 parameters) with 1,024 examples per rank per step (SGD with momentum).
 *
 * <p>For each engine bucket setting in {@code buckets} ({@code default}: the engine's choice, on the cpu backend no
 * overlap, the gradient all-reduced in one piece after the backward pass; {@code 0}: the same; or elements per
 * bucket, all-reduced while the backward pass runs, see {@code RankTrainer.bucketElements}), after warm-up runs of 1
 * and 2 ranks (the JIT keeps compiling the Vector API kernels and the transport for many steps), {@code rounds} rounds
 * each train 1 rank and 2 ranks with that setting (in alternating order), and optionally two independent 1-rank runs at
 * once ({@code pairs=true}: no communication, what two compute threads get from this machine), for {@code epochs}
 * epochs; the throughput of every epoch but each run's first (examples per second, rank 0's wall time) is collected.
 * Each round gives a ratio of the 2-rank median to the 1-rank median of that round and setting, so a burst of load from
 * elsewhere skews both sides alike; the result lines give the median over rounds and their spread. Every run prints
 * each rank's per-step breakdown ({@link StepTimes}). The all-reduce is also timed alone: the median of {@code reps}
 * all-reduces of the 235,146-float gradient between two idle ranks.
 *
 * <pre>
 * mvn -B -o -q -pl spark test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *   -Dexec.args="--add-modules jdk.incubator.vector -cp %classpath dev.backprop.spark.bench.ScalingBenchmark \
 *   [delay=200us,10Gbit] [steps=16] [epochs=4] [rounds=5] [warmup=6] [buckets=default,1048576] [pairs=true] [reps=50]"
 * </pre>
 */
public final class ScalingBenchmark {
    private static final int[] SIZES = {784, 256, 128, 10};
    private static final int BATCH = 1024;
    private static final String BUCKETS = "backprop.spark.bucketElements";

    private ScalingBenchmark() {
    }

    /**
     * One run: examples per second of each epoch after the first, and rank 0's per-step breakdown and mean
     * all-reduce span (start to end, the part overlapped with the backward pass included).
     */
    private record Run(List<Double> perEpoch, StepTimes times, double spanMs) {
        double median() {
            return ScalingBenchmark.median(perEpoch);
        }
    }

    /** What the rounds collect for one configuration. */
    private static final class Series {
        final List<Double> epochs = new ArrayList<>();
        final List<Double> ratios = new ArrayList<>();
        final double[] phases = new double[StepTimes.Phase.values().length + 2];
        int runs;

        void add(Run r, Run oneRank) {
            epochs.addAll(r.perEpoch());
            if (oneRank != null) {
                ratios.add(r.median() / oneRank.median());
            }
            for (StepTimes.Phase p : StepTimes.Phase.values()) {
                phases[p.ordinal()] += r.times().meanMillis(p);
            }
            phases[phases.length - 2] += r.times().meanWallMillis();
            phases[phases.length - 1] += r.times().meanCpuMillis();
            runs++;
        }

        String breakdown() {
            int n = Math.max(1, runs);
            return String.format(Locale.ROOT, "fwd+bwd %.2f, all-reduce wait %.2f, update %.2f, copy %.2f, step %.2f, "
                            + "rank thread cpu %.2f ms", phases[0] / n, phases[2] / n, phases[3] / n, phases[1] / n,
                    phases[phases.length - 2] / n, phases[phases.length - 1] / n);
        }

        String ratioSummary() {
            List<Double> s = new ArrayList<>(ratios);
            s.sort(null);
            return String.format(Locale.ROOT, "median %.3f, rounds %s", median(ratios),
                    s.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
        }
    }

    public static void main(String[] args) throws Exception {
        String delayText = arg(args, "delay", "200us,10Gbit");
        int steps = Integer.parseInt(arg(args, "steps", "16"));
        int epochs = Integer.parseInt(arg(args, "epochs", "4"));
        int rounds = Integer.parseInt(arg(args, "rounds", "5"));
        int warmup = Integer.parseInt(arg(args, "warmup", "6"));
        List<String> variants = List.of(arg(args, "buckets", "default,1048576").split(","));
        boolean pairs = Boolean.parseBoolean(arg(args, "pairs", "true"));
        int reps = Integer.parseInt(arg(args, "reps", "50"));
        NetworkDelay delay = NetworkDelay.parse(delayText);
        Dataset data = data(2 * steps * BATCH);
        System.out.printf(Locale.ROOT, "MLP %s (235,146 parameters), %d examples per rank per step, %d steps per "
                        + "epoch, warm-up %d epochs of each, then %d rounds, %d epochs per run (the first left out), "
                        + "bucket settings %s, delay %s, cores %d, java %s%n", Arrays.toString(SIZES), BATCH, steps,
                warmup, rounds, epochs, variants, delay, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        TransportOptions net = TransportOptions.defaults().withDelay(delay);
        for (String v : variants) {
            throughput("warm-up, 1 rank, buckets " + v, 1, data, steps, warmup, net, v);
            throughput("warm-up, 2 ranks, buckets " + v, 2, data, steps, warmup, net, v);
        }
        List<Series> one = new ArrayList<>();
        List<Series> two = new ArrayList<>();
        for (int i = 0; i < variants.size(); i++) {
            one.add(new Series());
            two.add(new Series());
        }
        List<Double> apart = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
            for (int i = 0; i < variants.size(); i++) {
                String v = variants.get(i);
                Run a;
                Run b;
                // Alternate which goes first, so neither side always gets the JIT's latest work.
                if (r % 2 == 0) {
                    a = throughput("1 rank, buckets " + v, 1, data, steps, epochs, net, v);
                    b = throughput("2 ranks, buckets " + v, 2, data, steps, epochs, net, v);
                } else {
                    b = throughput("2 ranks, buckets " + v, 2, data, steps, epochs, net, v);
                    a = throughput("1 rank, buckets " + v, 1, data, steps, epochs, net, v);
                }
                one.get(i).add(a, null);
                two.get(i).add(b, a);
                line.append(String.format(Locale.ROOT, " [buckets %s: 1 rank %.0f ex/s, 2 ranks %.0f ex/s, %.3fx]", v,
                        a.median(), b.median(), b.median() / a.median()));
            }
            System.out.println(line);
            if (pairs) {
                apart.addAll(independentPair(data, steps, epochs, net));
            }
        }
        double alone = allReduceAloneMillis(235_146, reps, net);
        double none = allReduceAloneMillis(235_146, reps, TransportOptions.defaults());
        System.out.printf(Locale.ROOT, "all-reduce of 235,146 floats between 2 idle ranks: %.3f ms median with the "
                + "delay, %.3f ms without%n", alone, none);
        for (int i = 0; i < variants.size(); i++) {
            String v = variants.get(i);
            System.out.println("per step, rank 0, mean over rounds, buckets " + v + ": 1 rank: "
                    + one.get(i).breakdown());
            System.out.println("per step, rank 0, mean over rounds, buckets " + v + ": 2 ranks: "
                    + two.get(i).breakdown());
            System.out.printf(Locale.ROOT, "result: delay=%s buckets=%s one_rank_ex_s=%.0f two_ranks_ex_s=%.0f ratio "
                            + "(per round: %s) ratio_of_overall_medians=%.3f%n", delayText, v,
                    median(one.get(i).epochs), median(two.get(i).epochs), two.get(i).ratioSummary(),
                    median(two.get(i).epochs) / median(one.get(i).epochs));
        }
        System.out.printf(Locale.ROOT, "two_independent_1_rank_runs_ex_s=%s allreduce_alone_ms=%.3f "
                        + "allreduce_nodelay_ms=%.3f (epoch medians over %d epochs each)%n",
                pairs ? String.format(Locale.ROOT, "%.0f (no communication: the machine's own 2-thread ceiling, "
                        + "%.3fx the first setting's 1 rank)", median(apart), median(apart) / median(one.get(0).epochs))
                        : "not run", alone, none, rounds * (epochs - 1));
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static String arg(String[] args, String key, String fallback) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return fallback;
    }

    /**
     * Trains {@code ranks} ranks for {@code epochs} epochs and prints the run's line and each rank's breakdown.
     *
     * @param buckets the engine's bucket size for this run ({@code "0"}: no overlap), or {@code "default"}
     */
    private static Run throughput(String label, int ranks, Dataset data, int steps, int epochs,
                                  TransportOptions net, String buckets) throws Exception {
        List<Dataset> shards = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            shards.add(TrainingFixtures.slice(data, r * steps * BATCH, (r + 1) * steps * BATCH));
        }
        TrainingSpec spec = TrainingSpec.builder(ModelFactory.mlp(new Mlp(SIZES, Activation.Kind.RELU,
                Init.PYTORCH_DEFAULT, 0)), OptimizerChoice.momentum(0.01, 0.9, 0)).batchSize(BATCH).epochs(epochs)
                .seed(0).transport(net).build();
        List<ThreadedRanks.Result> results;
        // Only runs that set it run alone (not in the independent pair), so setting the property is safe here.
        boolean set = buckets != null && !buckets.equals("default");
        if (set) {
            System.setProperty(BUCKETS, buckets);
        }
        try {
            results = ThreadedRanks.train(spec, shards, 1, null);
        } finally {
            if (set) {
                System.clearProperty(BUCKETS);
            }
        }
        List<EpochResult> e = results.get(0).outcome().epochs();
        List<Double> perEpoch = new ArrayList<>();
        for (int i = 1; i < e.size(); i++) {
            perEpoch.add(e.get(i).examples() * 1000.0 / e.get(i).millis());
        }
        System.out.printf(Locale.ROOT, "%s: %.0f examples/s (median epoch after the first), per-epoch ms %s%n", label,
                median(perEpoch), e.stream().map(EpochResult::millis).toList());
        for (int r = 0; r < results.size(); r++) {
            ThreadedRanks.Result res = results.get(r);
            System.out.printf(Locale.ROOT, "   rank %d: %s; all-reduce span %.2f ms%n", r,
                    res.outcome().stepTimes().describe(), res.stats().meanAllReduceSpanMillis());
        }
        return new Run(perEpoch, results.get(0).outcome().stepTimes(),
                results.get(0).stats().meanAllReduceSpanMillis());
    }

    /** Fashion-MNIST's training images when present (values do not change the timing), else random clusters. */
    private static Dataset data(int n) {
        if (Files.isDirectory(FashionMnist.defaultDir())) {
            return FashionMnist.split(FashionMnist.defaultDir(), "train").head(n);
        }
        return TrainingFixtures.clusters(n, 784, 10, 1);
    }

    /**
     * Two 1-rank trainings at once, on separate shards, with no communication: how much two compute threads slow
     * each other on this machine (cores shared with other processes, memory bandwidth). Per measured epoch, the sum
     * of both runs' throughputs.
     */
    private static List<Double> independentPair(Dataset data, int steps, int epochs, TransportOptions net)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<List<Double>> a = pool.submit(() -> throughput("independent 1 rank A", 1, data, steps, epochs, net,
                    null).perEpoch());
            Future<List<Double>> b = pool.submit(() -> throughput("independent 1 rank B", 1, data, steps, epochs, net,
                    null).perEpoch());
            List<Double> x = a.get();
            List<Double> y = b.get();
            List<Double> sum = new ArrayList<>();
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                sum.add(x.get(i) + y.get(i));
            }
            System.out.println("  (the two lines above ran at the same time, without communication)");
            return sum;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Median milliseconds of one all-reduce of {@code n} floats between two ranks doing nothing else. */
    private static double allReduceAloneMillis(int n, int reps, TransportOptions options) throws Exception {
        return AllReduceCost.allReduceMillis(n, reps, 10, options)[reps / 2];
    }
}
