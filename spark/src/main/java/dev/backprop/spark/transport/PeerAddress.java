package dev.backprop.spark.transport;

import java.io.Serializable;
import java.net.InetSocketAddress;

/**
 * Where a rank listens, as other ranks reach it.
 *
 * @param host a host name or IP address the other ranks can connect to
 * @param port the listening port
 */
public record PeerAddress(String host, int port) implements Serializable {
    /** Validates the address. */
    public PeerAddress {
        if (host == null || host.isBlank() || port <= 0 || port > 65535) {
            throw new IllegalArgumentException("bad rank address " + host + ":" + port);
        }
    }

    /** Parses {@code host:port} (the last colon separates the port, so IPv6 literals in brackets work). */
    public static PeerAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("rank address '" + text + "' is not host:port");
        }
        try {
            return new PeerAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("rank address '" + text + "' has no numeric port");
        }
    }

    InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
