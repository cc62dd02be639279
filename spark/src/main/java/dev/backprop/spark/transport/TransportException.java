package dev.backprop.spark.transport;

import dev.backprop.backend.BackpropException;

/**
 * A collective operation between ranks failed: a peer was lost, did not answer in time, or sent something
 * this rank did not expect. The message names this rank and the peer; {@link #peerRank()} gives the peer
 * ({@code -1} when the failure is not about one peer).
 */
public class TransportException extends BackpropException {
    private final int peerRank;

    /** A failure involving {@code peerRank} ({@code -1} for none). */
    public TransportException(int peerRank, String message) {
        super(message);
        this.peerRank = peerRank;
    }

    /** A failure involving {@code peerRank} ({@code -1} for none), caused by {@code cause}. */
    public TransportException(int peerRank, String message, Throwable cause) {
        super(message, cause);
        this.peerRank = peerRank;
    }

    /** The rank of the peer involved, or {@code -1}. */
    public int peerRank() {
        return peerRank;
    }
}
