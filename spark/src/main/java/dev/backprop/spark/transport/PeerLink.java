package dev.backprop.spark.transport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The authenticated connection from this rank to one peer. A receiver thread reads frames as soon as they arrive
 * and queues them, so two ranks writing large messages to each other never block on full socket buffers; a
 * sender thread writes frames in order, after the simulated network delay. Every frame is sealed and checked
 * with the connection's {@link FrameAuth} keys, and every header passes the {@link Schedule} before its payload is
 * allocated. Any receiver failure (end of stream, a frame that fails authentication or exceeds what the
 * collective can carry, an {@code Error} such as {@code OutOfMemoryError}) is queued as well, so a waiting
 * collective fails at once with the reason instead of waiting for its timeout.
 */
final class PeerLink implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PeerLink.class.getName());

    /** What the receiver queues when the connection ends. */
    private record Closed(String why, Throwable cause) {
    }

    private final int self;
    private final int peer;
    private final Socket socket;
    private final Handshake.Session session;
    private final Schedule schedule;
    private final DataInputStream in;
    private final OutputStream out;
    private final NetworkDelay delay;
    private final NetworkDelay.Link wire;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    /**
     * GATHER frames apart: a bucketed all-reduce's reducer thread sends them while the rank thread sends the REDUCE
     * frames of later buckets, so the two kinds interleave on the wire in no fixed order; each kind alone arrives
     * in its collectives' order.
     */
    private final LinkedBlockingQueue<Object> gatherInbox = new LinkedBlockingQueue<>();
    private final ExecutorService sender;
    private final Thread receiver;
    private volatile boolean closing;

    PeerLink(int self, Handshake.Session session, NetworkDelay delay, Schedule schedule) throws IOException {
        this.self = self;
        this.peer = session.peer();
        this.socket = session.socket();
        this.session = session;
        this.schedule = schedule;
        this.delay = delay;
        this.wire = new NetworkDelay.Link(delay);
        socket.setSoTimeout(0);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        this.out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        String name = "backprop-rank" + self + "-peer" + peer;
        this.sender = Executors.newSingleThreadExecutor(r -> daemon(r, name + "-send"));
        this.receiver = daemon(this::receive, name + "-recv");
        receiver.start();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The peer's rank. */
    int peer() {
        return peer;
    }

    private void receive() {
        try {
            while (true) {
                Frame f = Frame.readFrom(in, session.in(), (kind, seq, length) -> schedule.admit(peer, kind, seq,
                        length));
                if (f.source() != peer) {
                    throw new ProtocolException("frame claims to come from rank " + f.source());
                }
                if (f.kind() == Frame.Kind.BYE) {
                    end(new Closed("rank " + peer + " left the group (it finished or failed on its own)", null));
                    return;
                }
                (f.kind() == Frame.Kind.GATHER ? gatherInbox : inbox).add(f);
            }
        } catch (EOFException e) {
            end(new Closed("lost connection to rank " + peer + " (" + remote() + "): " + e.getMessage(), e));
        } catch (ProtocolException e) {
            end(new Closed("closed the connection to rank " + peer + " (" + remote() + "): " + e.getMessage(), e));
            closeSocket();
        } catch (IOException e) {
            end(new Closed(closing ? "this rank closed its transport"
                    : "lost connection to rank " + peer + " (" + remote() + "): " + e, e));
        } catch (InterruptedException e) {
            end(new Closed("this rank closed its transport", e));
        } catch (Throwable e) {
            // An Error here (OutOfMemoryError above all) must fail the step now, not leave it waiting for its timeout.
            end(new Closed("receiving from rank " + peer + " (" + remote() + ") failed: " + e, e));
            closeSocket();
        }
    }

    private void end(Closed c) {
        inbox.add(c);
        gatherInbox.add(c);
    }

    private String remote() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }

    /**
     * Queues {@code frame} for sending; the future completes when it is written, or exceptionally with a
     * {@link TransportException} naming the peer.
     */
    CompletableFuture<Void> send(Frame frame) {
        if (delay.isNone()) {
            return CompletableFuture.runAsync(() -> write(frame), sender);
        }
        // Arrival times are taken in the order frames reach the sender's queue, so the queue stays sorted by them.
        synchronized (wire) {
            long arrival = wire.arrival(System.nanoTime(), Frame.HEADER_BYTES + frame.payload().length);
            return CompletableFuture.runAsync(() -> {
                NetworkDelay.awaitUntil(arrival);
                write(frame);
            }, sender);
        }
    }

    private void write(Frame frame) {
        try {
            frame.writeTo(out, session.out());
            out.flush();
        } catch (IOException e) {
            throw new TransportException(peer, "rank " + self + ": sending " + frame.kind() + " #" + frame.seq()
                    + " to rank " + peer + " (" + remote() + ") failed: " + e, e);
        }
    }

    /** The next frame from the peer, which must be {@code kind} number {@code seq}, part 0. */
    Frame take(Frame.Kind kind, long seq, long deadline, String timeout) {
        return take(kind, seq, 0, deadline, timeout);
    }

    /**
     * The next frame from the peer, which must be {@code kind} number {@code seq}, part {@code part}.
     *
     * @param deadline {@link System#nanoTime()} after which to give up
     * @param timeout  the timeout the deadline came from, for the message
     * @throws TransportException naming the peer when the connection ended, the deadline passed, the frame is
     *                            not the expected one, or the thread was interrupted
     */
    Frame take(Frame.Kind kind, long seq, int part, long deadline, String timeout) {
        LinkedBlockingQueue<Object> queue = kind == Frame.Kind.GATHER ? gatherInbox : inbox;
        Object o;
        try {
            o = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(peer, "rank " + self + ": interrupted while waiting for " + kind + " #"
                    + seq + " from rank " + peer, e);
        }
        if (o == null) {
            throw new TransportException(peer, "rank " + self + ": no " + kind + " #" + seq + " from rank " + peer
                    + " within " + timeout + "; rank " + peer + " is stalled or unreachable (" + remote() + ")");
        }
        if (o instanceof Closed c) {
            queue.add(c);
            throw new TransportException(peer, "rank " + self + ": waiting for " + kind + " #" + seq + ": " + c.why(),
                    c.cause());
        }
        Frame f = (Frame) o;
        if (f.kind() != kind || f.seq() != seq) {
            throw new TransportException(peer, "rank " + self + ": expected " + kind + " #" + seq + " from rank " + peer
                    + " but got " + f.kind() + " #" + f.seq() + "; the ranks are not running the same schedule");
        }
        if (f.part() != part) {
            throw new TransportException(peer, "rank " + self + ": expected part " + part + " of " + kind + " #" + seq
                    + " from rank " + peer + " but got part " + f.part() + "; the ranks split the vector into "
                    + "different buckets");
        }
        return f;
    }

    /** Says goodbye when the connection still works, then closes it and stops both threads. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            sender.submit(() -> {
                new Frame(Frame.Kind.BYE, self, 0, 0, new byte[0]).writeTo(out, session.out());
                out.flush();
                return null;
            }).get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.log(Level.FINE, "rank " + self + ": no goodbye to rank " + peer, e);
        }
        sender.shutdownNow();
        closeSocket();
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the connection to rank " + peer, e);
        }
    }
}
