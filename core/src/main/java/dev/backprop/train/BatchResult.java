package dev.backprop.train;

import java.util.OptionalLong;

/**
 * What one training step computed, as the host reads it back.
 *
 * @param position  where the step sits in the run
 * @param loss      the loss value of the step's batch (the loss's own reduction; a mean over the batch by default)
 * @param correct   the batch's correct predictions when the loss classifies and accuracy is tracked, else empty
 * @param decisions how many decisions {@code correct} counts over ({@link dev.backprop.loss.Loss#countDecisions}):
 *                  the accuracy's denominator
 */
public record BatchResult(StepPosition position, double loss, OptionalLong correct, long decisions) {
}
