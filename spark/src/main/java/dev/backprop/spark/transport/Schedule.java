package dev.backprop.spark.transport;

import java.io.IOException;
import java.net.ProtocolException;

/**
 * What the peers may send this rank now: the collective it has reached and the largest payload each peer can
 * legitimately send in it (a chunk of an all-reduce, or the root's bytes of a broadcast). A link's receiver
 * checks every authenticated header here before it allocates the payload. A header of a collective this rank has
 * not started yet waits until it does: each peer writes all frames of one collective before any of the next, so
 * the wait never holds back a frame this rank needs first.
 */
final class Schedule {
    private final int self;
    private long seq;
    /** All-reduce: floats in the vector; -1 for a broadcast. */
    private int floats = -1;
    private int ranks;
    /** Broadcast: the root; -1 for an all-reduce. */
    private int root = -1;
    private boolean closed;

    Schedule(int self) {
        this.self = self;
    }

    /** This rank starts all-reduce {@code seq} of {@code floats} floats over {@code ranks} ranks. */
    synchronized void beginAllReduce(long seq, int floats, int ranks) {
        this.seq = seq;
        this.floats = floats;
        this.ranks = ranks;
        this.root = -1;
        notifyAll();
    }

    /** This rank starts broadcast {@code seq} from {@code root}. */
    synchronized void beginBroadcast(long seq, int root) {
        this.seq = seq;
        this.floats = -1;
        this.root = root;
        notifyAll();
    }

    /** The transport closes: waiting receivers give up. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }

    /**
     * Returns when {@code peer} may send a payload of {@code length} bytes for {@code kind} number {@code seq},
     * waiting until this rank reaches that collective.
     *
     * @throws ProtocolException when no such frame is legitimate: the length exceeds what the collective can
     *                           carry, the collective has passed, or the kind never follows the handshake
     * @throws IOException       when the transport closes meanwhile
     */
    synchronized void admit(int peer, Frame.Kind kind, long frameSeq, int length)
            throws IOException, InterruptedException {
        if (kind == Frame.Kind.HELLO || (kind == Frame.Kind.BYE && length != 0)) {
            throw new ProtocolException("rank " + peer + " sent " + kind + " of " + length + " bytes after the "
                    + "handshake");
        }
        if (kind == Frame.Kind.BYE) {
            return;
        }
        while (seq < frameSeq && !closed) {
            wait();
        }
        if (closed) {
            throw new IOException("this rank closed its transport");
        }
        if (frameSeq != seq) {
            throw new ProtocolException("rank " + peer + " sent " + kind + " #" + frameSeq + " while this rank is at "
                    + "collective #" + seq + "; the ranks are not running the same schedule");
        }
        if (floats >= 0) {
            long chunk = Float.BYTES * ((floats + (long) ranks - 1) / ranks);
            if (length > chunk) {
                throw new ProtocolException("rank " + peer + " sent " + kind + " #" + seq + " of " + length
                        + " bytes, more than a chunk of this all-reduce can hold (" + chunk + " bytes: " + floats
                        + " floats over " + ranks + " ranks); the ranks disagree on the vector length");
            }
        } else if (peer != root || self == root) {
            if (length > 0) {
                throw new ProtocolException("rank " + peer + " sent " + kind + " #" + seq + " of " + length
                        + " bytes during a broadcast from rank " + root + ", which only rank " + root + " sends in");
            }
        } else if (length > Runtime.getRuntime().maxMemory()) {
            throw new ProtocolException("rank " + peer + " announced " + kind + " #" + seq + " of " + length
                    + " bytes, more than this JVM's heap can ever hold (" + Runtime.getRuntime().maxMemory()
                    + " bytes)");
        }
    }
}
