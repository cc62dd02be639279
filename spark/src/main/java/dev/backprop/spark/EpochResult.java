package dev.backprop.spark;

import java.io.Serializable;

/**
 * One epoch over all ranks' shards.
 *
 * @param epoch    1-based epoch number
 * @param loss     mean training loss over the epoch's batches weighted by their rows, as local training's
 *                 ({@link dev.backprop.train.EpochMetrics#trainLoss}): under gradient averaging a batch is the global
 *                 batch of all ranks, its loss that batch's (with class weights, divided by its weight sum); under
 *                 parameter averaging each rank's batch counts as one
 * @param accuracy fraction of those examples classified correctly during training, or NaN for regression
 * @param examples examples used in the epoch (all ranks; a shard's examples beyond the common number of
 *                 steps wait for a later epoch's shuffle)
 * @param millis   wall time of the epoch on rank 0
 */
public record EpochResult(int epoch, double loss, double accuracy, long examples, long millis)
        implements Serializable {
}
