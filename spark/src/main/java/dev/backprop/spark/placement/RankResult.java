package dev.backprop.spark.placement;

import dev.backprop.spark.RankReport;
import dev.backprop.train.TrainingStoppedException;

import java.io.Serializable;

/**
 * What a barrier task returns to the driver: what its rank ran, or why training stopped on every rank.
 *
 * @param rank      the task's rank
 * @param report    what the rank ran, or null when training stopped
 * @param modelFile the trained model as model-file bytes (rank 0), else null
 * @param stopped   why training stopped, or null: a loss that diverged under gradient averaging, which every rank
 *                  judges by the same global loss at the same step, so that the stage ends without a rerun (which
 *                  would diverge again) and the driver reports it
 */
public record RankResult(int rank, RankReport report, byte[] modelFile, TrainingStoppedException stopped)
        implements Serializable {
    /** A rank that trained to the end. */
    static RankResult trained(RankReport report, byte[] modelFile) {
        return new RankResult(report.rank(), report, modelFile, null);
    }

    /** A rank whose training stopped with {@code e}, as every rank's did at the same step. */
    static RankResult stopped(int rank, TrainingStoppedException e) {
        return new RankResult(rank, null, null, e);
    }
}
