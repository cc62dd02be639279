package dev.backprop.spark.transport;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What the all-reduce costs: the median of {@code reps} all-reduces of the Fashion-MNIST MLP's gradient (235,146
 * floats) between two ranks of this JVM doing nothing else, over loopback TCP, and what the frames' HMAC-SHA256
 * tags cost per megabyte on one thread (each rank tags what it sends and checks what it receives).
 *
 * <pre>
 * java -cp CLASSPATH dev.backprop.spark.transport.AllReduceCost [reps=400] [floats=235146]
 * </pre>
 */
public final class AllReduceCost {
    private AllReduceCost() {
    }

    public static void main(String[] args) throws Exception {
        int reps = Integer.parseInt(arg(args, "reps", "400"));
        int n = Integer.parseInt(arg(args, "floats", "235146"));
        double[] ms = allReduceMillis(n, reps, 200, TransportOptions.defaults());
        System.out.printf(Locale.ROOT, "all-reduce of %d floats, 2 ranks, %d reps: median %.3f ms (p10 %.3f, p90 "
                + "%.3f); java %s, %d cores%n", n, reps, ms[reps / 2], ms[reps / 10], ms[reps * 9 / 10],
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "HMAC-SHA256 frame tags: %.3f ms per MB (one thread, %d-byte payloads)%n",
                tagMillisPerMegabyte(Float.BYTES * ((n + 1) / 2)), Float.BYTES * ((n + 1) / 2));
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
     * Sorted milliseconds of {@code reps} all-reduces of {@code n} floats between two ranks of this JVM doing nothing
     * else, after {@code warmup} unmeasured ones, each after a barrier.
     */
    public static double[] allReduceMillis(int n, int reps, int warmup, TransportOptions options) throws Exception {
        RankTransport a = RankTransport.listen("127.0.0.1", 0, options);
        RankTransport b = RankTransport.listen("127.0.0.1", 0, options);
        List<PeerAddress> peers = List.of(new PeerAddress("127.0.0.1", a.port()),
                new PeerAddress("127.0.0.1", b.port()));
        JobSecret secret = JobSecret.random();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        RankTransport[] ts = {a, b};
        try {
            List<Future<double[]>> f = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                f.add(pool.submit(() -> {
                    ts[rank].connect(rank, peers, secret, 99);
                    float[] v = new float[n];
                    double[] ms = new double[reps];
                    for (int i = -warmup; i < reps; i++) {
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
            return ms;
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
        }
    }

    /** Milliseconds per megabyte (1e6 bytes) to tag payloads of {@code bytes} bytes, the median of 9 runs. */
    static double tagMillisPerMegabyte(int bytes) {
        FrameAuth auth = new FrameAuth(Crypto.random(Crypto.KEY_BYTES));
        byte[] payload = new byte[bytes];
        int perRun = Math.max(1, 64_000_000 / bytes);
        double[] runs = new double[9];
        long sink = 0;
        for (int r = -3; r < runs.length; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < perRun; i++) {
                auth.startPayload();
                auth.update(payload, 0, payload.length);
                sink += auth.payloadTag()[0];
                auth.next();
            }
            if (r >= 0) {
                runs[r] = (System.nanoTime() - t0) / 1e6 / ((double) perRun * bytes / 1e6);
            }
        }
        Arrays.sort(runs);
        return runs[runs.length / 2] + (sink == Long.MIN_VALUE ? 1 : 0);
    }
}
