package dev.backprop.train;

/**
 * A model's loss and accuracy over a data set.
 *
 * @param loss     the loss's mean reduction over the whole set at once, whatever the batches (a class-weighted
 *                 cross-entropy's {@code Σ w[y]·l / Σ w[y]}); for a sum-reduced loss, the sum divided by the number
 *                 of examples
 * @param accuracy the fraction of the loss's decisions that are right ({@link dev.backprop.loss.Loss#countDecisions}:
 *                 one per example, or one per element for a multi-label binary loss), or NaN when the loss does
 *                 not classify
 * @param examples how many examples were seen
 */
public record Evaluation(double loss, double accuracy, long examples) {
}
