package dev.backprop.spark.bench;

import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.OptimizerFactory;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import dev.backprop.spark.transport.NetworkDelay;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;
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
 * <p>After a warm-up run, {@code rounds} rounds each train 1 rank, then 2 ranks, then two independent 1-rank runs
 * at once (no communication: what two compute threads get from this machine), for {@code epochs} epochs; the
 * throughput of every epoch but each run's first (examples per second, rank 0's wall time) is collected, and the
 * medians (and the best epochs) are compared, so that a burst of load from other processes on the machine skews
 * both sides alike. The all-reduce time is measured twice: inside training (waiting for the slower rank
 * included), and alone (the median of {@code reps} all-reduces of the 235,146-float gradient between two idle
 * ranks).
 *
 * <pre>
 * mvn -B -o -q -pl spark test-compile exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *   -Dexec.args="--add-modules jdk.incubator.vector -cp %classpath dev.backprop.spark.bench.ScalingBenchmark \
 *   [delay=200us,10Gbit] [steps=8] [epochs=4] [rounds=3] [reps=50]"
 * </pre>
 */
public final class ScalingBenchmark {
    private static final int[] SIZES = {784, 256, 128, 10};
    private static final int BATCH = 1024;

    private ScalingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String delayText = arg(args, "delay", "200us,10Gbit");
        int steps = Integer.parseInt(arg(args, "steps", "8"));
        int epochs = Integer.parseInt(arg(args, "epochs", "4"));
        int rounds = Integer.parseInt(arg(args, "rounds", "3"));
        int reps = Integer.parseInt(arg(args, "reps", "50"));
        NetworkDelay delay = NetworkDelay.parse(delayText);
        Dataset data = data(2 * steps * BATCH);
        System.out.printf(Locale.ROOT, "MLP %s (235,146 parameters), %d examples per rank per step, %d steps per "
                        + "epoch, %d rounds of 1 rank then 2 ranks, %d epochs each (the first left out), delay %s, "
                        + "cores %d, java %s%n", Arrays.toString(SIZES), BATCH, steps, rounds, epochs, delay,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        TransportOptions net = TransportOptions.defaults().withDelay(delay);
        throughput(2, data, steps, 2, net);
        List<Double> one = new ArrayList<>();
        List<Double> two = new ArrayList<>();
        List<Double> apart = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            one.addAll(throughput(1, data, steps, epochs, net));
            two.addAll(throughput(2, data, steps, epochs, net));
            apart.addAll(independentPair(data, steps, epochs, net));
        }
        double alone = allReduceAloneMillis(235_146, reps, net);
        double none = allReduceAloneMillis(235_146, reps, TransportOptions.defaults());
        System.out.printf(Locale.ROOT, "all-reduce of 235,146 floats between 2 idle ranks: %.3f ms median with the "
                + "delay, %.3f ms without%n", alone, none);
        System.out.printf(Locale.ROOT, "result: delay=%s one_rank_ex_s=%.0f two_ranks_ex_s=%.0f ratio=%.3f "
                        + "best_ratio=%.3f two_independent_ex_s=%.0f (no communication: the machine's own 2-thread "
                        + "ceiling) allreduce_alone_ms=%.3f allreduce_nodelay_ms=%.3f (medians and bests over %d "
                        + "epochs each)%n", delayText, median(one), median(two), median(two) / median(one),
                max(two) / max(one), median(apart), alone, none, one.size());
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static String arg(String[] args, String key, String fallback) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return fallback;
    }

    /** Fashion-MNIST's training images when present (values do not change the timing), else random clusters. */
    private static Dataset data(int n) {
        if (Files.isDirectory(FashionMnist.defaultDir())) {
            return FashionMnist.split(FashionMnist.defaultDir(), "train").head(n);
        }
        return TrainingFixtures.clusters(n, 784, 10, 1);
    }

    /** Examples per second of each epoch after the first. */
    private static List<Double> throughput(int ranks, Dataset data, int steps, int epochs, TransportOptions net)
            throws Exception {
        List<Dataset> shards = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            shards.add(TrainingFixtures.slice(data, r * steps * BATCH, (r + 1) * steps * BATCH));
        }
        TrainingSpec spec = TrainingSpec.builder(ModelFactory.mlp(SIZES, Activation.Kind.RELU, Init.PYTORCH_DEFAULT,
                0), OptimizerFactory.momentum(0.01, 0.9, 0)).batchSize(BATCH).epochs(epochs).seed(0)
                .transport(net).build();
        List<ThreadedRanks.Result> results = ThreadedRanks.train(spec, shards, 1, null);
        List<EpochResult> e = results.get(0).outcome().epochs();
        long examples = 0;
        long millis = 0;
        List<Double> perEpoch = new ArrayList<>();
        for (int i = 1; i < e.size(); i++) {
            examples += e.get(i).examples();
            millis += e.get(i).millis();
            perEpoch.add(e.get(i).examples() * 1000.0 / e.get(i).millis());
        }
        double perSecond = examples * 1000.0 / millis;
        var stats = results.get(0).stats();
        var o = results.get(0).outcome();
        System.out.printf(Locale.ROOT, "%d rank(s): %.0f examples/s (epochs 2..%d: %d examples in %d ms), "
                        + "rank 0 compute %.2f ms/step and all-reduce %.3f ms mean (all epochs), per-epoch ms %s%n",
                ranks, perSecond, e.size(), examples, millis, o.computeNanos() / 1e6 / o.stepsRun(),
                stats.meanAllReduceMillis(), e.stream().map(EpochResult::millis).toList());
        return perEpoch;
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
            Future<List<Double>> a = pool.submit(() -> throughput(1, data, steps, epochs, net));
            Future<List<Double>> b = pool.submit(() -> throughput(1, data, steps, epochs, net));
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
        RankTransport a = RankTransport.listen("127.0.0.1", 0, options);
        RankTransport b = RankTransport.listen("127.0.0.1", 0, options);
        List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", a.port()),
                new PeerAddress("127.0.0.1", b.port()));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<double[]>> f = new ArrayList<>();
            RankTransport[] ts = {a, b};
            for (int r = 0; r < 2; r++) {
                int rank = r;
                f.add(pool.submit(() -> {
                    ts[rank].connect(rank, peers, 99);
                    float[] v = new float[n];
                    double[] ms = new double[reps];
                    for (int i = -10; i < reps; i++) {
                        ts[rank].barrier();
                        long t0 = System.nanoTime();
                        ts[rank].allReduce(v, 0.5);
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    return ms;
                }));
            }
            double[] ms = f.get(0).get();
            f.get(1).get();
            Arrays.sort(ms);
            return ms[reps / 2];
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
        }
    }
}
