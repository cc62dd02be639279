package dev.backprop.spark.engine;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.data.Dataset;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.spark.transport.JobSecret;
import dev.backprop.spark.transport.PeerAddress;
import dev.backprop.spark.transport.RankTransport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs one {@link RankTrainer} per shard as threads of this JVM, over loopback TCP, each on its own cpu backend
 * with {@code threads} worker threads: the engine without Spark.
 */
public final class ThreadedRanks {
    /** A rank's outcome and its transport's counters. */
    public record Result(RankTrainer.Outcome outcome, dev.backprop.spark.transport.TransportStats stats) {
    }

    private ThreadedRanks() {
    }

    /** A cpu backend with {@code threads} workers. */
    public static Backend cpu(int threads) {
        return Backends.get("cpu", BackendOptions.of(Map.of("threads", Integer.toString(threads))));
    }

    /**
     * Trains {@code shards.size()} ranks to the end of {@code spec}.
     *
     * @throws ExecutionException with the first failing rank's exception as the cause
     */
    public static List<Result> train(TrainingSpec spec, List<Dataset> shards, int threads, CheckpointStore store)
            throws Exception {
        int n = shards.size();
        int[] sizes = shards.stream().mapToInt(Dataset::size).toArray();
        ShardPlan plan = new ShardPlan(sizes, spec.batchSize());
        List<RankTransport> transports = new ArrayList<>();
        List<PeerAddress> addresses = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            RankTransport t = RankTransport.listen("127.0.0.1", 0, spec.transport());
            transports.add(t);
            addresses.add(new PeerAddress("127.0.0.1", t.port()));
        }
        JobSecret secret = JobSecret.random();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (RankTransport t = transports.get(rank); Backend b = cpu(threads)) {
                        t.connect(rank, addresses, secret, 1234L);
                        try (RankTrainer trainer = new RankTrainer(spec, plan, rank, 0, t, b, store)) {
                            RankTrainer.Outcome o = trainer.train(shards.get(rank));
                            return new Result(o, t.stats());
                        }
                    }
                }));
            }
            List<Result> out = new ArrayList<>();
            for (Future<Result> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
            transports.forEach(RankTransport::close);
        }
    }
}
