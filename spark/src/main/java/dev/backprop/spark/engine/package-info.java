/**
 * The per-rank training loop, independent of Spark: {@link dev.backprop.spark.engine.RankTrainer} trains one
 * shard on one backend and keeps in step with the other ranks through a
 * {@link dev.backprop.spark.transport.RankTransport}; {@link dev.backprop.spark.engine.ShardPlan} says which
 * examples every rank uses at every step. The Spark layer ({@code dev.backprop.spark.placement}) only places the
 * ranks and hands them their shards; a benchmark or test can run ranks as threads instead.
 */
package dev.backprop.spark.engine;
