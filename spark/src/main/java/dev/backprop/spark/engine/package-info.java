/**
 * One rank of data-parallel training, independent of Spark: {@link dev.backprop.spark.engine.RankTrainer} runs
 * core's {@link dev.backprop.train.Trainer} on one shard and backend, with a step hook that all-reduces gradients
 * through a {@link dev.backprop.spark.transport.RankTransport} and a listener for epoch totals and checkpoints;
 * {@link dev.backprop.spark.engine.ShardPlan} says which examples every rank uses at every step. The Spark layer
 * ({@code dev.backprop.spark.placement}) only places the ranks and hands them their shards; a benchmark or test can
 * run ranks as threads instead.
 */
package dev.backprop.spark.engine;
