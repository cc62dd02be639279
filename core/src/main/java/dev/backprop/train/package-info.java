/**
 * Training and evaluation, written once: {@link dev.backprop.train.Trainer} runs the epoch loop (seeded shuffles,
 * one {@code TrainingStep} per batch with one tape, so memory stays flat, step results read in windows, one
 * divergence check) with {@link dev.backprop.train.StepHook}s between backward and the optimizer step (clipping,
 * a data-parallel all-reduce) and {@link dev.backprop.train.EpochListener}s for progress, epoch lines and
 * checkpoints that resume exactly; {@link dev.backprop.train.Evaluator} scores a model on a data set. Batches come
 * from {@link dev.backprop.data.BatchLoader}.
 */
package dev.backprop.train;
