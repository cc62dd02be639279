package dev.backprop.spark.transport;

import java.io.Serializable;

/**
 * What a rank's transport has done.
 *
 * @param allReduces     completed all-reduce calls
 * @param allReduceNanos wall time the calling thread spent blocked in them, in nanoseconds (waiting for slower
 *                       ranks included; for a {@link BucketedAllReduce}, the posts and the final wait only, not
 *                       the communication that overlapped the caller's other work)
 * @param allReduceSpanNanos wall time from each all-reduce's start to its end, in nanoseconds (overlapped part
 *                       included)
 * @param bytesSent      bytes written to peers, headers included
 */
public record TransportStats(long allReduces, long allReduceNanos, long allReduceSpanNanos, long bytesSent)
        implements Serializable {
    /** Mean milliseconds per all-reduce from start to end, or 0 before the first. */
    public double meanAllReduceSpanMillis() {
        return allReduces == 0 ? 0 : allReduceSpanNanos / 1e6 / allReduces;
    }

    /** Mean milliseconds the caller was blocked per all-reduce, or 0 before the first. */
    public double meanAllReduceMillis() {
        return allReduces == 0 ? 0 : allReduceNanos / 1e6 / allReduces;
    }
}
