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
     * part, the rest (at least one) to the training part; each part keeps the original relative order. The parts are
     * {@linkplain Dataset#view views} of {@code data}'s storage (4 bytes per example), not copies: they keep it
     * alive, and {@link #select} makes a compact copy of a part where the rest of {@code data} should be freed.
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
        return new Dataset[] {data.view(trainIdx), data.view(testIdx)};
    }

    /**
     * A new data set holding the examples {@code indices} of {@code data}, in that order (copied): unlike
     * {@link Dataset#view} it keeps nothing of {@code data} alive, for a small part of a large data set.
     *
     * @throws IllegalArgumentException when an index is outside {@code [0, data.size())}
     */
    public static Dataset select(Dataset data, int[] indices) {
        Dataset part = data.view(indices); // checks every index before anything is allocated
        int m = part.size();
        int[] order = part.identityOrder();
        float[] f = new float[Math.multiplyExact(m, part.featureSize())];
        part.gatherFeatures(order, 0, m, f);
        if (part.hasLabels()) {
            int[] l = new int[m];
            part.gatherLabels(order, 0, m, l);
            return Dataset.classification(f, part.featureShape(), l, part.numClasses(), part.classNames());
        }
        float[] t = new float[Math.multiplyExact(m, part.targetSize())];
        part.gatherTargets(order, 0, m, t);
        return Dataset.regression(f, part.featureShape(), t, part.targetSize());
    }
}
