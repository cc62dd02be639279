package dev.backprop.spark.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
    private long bytesSent;

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
     * {@code (float) (w_0·x_0 + w_1·x_1 + …)} evaluated in double.
     *
     * @throws TransportException naming the peer on a lost connection, a timeout or a schedule mismatch
     */
    public void allReduce(float[] data, double weight) {
        requireConnected();
        long start = System.nanoTime();
        long s = ++seq;
        long deadline = start + options.ioTimeout().toNanos();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                sends.add(send(p, Frame.ofFloats(Frame.Kind.REDUCE, rank, s, weight, data, from(data, p),
                        from(data, p + 1) - from(data, p))));
            }
        }
        reduceOwnChunk(data, weight, s, deadline);
        int mine = from(data, rank);
        int len = from(data, rank + 1) - mine;
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                sends.add(send(p, Frame.ofFloats(Frame.Kind.GATHER, rank, s, 0, data, mine, len)));
            }
        }
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                Frame f = links[p].take(Frame.Kind.GATHER, s, deadline, options.ioTimeout().toString());
                checkLength(f, p, from(data, p + 1) - from(data, p), data.length);
                f.floatsInto(data, from(data, p));
            }
        }
        awaitSends(sends, deadline);
        allReduces++;
        allReduceNanos += System.nanoTime() - start;
    }

    private void reduceOwnChunk(float[] data, double weight, long s, long deadline) {
        int lo = from(data, rank);
        int len = from(data, rank + 1) - lo;
        float[][] copies = new float[size][];
        double[] weights = new double[size];
        for (int p = 0; p < size; p++) {
            if (p == rank) {
                weights[p] = weight;
                continue;
            }
            Frame f = links[p].take(Frame.Kind.REDUCE, s, deadline, options.ioTimeout().toString());
            checkLength(f, p, len, data.length);
            copies[p] = new float[len];
            f.floatsInto(copies[p], 0);
            weights[p] = f.weight();
        }
        for (int i = 0; i < len; i++) {
            double acc = 0;
            for (int p = 0; p < size; p++) {
                acc += weights[p] * (p == rank ? data[lo + i] : copies[p][i]);
            }
            data[lo + i] = (float) acc;
        }
    }

    /** The start of chunk {@code c} of {@code data}: chunks differ in length by at most one element. */
    private int from(float[] data, int c) {
        return (int) ((long) data.length * c / size);
    }

    private void checkLength(Frame f, int peer, int expected, int total) {
        if (f.floatCount() != expected || f.payload().length % Float.BYTES != 0) {
            throw new TransportException(peer, "rank " + rank + ": rank " + peer + " sent " + f.payload().length
                    + " bytes for a chunk of " + expected + " floats (vector of " + total + " here); the ranks "
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

    private CompletableFuture<Void> send(int peer, Frame f) {
        bytesSent += Frame.HEADER_BYTES + f.payload().length;
        return links[peer].send(f);
    }

    private void awaitSends(List<CompletableFuture<Void>> sends, long deadline) {
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
    }

    /** Counters of this rank's collectives so far. */
    public TransportStats stats() {
        return new TransportStats(allReduces, allReduceNanos, bytesSent);
    }

    /** Says goodbye to the peers, closes every connection and the listening socket. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
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
