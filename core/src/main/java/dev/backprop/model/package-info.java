/**
 * Using a network once it is built: what its outputs mean ({@link dev.backprop.model.Task}), model files that
 * say so ({@link dev.backprop.model.SavedModel}) and batched inference ({@link dev.backprop.model.Predictor}).
 * The command line's {@code train}, {@code eval} and {@code predict} are built on these and on
 * {@link dev.backprop.train}'s trainer and evaluator.
 */
package dev.backprop.model;
