package dev.backprop.testing;

import dev.backprop.data.Dataset;

import java.util.Random;

/** The small data set of the training tests: three Gaussian blobs in the plane, one class each. */
public final class Blobs {
    private Blobs() {
    }

    /** {@code n} points, labelled 0, 1, 2 in turn, drawn from {@code seed}. */
    public static Dataset blobs(int n, long seed) {
        Random r = new Random(seed);
        double[][] centers = {{-2, 0}, {2, 0}, {0, 2.5}};
        float[] x = new float[2 * n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            x[2 * i] = (float) (centers[y[i]][0] + 0.6 * r.nextGaussian());
            x[2 * i + 1] = (float) (centers[y[i]][1] + 0.6 * r.nextGaussian());
        }
        return Dataset.classification(x, new int[] {2}, y, 3, null);
    }
}
