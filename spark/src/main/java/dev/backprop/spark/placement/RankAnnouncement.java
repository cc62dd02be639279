package dev.backprop.spark.placement;

import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.data.DataFormatException;
import dev.backprop.spark.transport.PeerAddress;

/**
 * What each rank tells the others in the stage's one {@code allGather}: where it listens, the backend it opened
 * and the size of its shard. Encoded as one tab-separated line.
 *
 * @param address   where the rank's transport listens
 * @param backend   the backend the rank runs on
 * @param shardSize examples in its partition
 */
record RankAnnouncement(PeerAddress address, String backend, int shardSize) {
    /** Starts a {@link #failed} line; no host starts with it. */
    private static final String FAILED = "cannot train\t";

    String encode() {
        return address.host() + "\t" + address.port() + "\t" + backend + "\t" + shardSize;
    }

    static RankAnnouncement decode(String line, int rank) {
        String[] f = line.split("\t", -1);
        if (f.length != 4) {
            throw new IllegalStateException("rank " + rank + " announced '" + line + "', not host/port/backend/size");
        }
        try {
            return new RankAnnouncement(new PeerAddress(f[0], Integer.parseInt(f[1])), f[2], Integer.parseInt(f[3]));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("rank " + rank + " announced '" + line + "': " + e.getMessage(), e);
        }
    }

    /**
     * The line a rank that cannot open its backend announces instead, with {@code reason} (one line): every rank
     * then ends the stage with the lowest such rank's reason ({@link #failure(String[])}).
     */
    static String failed(String reason) {
        return FAILED + DataFormatException.oneLine(reason);
    }

    /** The reason of the lowest rank in {@code lines} that announced {@link #failed}, or null when none did. */
    static BackendUnavailableException failure(String[] lines) {
        for (String line : lines) {
            if (line.startsWith(FAILED)) {
                return new BackendUnavailableException(line.substring(FAILED.length()));
            }
        }
        return null;
    }

    /** The host part of Spark's executor address {@code host:port} (or {@code [v6]:port}). */
    static String hostOf(String executorAddress) {
        String a = executorAddress.trim();
        int colon = a.lastIndexOf(':');
        String host = colon > 0 && a.indexOf(':') == colon || a.startsWith("[") ? a.substring(0, colon) : a;
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
