package dev.backprop.spark.transport;

import java.io.Closeable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

/**
 * Builds the full mesh: every pair of ranks shares one authenticated TCP connection ({@link Handshake}). Rank
 * {@code r} connects to every lower rank and accepts every higher one. Each accepted connection is handshaken on
 * a thread of its own with {@link TransportOptions#handshakeTimeout()}, so a connection that stays silent,
 * trickles bytes or fails authentication costs its own thread a few seconds and delays no one; the group forms
 * as soon as the real ranks have connected. Once it has, the listening socket is closed.
 */
final class Mesh {
    private static final Logger LOG = Logger.getLogger(Mesh.class.getName());
    private static final int SOCKET_BUFFER = 4 << 20;
    /** Handshakes in progress at once; a connection beyond them is closed at once (a real rank tries again). */
    static final int MAX_HANDSHAKES = 64;

    private Mesh() {
    }

    /**
     * Connects {@code rank} to every other rank of {@code peers}, then closes {@code server}.
     *
     * @return one session per rank, {@code null} at {@code rank}
     * @throws TransportException naming the ranks that could not be reached in time, or a lower rank that failed
     *                            to prove it holds the job's secret
     */
    static Handshake.Session[] connect(ServerSocket server, int rank, List<PeerAddress> peers, Handshake.Group group,
                                       TransportOptions options) {
        int n = peers.size();
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        Accepted accepted = new Accepted(rank, n);
        Thread acceptor = daemon(() -> acceptHigher(server, rank, group, deadline, accepted, options),
                "backprop-rank" + rank + "-accept");
        acceptor.start();
        Handshake.Session[] sessions = new Handshake.Session[n];
        try {
            for (int p = 0; p < rank; p++) {
                sessions[p] = connectLower(rank, p, peers.get(p), group, deadline, options);
            }
            accepted.await(deadline, server.getLocalSocketAddress() + " within " + options.connectTimeout());
            accepted.moveTo(sessions);
            return sessions;
        } catch (RuntimeException e) {
            accepted.moveTo(sessions);
            for (Handshake.Session s : sessions) {
                if (s != null) {
                    closeQuietly(s.socket());
                }
            }
            throw e instanceof TransportException te ? te
                    : new TransportException(-1, "rank " + rank + ": setting up connections failed: " + e, e);
        } finally {
            // Nothing may join once the group is formed (or has failed); closing the server ends the acceptor's wait.
            closeQuietly(server);
            try {
                acceptor.join(1000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Handshake.Session connectLower(int rank, int peer, PeerAddress address, Handshake.Group group,
                                                  long deadline, TransportOptions options) {
        Exception last = null;
        while (System.nanoTime() < deadline) {
            long attemptDeadline = Math.min(deadline, System.nanoTime() + options.handshakeTimeout().toNanos());
            Socket s = new Socket();
            try {
                configure(s);
                s.connect(address.socketAddress(), millisLeft(attemptDeadline));
                return Handshake.connect(s, group, rank, peer, attemptDeadline);
            } catch (ProtocolException e) {
                closeQuietly(s);
                throw new TransportException(peer, "rank " + rank + ": rank " + peer + " at " + address + " "
                        + e.getMessage(), e);
            } catch (IOException e) {
                // Not listening yet, busy, or it turned this connection away: try again until the deadline.
                closeQuietly(s);
                last = e;
                sleepQuietly(e instanceof ConnectException ? 50 : 200);
            }
        }
        throw new TransportException(peer, "rank " + rank + ": could not connect to rank " + peer + " at " + address
                + " within " + options.connectTimeout() + (last == null ? "" : ": " + last), last);
    }

    private static void acceptHigher(ServerSocket server, int rank, Handshake.Group group, long deadline,
                                     Accepted accepted, TransportOptions options) {
        Semaphore slots = new Semaphore(MAX_HANDSHAKES);
        while (!accepted.complete()) {
            Socket s;
            try {
                server.setSoTimeout(millisLeft(deadline));
                s = server.accept();
            } catch (SocketTimeoutException e) {
                return;
            } catch (IOException e) {
                if (!server.isClosed()) {
                    LOG.warning("rank " + rank + ": accepting connections failed: " + e);
                }
                return;
            }
            if (!slots.tryAcquire()) {
                accepted.refused(s.getRemoteSocketAddress() + ": " + MAX_HANDSHAKES + " handshakes already running");
                closeQuietly(s);
                continue;
            }
            daemon(() -> {
                try {
                    handshake(s, rank, group, deadline, accepted, options);
                } finally {
                    slots.release();
                }
            }, "backprop-rank" + rank + "-handshake-" + s.getPort()).start();
        }
    }

    private static void handshake(Socket s, int rank, Handshake.Group group, long deadline, Accepted accepted,
                                  TransportOptions options) {
        long own = Math.min(deadline, System.nanoTime() + options.handshakeTimeout().toNanos());
        try {
            configure(s);
            Handshake.Session session = Handshake.accept(s, group, rank, accepted::wanted, own);
            if (!accepted.add(session)) {
                closeQuietly(s);
            }
        } catch (IOException | RuntimeException e) {
            String why = s.getRemoteSocketAddress() + ": " + e.getMessage();
            LOG.warning("rank " + rank + ": turned away " + why);
            accepted.refused(why);
            closeQuietly(s);
        }
    }

    private static void configure(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        s.setReceiveBufferSize(SOCKET_BUFFER);
        s.setSendBufferSize(SOCKET_BUFFER);
    }

    /** The higher ranks' sessions as their handshakes succeed, and why other connections were turned away. */
    private static final class Accepted {
        private final int rank;
        private final Handshake.Session[] sessions;
        private int missing;
        private boolean closed;
        private int refused;
        private final List<String> reasons = new ArrayList<>();

        Accepted(int rank, int n) {
            this.rank = rank;
            this.sessions = new Handshake.Session[n];
            this.missing = n - 1 - rank;
        }

        /** Whether {@code peer} is a rank this one accepts. */
        boolean wanted(int peer) {
            return peer > rank && peer < sessions.length;
        }

        /** Takes an authenticated session; a newer one for the same rank replaces the older (a retry). */
        synchronized boolean add(Handshake.Session s) {
            if (closed) {
                return false;
            }
            Handshake.Session old = sessions[s.peer()];
            if (old == null) {
                missing--;
            } else {
                closeQuietly(old.socket());
            }
            sessions[s.peer()] = s;
            notifyAll();
            return true;
        }

        synchronized void refused(String why) {
            refused++;
            if (reasons.size() < 3) {
                reasons.add(why);
            }
        }

        synchronized boolean complete() {
            return missing == 0 || closed;
        }

        /** Waits until every higher rank has connected. */
        synchronized void await(long deadline, String where) {
            while (missing > 0) {
                long ms = (deadline - System.nanoTime()) / 1_000_000;
                if (ms <= 0) {
                    List<Integer> absent = new ArrayList<>();
                    for (int p = rank + 1; p < sessions.length; p++) {
                        if (sessions[p] == null) {
                            absent.add(p);
                        }
                    }
                    throw new TransportException(absent.get(0), "rank " + rank + ": ranks " + absent
                            + " did not connect to " + where + (refused == 0 ? "" : " (turned away " + refused
                            + " connection(s): " + String.join("; ", reasons) + ")"));
                }
                try {
                    wait(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TransportException(-1, "rank " + rank + ": interrupted while waiting for connections");
                }
            }
        }

        /** Ends accepting and moves the sessions into {@code out}. */
        synchronized void moveTo(Handshake.Session[] out) {
            closed = true;
            for (int p = rank + 1; p < sessions.length; p++) {
                out[p] = sessions[p];
            }
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static int millisLeft(long deadline) {
        // At least 1: 0 would mean "no timeout" to a socket.
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, ms));
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(-1, "interrupted while connecting");
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.fine("close: " + e);
        }
    }
}
