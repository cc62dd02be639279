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

    /**
     * Runs on the test's thread once every rank listens and before any connects: may start an attack on the
     * ranks' ports, and returns the addresses each rank is told (for example a relay's in place of a rank's).
     */
    interface Interposer {
        List<List<PeerAddress>> addresses(List<PeerAddress> real) throws Exception;

        /** Runs on rank {@code rank}'s thread just before it connects (e.g. to let an attack go first). */
        default void beforeConnect(int rank) throws Exception {
        }
    }

    /** The outcome of one rank: a value or the exception it threw, and when it ended ({@link System#nanoTime()}). */
    record Outcome<T>(T value, Throwable error, long endNanos) {
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
        return run(n, options, JobSecret.random(), real -> {
            List<List<PeerAddress>> same = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                same.add(real);
            }
            return same;
        }, body);
    }

    static <T> List<Outcome<T>> run(int n, TransportOptions options, Body<T> body) throws Exception {
        return run(n, r -> options, body);
    }

    /** {@code n} ranks of a job with {@code secret} (attempt 42), each told the addresses {@code interposer} gives. */
    static <T> List<Outcome<T>> run(int n, IntFunction<TransportOptions> options, JobSecret secret,
                                    Interposer interposer, Body<T> body) throws Exception {
        List<RankTransport> transports = new ArrayList<>();
        List<PeerAddress> real = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            RankTransport t = RankTransport.listen("127.0.0.1", 0, options.apply(r));
            transports.add(t);
            real.add(new PeerAddress("127.0.0.1", t.port()));
        }
        List<List<PeerAddress>> told = interposer.addresses(List.copyOf(real));
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Outcome<T>>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    RankTransport t = transports.get(rank);
                    try {
                        interposer.beforeConnect(rank);
                        t.connect(rank, told.get(rank), secret, 42L);
                        T value = body.run(t);
                        return new Outcome<>(value, null, System.nanoTime());
                    } catch (Exception | AssertionError e) {
                        return new Outcome<>(null, e, System.nanoTime());
                    } finally {
                        t.close();
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<Outcome<T>> f : futures) {
                out.add(f.get(90, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
            transports.forEach(RankTransport::close);
        }
    }
}
