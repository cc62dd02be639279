package dev.backprop.spark.placement;

import dev.backprop.spark.RankReport;

import java.io.Serializable;

/**
 * What a barrier task returns to the driver.
 *
 * @param report    what the rank ran
 * @param modelFile the trained model as model-file bytes (rank 0), else null
 */
public record RankResult(RankReport report, byte[] modelFile) implements Serializable {
}
