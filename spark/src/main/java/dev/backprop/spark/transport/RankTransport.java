package dev.backprop.spark.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rank's end of the group: authenticated TCP connections to every other rank and the collective operations
 * over them.
 *
 * <p>Life cycle: {@link #listen} (bind a port), tell the other ranks the address (through Spark's
 * {@code allGather}, or any other way), {@link #connect} with the job's {@link JobSecret}, then the same sequence
 * of collectives on every rank, then {@link #close}. The ranks must call the same collectives in the same order
 * with vectors of the same length; a rank that deviates gets a clear error, as does every rank when a peer is
 * lost, closes, sends a frame that fails authentication or exceeds what the collective can carry, or stays silent
 * for longer than {@link TransportOptions#ioTimeout()}.
 *
 * <p>Every connection starts with a mutual challenge-response proving that both ends hold the job's secret
 * ({@link Handshake}), and every frame after it carries HMAC-SHA256 tags under keys of that connection and
 * direction with a frame counter ({@link FrameAuth}): a peer without the secret cannot join, and frames that are
 * altered, replayed, reordered or moved between connections are rejected. The bytes are not encrypted.
 *
 * <p>Not thread-safe: one thread drives the collectives.
 */
public final class RankTransport implements AutoCloseable {
    private final ServerSocket server;
    private final TransportOptions options;
    private Schedule schedule;
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
     * @param bindHost the address of this machine to listen on: the one the other ranks are told (an executor's
     *                 own address; loopback when every rank runs on this machine)
     * @param port     the port, or 0 for any free one
     * @throws TransportException when the port cannot be bound
     */
    public static RankTransport listen(String bindHost, int port, TransportOptions options) {
        Objects.requireNonNull(bindHost, "bind host");
        try {
            ServerSocket s = new ServerSocket();
            s.setReceiveBufferSize(4 << 20);
            s.bind(new InetSocketAddress(InetAddress.getByName(bindHost), port), 64);
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
     * Connects to the other ranks and closes the listening socket. {@code peers.get(r)} is rank {@code r}'s
     * address (this rank's own entry is not used). Every rank must pass the same list, secret and attempt; a
     * connection that cannot prove it holds {@code secret} for this {@code attempt} is turned away (and logged).
     *
     * @param secret  the job's secret, the same on every rank
     * @param attempt names this run of the group (Spark: stage id and attempt), so that a rank left over from an
     *                earlier attempt of the same job cannot join
     * @throws TransportException naming a rank that could not be reached within the connect timeout, or a lower
     *                            rank that failed to prove that it holds {@code secret}
     */
    public void connect(int rank, List<PeerAddress> peers, JobSecret secret, long attempt) {
        if (links != null || closed) {
            throw new IllegalStateException("connect may be called once, before close");
        }
        if (rank < 0 || rank >= peers.size()) {
            throw new IllegalArgumentException("rank " + rank + " is outside [0, " + peers.size() + ")");
        }
        Objects.requireNonNull(secret, "job secret");
        Handshake.Session[] sessions = Mesh.connect(server, rank, List.copyOf(peers),
                new Handshake.Group(secret, attempt, peers.size()), options);
        this.schedule = new Schedule(rank);
        this.links = new PeerLink[sessions.length];
        try {
            for (int p = 0; p < sessions.length; p++) {
                if (p != rank) {
                    links[p] = new PeerLink(rank, sessions[p], options.delay(), schedule);
                }
            }
        } catch (IOException e) {
            for (Handshake.Session session : sessions) {
                if (session != null) {
                    closeQuietly(session.socket());
                }
            }
            throw new TransportException(-1, "rank " + rank + ": setting up connections failed: " + e, e);
        }
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
        long s = nextSeq();
        schedule.beginAllReduce(s, data.length, size);
        open = new BucketedAllReduce(this, s, data, weight, reducer);
        return open;
    }

    /** The reducer thread's reusable arrays. */
    Scratch reducerScratch() {
        return scratch;
    }

    /** The next collective's sequence number. */
    private long nextSeq() {
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
        long s = nextSeq();
        schedule.beginBroadcast(s, root);
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
        bytesSent.addAndGet(Frame.HEADER_BYTES + 2L * Crypto.TAG_BYTES + f.payload().length);
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
        if (schedule != null) {
            schedule.close();
        }
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
        closeQuietly(server);
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            java.util.logging.Logger.getLogger(RankTransport.class.getName()).fine("close: " + e);
        }
    }
}
