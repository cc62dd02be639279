package dev.backprop.spark.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rank's end of the group: TCP connections to every other rank and the collective operations over them.
 *
 * <p>Life cycle: {@link #listen} (bind a port), tell the other ranks the address (through Spark's
 * {@code allGather}, or any other way), {@link #connect}, then the same sequence of collectives on every
 * rank, then {@link #close}. The ranks must call the same collectives in the same order with vectors of the
 * same length; a rank that deviates gets a clear error, as does every rank when a peer is lost, closes, or
 * stays silent for longer than {@link TransportOptions#ioTimeout()}.
 *
 * <p>Not thread-safe: one thread drives the collectives.
 */
public final class RankTransport implements AutoCloseable {
    private final ServerSocket server;
    private final TransportOptions options;
    private PeerLink[] links;
    private int rank = -1;
    private int size;
    private long seq;
    private boolean closed;
    private long allReduces;
    private long allReduceNanos;
    private long allReduceSpanNanos;
    private final AtomicLong bytesSent = new AtomicLong();
    /** Sums this rank's chunks of posted buckets as the peers' copies arrive (one daemon thread). */
    private ExecutorService reducer;
    private BucketedAllReduce open;
    private final Scratch scratch = new Scratch();

    /** Arrays the reducer thread reuses from bucket to bucket (touched by that thread only). */
    static final class Scratch {
        private double[] sums = new double[0];
        private float[] floats = new float[0];

        double[] sums(int n) {
            if (sums.length < n) {
                sums = new double[n];
            }
            return sums;
        }

        float[] floats(int n) {
            if (floats.length < n) {
                floats = new float[n];
            }
            return floats;
        }
    }

    private RankTransport(ServerSocket server, TransportOptions options) {
        this.server = server;
        this.options = options;
    }

    /**
     * Binds a listening socket.
     *
     * @param bindHost the interface to listen on ({@code null} or {@code 0.0.0.0} for all)
     * @param port     the port, or 0 for any free one
     * @throws TransportException when the port cannot be bound
     */
    public static RankTransport listen(String bindHost, int port, TransportOptions options) {
        try {
            ServerSocket s = new ServerSocket();
            s.setReceiveBufferSize(4 << 20);
            s.bind(new InetSocketAddress(bindHost == null ? null : InetAddress.getByName(bindHost), port), 64);
            return new RankTransport(s, options);
        } catch (IOException e) {
            throw new TransportException(-1, "cannot listen on " + bindHost + ":" + port + ": " + e, e);
        }
    }

    /** The port this rank listens on. */
    public int port() {
        return server.getLocalPort();
    }

    /**
     * Connects to the other ranks. {@code peers.get(r)} is rank {@code r}'s address (this rank's own entry is
     * not used). Every rank must pass the same list and token; a connection with another token is refused.
     *
     * @throws TransportException naming a rank that could not be reached within the connect timeout
     */
    public void connect(int rank, List<PeerAddress> peers, long token) {
        if (links != null || closed) {
            throw new IllegalStateException("connect may be called once, before close");
        }
        if (rank < 0 || rank >= peers.size()) {
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + peers.size() + ")");
        }
        this.links = Mesh.connect(server, rank, List.copyOf(peers), token, options);
        this.rank = rank;
        this.size = peers.size();
        this.reducer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "backprop-rank" + rank + "-reduce");
            t.setDaemon(true);
            return t;
        });
    }

    /** This rank. */
    public int rank() {
        return rank;
    }

    /** The number of ranks. */
    public int size() {
        return size;
    }

    /**
     * Replaces {@code data} on every rank with {@code Σ_r weight_r · data_r}, where {@code weight_r} is the
     * {@code weight} rank {@code r} passed. Rank {@code c} owns chunk {@code c} of the vector: it receives every
     * rank's copy of that chunk (reduce-scatter), adds them in rank order {@code 0, 1, …, n-1} in double
     * precision and rounds once to float, then sends the result to every rank (all-gather). So the result is the
     * same bits on every rank, for any number of ranks and any arrival order, and equals the sequential sum
     * {@code (float) (w_0·x_0 + w_1·x_1 + …)} evaluated in double. (One {@link BucketedAllReduce} bucket.)
     *
     * @throws TransportException naming the peer on a lost connection, a timeout or a schedule mismatch
     */
    public void allReduce(float[] data, double weight) {
        BucketedAllReduce r = startAllReduce(data, weight);
        r.post(0, data.length);
        r.finish();
    }

    /**
     * Starts an all-reduce of {@code data} (the same sum as {@link #allReduce}) whose parts are handed over with
     * {@link BucketedAllReduce#post} as they become final; {@link BucketedAllReduce#finish} completes it. No other
     * collective may run before that.
     */
    public BucketedAllReduce startAllReduce(float[] data, double weight) {
        requireConnected();
        open = new BucketedAllReduce(this, nextSeq(), data, weight, reducer);
        return open;
    }

    /** The reducer thread's reusable arrays. */
    Scratch reducerScratch() {
        return scratch;
    }

    /** The next collective's sequence number. */
    long nextSeq() {
        return ++seq;
    }

    long ioTimeoutNanos() {
        return options.ioTimeout().toNanos();
    }

    String ioTimeoutText() {
        return options.ioTimeout().toString();
    }

    /** The next frame from {@code peer}, which must be part {@code part} of {@code kind} number {@code seq}. */
    Frame take(int peer, Frame.Kind kind, long seq, int part, long deadline) {
        return links[peer].take(kind, seq, part, deadline, ioTimeoutText());
    }

    /** Counts one finished all-reduce: the caller's time blocked in it, and its span from start to finish. */
    void recordAllReduce(long blockedNanos, long spanNanos) {
        allReduces++;
        allReduceNanos += blockedNanos;
        allReduceSpanNanos += spanNanos;
        open = null;
    }

    void checkLength(Frame f, int peer, int expected, int total) {
        if (f.floatCount() != expected || f.payload().length % Float.BYTES != 0) {
            throw new TransportException(peer, "rank " + rank + ": rank " + peer + " sent " + f.payload().length
                    + " bytes for a chunk of " + expected + " floats (bucket of " + total + " here); the ranks "
                    + "disagree on the vector length");
        }
    }

    /**
     * Sends {@code bytes} from {@code root} to every rank; returns them on every rank ({@code bytes} itself on
     * the root; the argument is ignored elsewhere and may be null).
     *
     * @throws TransportException naming the peer on a lost connection or timeout
     */
    public byte[] broadcast(byte[] bytes, int root) {
        requireConnected();
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast root " + root + " is outside [0, " + size + ")");
        }
        long s = ++seq;
        long deadline = System.nanoTime() + options.ioTimeout().toNanos();
        if (rank != root) {
            return links[root].take(Frame.Kind.BROADCAST, s, deadline, options.ioTimeout().toString()).payload();
        }
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                sends.add(send(p, new Frame(Frame.Kind.BROADCAST, rank, s, 0, bytes)));
            }
        }
        awaitSends(sends, deadline);
        return bytes;
    }

    /** Returns once every rank has called it (an all-reduce of nothing). */
    public void barrier() {
        allReduce(new float[0], 0);
    }

    CompletableFuture<Void> send(int peer, Frame f) {
        bytesSent.addAndGet(Frame.HEADER_BYTES + f.payload().length);
        return links[peer].send(f);
    }

    void awaitSends(List<CompletableFuture<Void>> sends, long deadline) {
        for (CompletableFuture<Void> f : sends) {
            try {
                f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TransportException te) {
                    throw te;
                }
                throw new TransportException(-1, "rank " + rank + ": send failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                throw new TransportException(-1, "rank " + rank + ": a peer did not take a message within "
                        + options.ioTimeout() + " (it is stalled or unreachable)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransportException(-1, "rank " + rank + ": interrupted while sending");
            }
        }
    }

    private void requireConnected() {
        if (closed) {
            throw new IllegalStateException("rank " + rank + ": transport is closed");
        }
        if (links == null) {
            throw new IllegalStateException("transport is not connected: call connect first");
        }
        if (open != null) {
            throw new IllegalStateException("rank " + rank + ": an all-reduce is still open; finish it first");
        }
    }

    /** Counters of this rank's collectives so far. */
    public TransportStats stats() {
        return new TransportStats(allReduces, allReduceNanos, allReduceSpanNanos, bytesSent.get());
    }

    /** Says goodbye to the peers, closes every connection and the listening socket. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reducer != null) {
            reducer.shutdownNow();
        }
        if (links != null) {
            for (PeerLink l : links) {
                if (l != null) {
                    l.close();
                }
            }
        }
        try {
            server.close();
        } catch (IOException e) {
            java.util.logging.Logger.getLogger(RankTransport.class.getName()).fine("close: " + e);
        }
    }
}
