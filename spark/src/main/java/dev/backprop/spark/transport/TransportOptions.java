package dev.backprop.spark.transport;

import java.io.Serializable;
import java.time.Duration;

/**
 * Settings of a {@link RankTransport}.
 *
 * @param connectTimeout how long setting up the connections may take (all peers must connect within it)
 * @param ioTimeout      how long one collective may wait for a peer; longer than the slowest rank's step
 *                       (including rank 0 writing a checkpoint), short enough that a stalled peer is noticed
 * @param delay          simulated network delay ({@link NetworkDelay#NONE} on a real network)
 */
public record TransportOptions(Duration connectTimeout, Duration ioTimeout, NetworkDelay delay)
        implements Serializable {
    /** Validates the settings. */
    public TransportOptions {
        if (connectTimeout.isNegative() || connectTimeout.isZero() || ioTimeout.isNegative() || ioTimeout.isZero()) {
            throw new IllegalArgumentException("transport timeouts must be positive, got connect " + connectTimeout
                    + " and io " + ioTimeout);
        }
        if (delay == null) {
            throw new IllegalArgumentException("delay must not be null (use NetworkDelay.NONE)");
        }
    }

    /** 60 s to connect, 300 s per collective, no simulated delay. */
    public static TransportOptions defaults() {
        return new TransportOptions(Duration.ofSeconds(60), Duration.ofSeconds(300), NetworkDelay.NONE);
    }

    /** These options with another collective timeout. */
    public TransportOptions withIoTimeout(Duration timeout) {
        return new TransportOptions(connectTimeout, timeout, delay);
    }

    /** These options with another connection timeout. */
    public TransportOptions withConnectTimeout(Duration timeout) {
        return new TransportOptions(timeout, ioTimeout, delay);
    }

    /** These options with a simulated network delay. */
    public TransportOptions withDelay(NetworkDelay d) {
        return new TransportOptions(connectTimeout, ioTimeout, d);
    }
}
