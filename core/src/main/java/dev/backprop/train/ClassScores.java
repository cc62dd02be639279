package dev.backprop.train;

/**
 * One row of a classification report, as scikit-learn's {@code classification_report} prints it: for one class, or
 * averaged over the classes.
 *
 * @param precision of the samples predicted as the class, the fraction that belong to it (0 when none is
 *                  predicted as it)
 * @param recall    of the samples of the class, the fraction predicted as it (0 when the data has none)
 * @param f1        the harmonic mean of precision and recall (0 when both are 0)
 * @param support   how many samples belong to the class (for an average, to all of the classes)
 */
public record ClassScores(double precision, double recall, double f1, long support) {
}
