/**
 * The ranks' own network: a full mesh of TCP connections ({@link dev.backprop.spark.transport.RankTransport})
 * with a deterministic all-reduce (each rank owns a chunk and adds the ranks' copies in rank order), a
 * broadcast and a barrier. Spark only places the ranks and tells them each other's addresses; every training
 * step then runs over this transport. A simulated {@link dev.backprop.spark.transport.NetworkDelay} lets a
 * benchmark on one machine see what a real network would add.
 */
package dev.backprop.spark.transport;
