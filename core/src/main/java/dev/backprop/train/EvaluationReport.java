package dev.backprop.train;

import java.util.Optional;

/**
 * An {@link Evaluation} with the scores behind it, from the same pass ({@link Evaluator#report}): the confusion
 * matrix for a loss that classifies, the per-target errors for one that does not.
 *
 * @param evaluation the loss and accuracy, the same figures {@link Evaluator#evaluate} gives
 * @param confusion  the confusion matrix, present exactly when the loss classifies
 * @param regression the regression scores, present exactly when it does not
 */
public record EvaluationReport(Evaluation evaluation, Optional<ConfusionMatrix> confusion,
                               Optional<RegressionScores> regression) {
    /**
     * Checks that exactly one kind of scores is present.
     *
     * @throws IllegalArgumentException when both or neither are
     */
    public EvaluationReport {
        if (confusion.isPresent() == regression.isPresent()) {
            throw new IllegalArgumentException("an evaluation report has either a confusion matrix or regression "
                    + "scores, got " + (confusion.isPresent() ? "both" : "neither"));
        }
    }
}
