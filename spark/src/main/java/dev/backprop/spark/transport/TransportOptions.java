package dev.backprop.spark.transport;

import java.io.Serializable;
import java.time.Duration;

/**
 * Settings of a {@link RankTransport}.
 *
 * @param connectTimeout   how long setting up the connections may take (all peers must connect within it)
 * @param ioTimeout        how long one collective may wait for a peer; longer than the slowest rank's step
 *                         (including rank 0 writing a checkpoint), short enough that a stalled peer is noticed
 * @param handshakeTimeout how long one connection's handshake may take, from its first byte to its last (a
 *                         connection that takes longer is dropped; a real rank then connects again)
 * @param delay            simulated network delay ({@link NetworkDelay#NONE} on a real network)
 */
public record TransportOptions(Duration connectTimeout, Duration ioTimeout, Duration handshakeTimeout,
                               NetworkDelay delay) implements Serializable {
    /** Validates the settings. */
    public TransportOptions {
        for (Duration d : new Duration[] {connectTimeout, ioTimeout, handshakeTimeout}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("transport timeouts must be positive, got connect "
                        + connectTimeout + ", io " + ioTimeout + " and handshake " + handshakeTimeout);
            }
        }
        if (delay == null) {
            throw new IllegalArgumentException("delay must not be null (use NetworkDelay.NONE)");
        }
    }

    /** 60 s to connect, 300 s per collective, 5 s per handshake, no simulated delay. */
    public static TransportOptions defaults() {
        return new TransportOptions(Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(5),
                NetworkDelay.NONE);
    }

    /** These options with another collective timeout. */
    public TransportOptions withIoTimeout(Duration timeout) {
        return new TransportOptions(connectTimeout, timeout, handshakeTimeout, delay);
    }

    /** These options with another connection timeout. */
    public TransportOptions withConnectTimeout(Duration timeout) {
        return new TransportOptions(timeout, ioTimeout, handshakeTimeout, delay);
    }

    /** These options with another handshake timeout. */
    public TransportOptions withHandshakeTimeout(Duration timeout) {
        return new TransportOptions(connectTimeout, ioTimeout, timeout, delay);
    }

    /** These options with a simulated network delay. */
    public TransportOptions withDelay(NetworkDelay d) {
        return new TransportOptions(connectTimeout, ioTimeout, handshakeTimeout, d);
    }
}
