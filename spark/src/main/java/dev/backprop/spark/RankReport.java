package dev.backprop.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * What one rank ran, as reported back to the driver.
 *
 * @param rank            the rank (the partition index)
 * @param ranks           the number of ranks
 * @param attempt         Spark's attempt number of the barrier stage that produced this report
 * @param host            where the rank ran, as the other ranks reached it
 * @param executorId      Spark's executor id ({@code driver} in local mode)
 * @param backend         the backend that ran the maths ({@code cpu}, {@code cuda}, {@code opencl})
 * @param device          that backend's device description
 * @param backendReason   why that backend: the request, Spark's GPU assignment, and any fallback
 * @param threads         cpu backend threads (0 for GPU backends)
 * @param shardSize       examples in this rank's partition
 * @param resumedFromStep global step restored from a checkpoint (0 for a fresh start)
 * @param stepsRun        steps this attempt ran
 * @param totalSteps      steps of the whole run
 * @param examples        examples this rank processed in this attempt
 * @param computeMillis   time in forward, backward and update
 * @param allReduces      collective operations run
 * @param allReduceMillis time inside them (waiting for slower ranks included)
 * @param bytesSent       bytes this rank sent to its peers
 * @param epochs          the epochs finished in this attempt (the same on every rank)
 */
public record RankReport(int rank, int ranks, int attempt, String host, String executorId, String backend,
                         String device, String backendReason, int threads, int shardSize, long resumedFromStep,
                         long stepsRun, long totalSteps, long examples, long computeMillis, long allReduces,
                         double allReduceMillis, long bytesSent, List<EpochResult> epochs) implements Serializable {
    /** Copies the list. */
    public RankReport {
        epochs = List.copyOf(epochs);
    }

    /** Mean milliseconds per collective, or 0 when there was none. */
    public double meanAllReduceMillis() {
        return allReduces == 0 ? 0 : allReduceMillis / allReduces;
    }

    /** One line for logs. */
    public String describe() {
        return String.format(Locale.ROOT, "rank %d/%d (attempt %d) on %s [executor %s]: %s%s on %s; %s; shard %d, "
                        + "steps %d-%d of %d, %d examples, compute %.1f s, %d all-reduces %.2f ms avg, %.1f MB sent",
                rank, ranks, attempt, host, executorId, backend,
                threads > 0 ? " (" + threads + (threads == 1 ? " thread)" : " threads)") : "",
                device, backendReason, shardSize, resumedFromStep, resumedFromStep + stepsRun, totalSteps, examples,
                computeMillis / 1e3, allReduces, meanAllReduceMillis(), bytesSent / 1e6);
    }
}
