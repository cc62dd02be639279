/**
 * Mini-batch training: {@link dev.backprop.train.Trainer} runs epochs of seeded shuffled batches (one tape per
 * step, so memory stays flat), optional clipping and schedules, validation, metrics callbacks and checkpoints
 * that resume exactly; {@link dev.backprop.train.Batches} gathers batches on the host.
 */
package dev.backprop.train;
