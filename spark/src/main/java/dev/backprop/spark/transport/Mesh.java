package dev.backprop.spark.transport;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Logger;

/**
 * Builds the full mesh: every pair of ranks shares one TCP connection. Rank {@code r} connects to every lower
 * rank and accepts every higher one; both sides check a handshake carrying the job token, so a connection
 * from an earlier attempt of the same job, or from a stranger, is turned away instead of joining the group.
 */
final class Mesh {
    private static final Logger LOG = Logger.getLogger(Mesh.class.getName());
    private static final int SOCKET_BUFFER = 4 << 20;

    private Mesh() {
    }

    /**
     * Connects {@code rank} to every other rank of {@code peers}.
     *
     * @return one link per rank, {@code null} at {@code rank}
     * @throws TransportException naming the ranks that could not be reached in time
     */
    static PeerLink[] connect(ServerSocket server, int rank, List<PeerAddress> peers, long token,
                              TransportOptions options) {
        int n = peers.size();
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        Socket[] sockets = new Socket[n];
        // A thread of its own: the common pool may have a single thread, shared with other ranks in this JVM.
        CompletableFuture<Void> accepting = new CompletableFuture<>();
        Thread acceptor = new Thread(() -> {
            try {
                acceptHigher(server, rank, n, token, deadline, sockets, options);
                accepting.complete(null);
            } catch (Throwable t) {
                accepting.completeExceptionally(t);
            }
        }, "backprop-rank" + rank + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        try {
            for (int p = 0; p < rank; p++) {
                sockets[p] = connectLower(rank, p, peers.get(p), token, deadline, options);
            }
            accepting.get();
            PeerLink[] links = new PeerLink[n];
            for (int p = 0; p < n; p++) {
                if (p != rank) {
                    links[p] = new PeerLink(rank, p, sockets[p], options.delay());
                }
            }
            return links;
        } catch (ExecutionException | InterruptedException | IOException | RuntimeException e) {
            // The transport is unusable after a failed setup: closing the server ends the acceptor's wait.
            closeQuietly(server);
            try {
                acceptor.join(1000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            closeAll(sockets);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof TransportException te) {
                throw te;
            }
            throw new TransportException(-1, "rank " + rank + ": setting up connections failed: " + cause, cause);
        }
    }

    private static Socket connectLower(int rank, int peer, PeerAddress address, long token, long deadline,
                                       TransportOptions options) throws IOException {
        Exception last = null;
        while (System.nanoTime() < deadline) {
            Socket s = new Socket();
            try {
                s.setReceiveBufferSize(SOCKET_BUFFER);
                s.setSendBufferSize(SOCKET_BUFFER);
                s.setTcpNoDelay(true);
                s.connect(address.socketAddress(), millisLeft(deadline));
                s.setSoTimeout(millisLeft(deadline));
                new Frame(Frame.Kind.HELLO, rank, token, 0, new byte[0]).writeTo(s.getOutputStream());
                Frame ack = Frame.readFrom(new DataInputStream(s.getInputStream()), 0);
                if (ack.kind() != Frame.Kind.HELLO || ack.source() != peer || ack.seq() != token) {
                    throw new TransportException(peer, "rank " + rank + ": " + address + " answered as rank "
                            + ack.source() + " of job " + ack.seq() + ", not rank " + peer + " of job " + token);
                }
                return s;
            } catch (ConnectException e) {
                s.close();
                last = e;
                sleepQuietly(50);
            } catch (IOException | RuntimeException e) {
                s.close();
                if (e instanceof TransportException te) {
                    throw te;
                }
                last = e;
                sleepQuietly(50);
            }
        }
        throw new TransportException(peer, "rank " + rank + ": could not connect to rank " + peer + " at " + address
                + " within " + options.connectTimeout() + (last == null ? "" : ": " + last), last);
    }

    private static void acceptHigher(ServerSocket server, int rank, int n, long token, long deadline,
                                     Socket[] sockets, TransportOptions options) {
        int missing = n - 1 - rank;
        while (missing > 0) {
            Socket s;
            try {
                server.setSoTimeout(millisLeft(deadline));
                s = server.accept();
            } catch (SocketTimeoutException e) {
                throw new TransportException(firstMissing(sockets, rank), "rank " + rank + ": ranks "
                        + missingRanks(sockets, rank) + " did not connect to " + server.getLocalSocketAddress()
                        + " within " + options.connectTimeout());
            } catch (IOException e) {
                throw new TransportException(-1, "rank " + rank + ": accepting connections failed: " + e, e);
            }
            Integer peer = handshake(s, rank, n, token, deadline, sockets);
            if (peer != null) {
                sockets[peer] = s;
                missing--;
            }
        }
    }

    /** The peer's rank when {@code s} is a rank of this job not yet connected; otherwise closes it, null. */
    private static Integer handshake(Socket s, int rank, int n, long token, long deadline, Socket[] sockets) {
        try {
            s.setTcpNoDelay(true);
            s.setSendBufferSize(SOCKET_BUFFER);
            s.setSoTimeout(millisLeft(deadline));
            Frame hello = Frame.readFrom(new DataInputStream(s.getInputStream()), 0);
            int peer = hello.source();
            if (hello.kind() != Frame.Kind.HELLO || hello.seq() != token || peer <= rank || peer >= n
                    || sockets[peer] != null) {
                LOG.warning("rank " + rank + ": turned away " + s.getRemoteSocketAddress() + " (claims rank " + peer
                        + " of job " + hello.seq() + "; this is job " + token + ")");
                s.close();
                return null;
            }
            new Frame(Frame.Kind.HELLO, rank, token, 0, new byte[0]).writeTo(s.getOutputStream());
            return peer;
        } catch (IOException e) {
            LOG.warning("rank " + rank + ": failed handshake with " + s.getRemoteSocketAddress() + ": " + e);
            closeQuietly(s);
            return null;
        }
    }

    private static int millisLeft(long deadline) {
        // At least 1: 0 would mean "no timeout" to a socket.
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, ms));
    }

    private static List<Integer> missingRanks(Socket[] sockets, int rank) {
        List<Integer> out = new ArrayList<>();
        for (int p = rank + 1; p < sockets.length; p++) {
            if (sockets[p] == null) {
                out.add(p);
            }
        }
        return out;
    }

    private static int firstMissing(Socket[] sockets, int rank) {
        List<Integer> m = missingRanks(sockets, rank);
        return m.isEmpty() ? -1 : m.get(0);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(-1, "interrupted while connecting");
        }
    }

    private static void closeAll(Socket[] sockets) {
        for (Socket s : sockets) {
            if (s != null) {
                closeQuietly(s);
            }
        }
    }

    private static void closeQuietly(java.io.Closeable s) {
        try {
            s.close();
        } catch (IOException e) {
            LOG.fine("close: " + e);
        }
    }
}
