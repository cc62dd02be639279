package dev.backprop.loss;

/**
 * A batch's samples as a classifying loss decides them: each one's true class and predicted class, both in
 * {@code [0, classes)}. {@link Loss#countCorrect} counts where they agree, and a confusion matrix tallies them, so
 * accuracy and the matrix always use the same decision.
 *
 * @param classes   how many classes the prediction chooses among ({@code 2} for a 0/1 target)
 * @param truth     each sample's true class
 * @param predicted each sample's predicted class, as long as {@code truth}
 */
public record Classified(int classes, int[] truth, int[] predicted) {
    /**
     * Checks that both arrays have one entry per sample.
     *
     * @throws IllegalArgumentException when the arrays differ in length or {@code classes} is below 1
     */
    public Classified {
        if (classes < 1) {
            throw new IllegalArgumentException("a classification needs at least 1 class, got " + classes);
        }
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException("classified samples: " + truth.length + " true classes but "
                    + predicted.length + " predicted ones");
        }
    }

    /** {@return how many samples are predicted as their true class} */
    public long correct() {
        long ok = 0;
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == predicted[i]) {
                ok++;
            }
        }
        return ok;
    }
}
