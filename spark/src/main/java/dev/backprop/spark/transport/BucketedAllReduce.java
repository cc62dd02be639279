package dev.backprop.spark.transport;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One all-reduce of a vector handed over in pieces (buckets) as they become final, so that the communication of
 * early buckets overlaps whatever computes the later ones. Made by {@link RankTransport#startAllReduce}.
 *
 * <p>Each {@link #post bucket} is reduced on its own, exactly as {@link RankTransport#allReduce} reduces a whole
 * vector: rank {@code c} owns chunk {@code c} of the bucket, adds the ranks' copies in rank order in double and
 * rounds once to float, and sends the result to all. So every element's result is the same bits whatever the
 * buckets, the number of ranks or the arrival order. {@code post} only queues the bucket's chunks for sending and
 * hands the bucket to the transport's reducer thread, which sums this rank's chunk once the peers' copies arrive
 * and sends it back out; {@link #finish} waits for the last bucket and copies the other ranks' results in.
 *
 * <p>Every rank must post the same buckets (same ranges, same order); a rank that posts other ranges or another
 * number of them gets a clear error. The whole all-reduce is one collective (one sequence number); its buckets are
 * the parts of its messages. Not thread-safe: one thread posts and finishes. Between
 * {@link RankTransport#startAllReduce} and {@code finish} the caller must not modify a posted range, nor run another
 * collective.
 */
public final class BucketedAllReduce {
    /** One posted range, its index among this all-reduce's buckets, and the deadline of its reduction. */
    private record Bucket(int part, int from, int to, long deadline) {
    }

    private static final long GRACE_NANOS = 5_000_000_000L;
    private final RankTransport net;
    private final long seq;
    private final float[] data;
    private final double weight;
    private final ExecutorService reducer;
    private final List<Bucket> buckets = new ArrayList<>();
    private final List<CompletableFuture<Void>> sends = new ArrayList<>();
    private final long start = System.nanoTime();
    private CompletableFuture<Void> reduced = CompletableFuture.completedFuture(null);
    private long blockedNanos;
    private boolean finished;

    BucketedAllReduce(RankTransport net, long seq, float[] data, double weight, ExecutorService reducer) {
        this.net = net;
        this.seq = seq;
        this.data = data;
        this.weight = weight;
        this.reducer = reducer;
    }

    /** The vector being reduced. */
    public float[] data() {
        return data;
    }

    /**
     * Hands over {@code data[from..to)}, which must not change any more until {@link #finish}. Returns at once:
     * the chunks go out on the sender threads, the reduction runs on the reducer thread. An empty bucket still
     * exchanges (empty) messages with every rank, as a barrier.
     *
     * @throws IllegalArgumentException for a range outside the vector
     * @throws IllegalStateException    after {@link #finish}
     */
    public void post(int from, int to) {
        if (finished) {
            throw new IllegalStateException("rank " + net.rank() + ": this all-reduce is finished");
        }
        if (from < 0 || to > data.length || from > to) {
            throw new IllegalArgumentException("bucket [" + from + ", " + to + ") is outside the vector of "
                    + data.length);
        }
        long t0 = System.nanoTime();
        Bucket b = new Bucket(buckets.size(), from, to, t0 + net.ioTimeoutNanos());
        buckets.add(b);
        int size = net.size();
        List<CompletableFuture<Void>> out = new ArrayList<>();
        for (int p = 0; p < size; p++) {
            if (p != net.rank()) {
                int lo = bound(b, p), hi = bound(b, p + 1);
                out.add(net.send(p, Frame.ofFloats(Frame.Kind.REDUCE, net.rank(), seq, b.part(), weight, data, lo,
                        hi - lo)));
            }
        }
        // The reducer thread adds its GATHER sends to the same list.
        synchronized (sends) {
            sends.addAll(out);
        }
        CompletableFuture<Void> previous = reduced;
        // Buckets are reduced one after another, in posting order, on the single reducer thread; a failed bucket
        // fails every later one with the same exception.
        try {
            reduced = previous.thenRunAsync(() -> reduceAndScatter(b), reducer);
        } catch (RejectedExecutionException e) {
            throw new TransportException(-1, "rank " + net.rank() + ": transport is closed", e);
        }
        blockedNanos += System.nanoTime() - t0;
    }

    /** Element {@code c} of the chunk bounds of bucket {@code b}: chunks differ in length by at most one. */
    private int bound(Bucket b, int c) {
        return b.from() + (int) ((long) (b.to() - b.from()) * c / net.size());
    }

    /** On the reducer thread: sums this rank's chunk of {@code b} in rank order, sends the result to all. */
    private void reduceAndScatter(Bucket b) {
        int rank = net.rank(), size = net.size();
        int lo = bound(b, rank), len = bound(b, rank + 1) - lo;
        double[] acc = net.reducerScratch().sums(len);
        float[] copy = net.reducerScratch().floats(len);
        // Rank by rank, each pass one simple loop over the chunk: acc = ((0 + w0·x0) + w1·x1) + …, in double, the
        // same operations in the same order for every element as the textbook loop, rounded once at the end.
        Arrays.fill(acc, 0, len, 0.0);
        for (int p = 0; p < size; p++) {
            float[] x;
            int off;
            double w;
            if (p == rank) {
                x = data;
                off = lo;
                w = weight;
            } else {
                Frame f = net.take(p, Frame.Kind.REDUCE, seq, b.part(), b.deadline());
                net.checkLength(f, p, len, b.to() - b.from());
                f.floatsInto(copy, 0);
                x = copy;
                off = 0;
                w = f.weight();
            }
            for (int i = 0; i < len; i++) {
                acc[i] += w * x[off + i];
            }
        }
        for (int i = 0; i < len; i++) {
            data[lo + i] = (float) acc[i];
        }
        List<CompletableFuture<Void>> out = new ArrayList<>();
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                out.add(net.send(p, Frame.ofFloats(Frame.Kind.GATHER, rank, seq, b.part(), 0, data, lo, len)));
            }
        }
        synchronized (sends) {
            sends.addAll(out);
        }
    }

    /**
     * Waits until every posted bucket is reduced on every rank and copies the results in: afterwards
     * {@link #data()} holds the reduced values in every posted range. Idempotent.
     *
     * @throws TransportException naming the peer on a lost connection, a timeout or a schedule mismatch
     */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        long t0 = System.nanoTime();
        long deadline = t0 + net.ioTimeoutNanos();
        awaitReduced(deadline);
        int rank = net.rank(), size = net.size();
        for (Bucket b : buckets) {
            for (int p = 0; p < size; p++) {
                if (p != rank) {
                    Frame f = net.take(p, Frame.Kind.GATHER, seq, b.part(), deadline);
                    int lo = bound(b, p);
                    net.checkLength(f, p, bound(b, p + 1) - lo, b.to() - b.from());
                    f.floatsInto(data, lo);
                }
            }
        }
        List<CompletableFuture<Void>> all;
        synchronized (sends) {
            all = new ArrayList<>(sends);
        }
        net.awaitSends(all, deadline);
        long end = System.nanoTime();
        net.recordAllReduce(blockedNanos + (end - t0), end - start);
    }

    private void awaitReduced(long deadline) {
        try {
            // Every wait on the reducer thread has its own deadline and fails with the peer named: give it time to
            // do so; this bound only guards against a reducer that stopped altogether.
            reduced.get(Math.max(0, deadline - System.nanoTime()) + GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof TransportException te) {
                throw new TransportException(te.peerRank(), te.getMessage(), te);
            }
            throw new TransportException(-1, "rank " + net.rank() + ": reducing failed: " + c, c);
        } catch (TimeoutException e) {
            throw new TransportException(-1, "rank " + net.rank() + ": the reduction did not finish within "
                    + net.ioTimeoutText());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(-1, "rank " + net.rank() + ": interrupted while reducing");
        }
    }
}
