package dev.backprop.spark.transport;

import java.io.Serializable;

/**
 * What a rank's transport has done.
 *
 * @param allReduces     completed all-reduce calls
 * @param allReduceNanos wall time spent inside them, in nanoseconds (includes waiting for slower ranks)
 * @param bytesSent      bytes written to peers, headers included
 */
public record TransportStats(long allReduces, long allReduceNanos, long bytesSent) implements Serializable {
    /** Mean milliseconds per all-reduce, or 0 before the first. */
    public double meanAllReduceMillis() {
        return allReduces == 0 ? 0 : allReduceNanos / 1e6 / allReduces;
    }
}
