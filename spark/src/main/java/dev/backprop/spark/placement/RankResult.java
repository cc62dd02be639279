package dev.backprop.spark.placement;

import dev.backprop.backend.BackpropException;
import dev.backprop.spark.RankReport;

import java.io.Serializable;

/**
 * What a barrier task returns to the driver: what its rank ran, or why training stopped on every rank.
 *
 * @param rank      the task's rank
 * @param report    what the rank ran, or null when training stopped
 * @param modelFile the trained model as model-file bytes (rank 0), else null
 * @param stopped   why training stopped on every rank, or null: a rank's backend that would not open, or a loss
 *                  that diverged (a {@link dev.backprop.spark.engine.PeerStoppedException} on the ranks that
 *                  stopped because another rank's did), so that the stage ends without a rerun, which would meet it
 *                  again, and the driver reports it
 */
public record RankResult(int rank, RankReport report, byte[] modelFile, BackpropException stopped)
        implements Serializable {
    /** A rank that trained to the end. */
    static RankResult trained(RankReport report, byte[] modelFile) {
        return new RankResult(report.rank(), report, modelFile, null);
    }

    /** A rank whose training stopped, or did not start, with {@code e}, as every rank's did. */
    static RankResult stopped(int rank, BackpropException e) {
        return new RankResult(rank, null, null, e);
    }
}
