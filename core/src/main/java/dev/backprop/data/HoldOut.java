package dev.backprop.data;

import java.util.Random;

/**
 * Splits one data set into a training part and a held-out test part, by a seeded shuffle: the same seed gives the
 * same split on every machine. Used when a CSV comes without a separate test file.
 */
public final class HoldOut {
    private HoldOut() {
    }

    /**
     * Returns {@code {train, test}}: a shuffled {@code fraction} of the examples (at least one) goes to the test
     * part, the rest (at least one) to the training part; each part keeps the original relative order.
     *
     * @throws IllegalArgumentException when {@code fraction} is not in (0, 1) or the data has fewer than 2 examples
     */
    public static Dataset[] split(Dataset data, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("hold-out fraction must be in (0, 1), got " + fraction);
        }
        int n = data.size();
        if (n < 2) {
            throw new IllegalArgumentException("cannot hold out test examples from " + n + " example(s); give a "
                    + "separate test file");
        }
        int testSize = (int) Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
        int[] order = data.identityOrder();
        Dataset.shuffle(order, new Random(seed));
        boolean[] isTest = new boolean[n];
        for (int i = 0; i < testSize; i++) {
            isTest[order[i]] = true;
        }
        int[] trainIdx = new int[n - testSize];
        int[] testIdx = new int[testSize];
        for (int i = 0, a = 0, b = 0; i < n; i++) {
            if (isTest[i]) {
                testIdx[b++] = i;
            } else {
                trainIdx[a++] = i;
            }
        }
        return new Dataset[] {select(data, trainIdx), select(data, testIdx)};
    }

    /** A new data set holding the examples {@code indices} of {@code data}, in that order (copied). */
    public static Dataset select(Dataset data, int[] indices) {
        int m = indices.length;
        float[] f = new float[Math.multiplyExact(m, data.featureSize())];
        data.gatherFeatures(indices, 0, m, f);
        if (data.hasLabels()) {
            int[] l = new int[m];
            data.gatherLabels(indices, 0, m, l);
            return Dataset.classification(f, data.featureShape(), l, data.numClasses(), data.classNames());
        }
        float[] t = new float[Math.multiplyExact(m, data.targetSize())];
        data.gatherTargets(indices, 0, m, t);
        return Dataset.regression(f, data.featureShape(), t, data.targetSize());
    }
}
