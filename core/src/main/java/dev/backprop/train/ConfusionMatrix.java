package dev.backprop.train;

import dev.backprop.loss.Classified;

import java.util.Arrays;

/**
 * How often each true class is predicted as each class, as scikit-learn's {@code confusion_matrix(y_true, y_pred,
 * labels=range(K))}: row {@code t}, column {@code p} counts the samples of class {@code t} predicted as {@code p}.
 * The per-class scores follow {@code classification_report(..., labels=range(K), zero_division=0)}: a class never
 * predicted has precision 0, a class absent from the data recall 0 and support 0, and the macro average counts all
 * {@code K} classes. Immutable.
 */
public final class ConfusionMatrix {
    private final long[][] counts;

    private ConfusionMatrix(long[][] counts) {
        this.counts = counts;
    }

    /**
     * Tallies samples' true and predicted classes.
     *
     * @param classes   the number of classes {@code K}
     * @param truth     each sample's true class, in {@code [0, K)}
     * @param predicted each sample's predicted class, in {@code [0, K)}
     * @return the matrix
     * @throws IllegalArgumentException when the arrays differ in length, {@code K} is below 1 or a class is outside
     *                                  {@code [0, K)}
     */
    public static ConfusionMatrix of(int classes, int[] truth, int[] predicted) {
        Tally tally = new Tally(classes);
        tally.add(new Classified(classes, truth, predicted));
        return tally.matrix();
    }

    /** {@return the number of classes {@code K}} */
    public int classes() {
        return counts.length;
    }

    /**
     * The number of samples of class {@code truth} predicted as class {@code predicted}.
     *
     * @param truth     the true class (row)
     * @param predicted the predicted class (column)
     * @return the count
     */
    public long count(int truth, int predicted) {
        return counts[truth][predicted];
    }

    /** {@return all samples tallied} */
    public long total() {
        long sum = 0;
        for (long[] row : counts) {
            for (long c : row) {
                sum += c;
            }
        }
        return sum;
    }

    /** {@return the samples on the diagonal: predicted as their true class} */
    public long correct() {
        long sum = 0;
        for (int k = 0; k < counts.length; k++) {
            sum += counts[k][k];
        }
        return sum;
    }

    /** {@return the fraction of samples predicted as their true class, the {@link Evaluation}'s accuracy} */
    public double accuracy() {
        return (double) correct() / total();
    }

    /**
     * The scores of one class.
     *
     * @param k the class, in {@code [0, K)}
     * @return its precision, recall, F1 and support
     */
    public ClassScores scores(int k) {
        long support = 0;
        long predicted = 0;
        for (int i = 0; i < counts.length; i++) {
            support += counts[k][i];
            predicted += counts[i][k];
        }
        long hits = counts[k][k];
        double precision = predicted == 0 ? 0 : (double) hits / predicted;
        double recall = support == 0 ? 0 : (double) hits / support;
        // sklearn's F1 is 2·tp / (2·tp + fp + fn), which is 0 with zero_division=0 when the class is nowhere
        long denominator = 2 * hits + (predicted - hits) + (support - hits);
        double f1 = denominator == 0 ? 0 : 2.0 * hits / denominator;
        return new ClassScores(precision, recall, f1, support);
    }

    /** {@return the unweighted mean of every class's scores, all {@code K} counted; support is the total} */
    public ClassScores macroAverage() {
        return average(false);
    }

    /** {@return the mean of the classes' scores weighted by their support; support is the total} */
    public ClassScores weightedAverage() {
        return average(true);
    }

    private ClassScores average(boolean weighted) {
        double p = 0;
        double r = 0;
        double f = 0;
        double weights = 0;
        for (int k = 0; k < counts.length; k++) {
            ClassScores s = scores(k);
            double w = weighted ? s.support() : 1;
            p += w * s.precision();
            r += w * s.recall();
            f += w * s.f1();
            weights += w;
        }
        // sklearn gives 0 for a support-weighted average over no samples (zero_division=0)
        return weights == 0 ? new ClassScores(0, 0, 0, total())
                : new ClassScores(p / weights, r / weights, f / weights, total());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionMatrix m && Arrays.deepEquals(counts, m.counts);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(counts);
    }

    @Override
    public String toString() {
        return "ConfusionMatrix" + Arrays.deepToString(counts);
    }

    /** Adds up batches' decisions in long counts, so the matrix does not depend on how the set is batched. */
    static final class Tally {
        private final long[][] counts;

        Tally(int classes) {
            if (classes < 1) {
                throw new IllegalArgumentException("a confusion matrix needs at least 1 class, got " + classes);
            }
            counts = new long[classes][classes];
        }

        void add(Classified c) {
            int k = counts.length;
            int[] t = c.truth();
            int[] p = c.predicted();
            for (int i = 0; i < t.length; i++) {
                if (t[i] < 0 || t[i] >= k || p[i] < 0 || p[i] >= k) {
                    throw new IllegalArgumentException("sample " + i + " has true class " + t[i] + " and predicted "
                            + "class " + p[i] + ", but the classes are [0, " + k + ")");
                }
                counts[t[i]][p[i]]++;
            }
        }

        ConfusionMatrix matrix() {
            long[][] copy = new long[counts.length][];
            for (int i = 0; i < counts.length; i++) {
                copy[i] = counts[i].clone();
            }
            return new ConfusionMatrix(copy);
        }
    }
}
