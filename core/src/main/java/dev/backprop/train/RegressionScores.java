package dev.backprop.train;

import java.util.Arrays;

/**
 * A regression's errors per target, as scikit-learn computes them over the whole set: mean squared error, mean
 * absolute error and the coefficient of determination {@code R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²} ({@code r2_score}; a
 * constant target scores 1 when predicted exactly and 0 otherwise, sklearn's {@code force_finite=True}). The averages
 * weigh every target alike ({@code multioutput='uniform_average'}). Immutable.
 */
public final class RegressionScores {
    private final double[] mse;
    private final double[] mae;
    private final double[] r2;

    private RegressionScores(double[] mse, double[] mae, double[] r2) {
        this.mse = mse;
        this.mae = mae;
        this.r2 = r2;
    }

    /**
     * Scores predictions against targets, both {@code [samples][targets]}.
     *
     * @param truth     the targets, one row per sample
     * @param predicted the predictions, shaped alike
     * @return the scores
     * @throws IllegalArgumentException when there are no samples or the shapes differ
     */
    public static RegressionScores of(double[][] truth, double[][] predicted) {
        if (truth.length == 0 || truth.length != predicted.length) {
            throw new IllegalArgumentException("regression scores need as many predictions as targets, at least one: "
                    + "got " + truth.length + " targets and " + predicted.length + " predictions");
        }
        Tally tally = new Tally(truth[0].length);
        for (int i = 0; i < truth.length; i++) {
            if (truth[i].length != tally.targets() || predicted[i].length != tally.targets()) {
                throw new IllegalArgumentException("sample " + i + " has " + truth[i].length + " target(s) and "
                        + predicted[i].length + " prediction(s), but sample 0 has " + tally.targets());
            }
            tally.add(truth[i], predicted[i]);
        }
        return tally.scores();
    }

    /** {@return the number of targets (outputs per sample)} */
    public int targets() {
        return mse.length;
    }

    /**
     * The mean squared error of one target.
     *
     * @param target the target's index
     * @return its mean of {@code (y − ŷ)²}
     */
    public double mse(int target) {
        return mse[target];
    }

    /**
     * The mean absolute error of one target.
     *
     * @param target the target's index
     * @return its mean of {@code |y − ŷ|}
     */
    public double mae(int target) {
        return mae[target];
    }

    /**
     * The coefficient of determination of one target.
     *
     * @param target the target's index
     * @return its R², 1 for a perfect prediction
     */
    public double r2(int target) {
        return r2[target];
    }

    /** {@return the mean squared error averaged over the targets} */
    public double mse() {
        return mean(mse);
    }

    /** {@return the mean absolute error averaged over the targets} */
    public double mae() {
        return mean(mae);
    }

    /** {@return R² averaged over the targets} */
    public double r2() {
        return mean(r2);
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    @Override
    public String toString() {
        return "RegressionScores(mse=" + Arrays.toString(mse) + ", mae=" + Arrays.toString(mae) + ", r2="
                + Arrays.toString(r2) + ")";
    }

    /**
     * Adds up samples one at a time in sample order (Welford's running mean and squared deviation for R²'s
     * denominator), so the scores do not depend on how the set is batched.
     */
    static final class Tally {
        private final double[] mean;
        private final double[] deviation;
        private final double[] squared;
        private final double[] absolute;
        private long n;

        Tally(int targets) {
            if (targets < 1) {
                throw new IllegalArgumentException("regression scores need at least 1 target, got " + targets);
            }
            mean = new double[targets];
            deviation = new double[targets];
            squared = new double[targets];
            absolute = new double[targets];
        }

        int targets() {
            return mean.length;
        }

        /** Adds one sample's targets {@code y} and predictions {@code p}, both of {@link #targets()} values. */
        void add(double[] y, double[] p) {
            add(y, p, 0);
        }

        /** Adds the sample at {@code offset} of flat row-major {@code y} and {@code p}. */
        void add(double[] y, double[] p, int offset) {
            n++;
            for (int j = 0; j < mean.length; j++) {
                double t = y[offset + j];
                double e = t - p[offset + j];
                double d = t - mean[j];
                mean[j] += d / n;
                deviation[j] += d * (t - mean[j]);
                squared[j] += e * e;
                absolute[j] += Math.abs(e);
            }
        }

        RegressionScores scores() {
            int k = mean.length;
            double[] mse = new double[k];
            double[] mae = new double[k];
            double[] r2 = new double[k];
            for (int j = 0; j < k; j++) {
                mse[j] = squared[j] / n;
                mae[j] = absolute[j] / n;
                if (deviation[j] == 0) {
                    r2[j] = squared[j] == 0 ? 1 : 0;
                } else {
                    r2[j] = 1 - squared[j] / deviation[j];
                }
            }
            return new RegressionScores(mse, mae, r2);
        }
    }
}
