/**
 * Using a network once it is built: what its outputs mean ({@link dev.backprop.model.Task}), device batches
 * gathered from a host data set ({@link dev.backprop.model.BatchLoader}), batched inference
 * ({@link dev.backprop.model.Predictor}) and scoring ({@link dev.backprop.model.Evaluator}). The command line's
 * {@code train}, {@code eval} and {@code predict} are built on these.
 */
package dev.backprop.model;
