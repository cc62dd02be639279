package dev.backprop.spark.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** Runs {@code n} ranks as threads of this JVM, connected over loopback TCP. */
final class LocalRanks {
    /** What one rank does once connected. */
    interface Body<T> {
        T run(RankTransport transport) throws Exception;
    }

    /** The outcome of one rank: a value or the exception it threw. */
    record Outcome<T>(T value, Throwable error) {
        T get() {
            if (error != null) {
                throw new AssertionError("rank failed: " + error, error);
            }
            return value;
        }
    }

    private LocalRanks() {
    }

    static <T> List<Outcome<T>> run(int n, IntFunction<TransportOptions> options, Body<T> body) throws Exception {
        List<RankTransport> transports = new ArrayList<>();
        List<PeerAddress> addresses = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            RankTransport t = RankTransport.listen("127.0.0.1", 0, options.apply(r));
            transports.add(t);
            addresses.add(new PeerAddress("127.0.0.1", t.port()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (RankTransport t = transports.get(rank)) {
                        t.connect(rank, addresses, 42L);
                        return body.run(t);
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<T> f : futures) {
                try {
                    out.add(new Outcome<>(f.get(60, TimeUnit.SECONDS), null));
                } catch (java.util.concurrent.ExecutionException e) {
                    out.add(new Outcome<>(null, e.getCause()));
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static <T> List<Outcome<T>> run(int n, TransportOptions options, Body<T> body) throws Exception {
        return run(n, r -> options, body);
    }
}
