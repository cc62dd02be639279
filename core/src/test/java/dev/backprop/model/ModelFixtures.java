package dev.backprop.model;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.nn.Sequential;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Small seeded networks and data sets for the model package's tests, and a float64 host forward pass to check them. */
public final class ModelFixtures {
    private ModelFixtures() {
    }

    /** {@code in-hidden-out} with ReLU, weights from {@code seed}. */
    public static Sequential mlp(Backend backend, int in, int hidden, int out, long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(in, hidden).relu().dense(hidden, out)
                .build();
    }

    /** Random features in [-1, 1) and labels in [0, classes). */
    public static Dataset classification(int n, int features, int classes, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n * features];
        for (int i = 0; i < f.length; i++) {
            f[i] = r.nextFloat() * 2 - 1;
        }
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = r.nextInt(classes);
        }
        return Dataset.classification(f, new int[] {features}, l, classes, null);
    }

    /** Random features and {@code targets} real targets per example. */
    public static Dataset regression(int n, int features, int targets, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n * features];
        for (int i = 0; i < f.length; i++) {
            f[i] = r.nextFloat() * 2 - 1;
        }
        float[] t = new float[n * targets];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) r.nextGaussian();
        }
        return Dataset.regression(f, new int[] {features}, t, targets);
    }

    /** The raw outputs of {@link #mlp} on one example, computed on the host in float64. */
    public static double[] forward(Sequential model, float[] x) {
        List<float[]> p = model.parameters().values().stream().map(v -> v.value().toFloatArray()).toList();
        int hidden = p.get(1).length;
        int out = p.get(3).length;
        double[] h = new double[hidden];
        for (int j = 0; j < hidden; j++) {
            double s = p.get(1)[j];
            for (int i = 0; i < x.length; i++) {
                s += (double) p.get(0)[j * x.length + i] * x[i];
            }
            h[j] = Math.max(0, s);
        }
        double[] z = new double[out];
        for (int k = 0; k < out; k++) {
            double s = p.get(3)[k];
            for (int j = 0; j < hidden; j++) {
                s += (double) p.get(2)[k * hidden + j] * h[j];
            }
            z[k] = s;
        }
        return z;
    }

    /** Softmax of a row, in float64. */
    public static double[] softmax(double[] z) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            m = Math.max(m, v);
        }
        double s = 0;
        double[] e = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.exp(z[i] - m);
            s += e[i];
        }
        for (int i = 0; i < z.length; i++) {
            e[i] /= s;
        }
        return e;
    }

    /** Asserts that two networks hold the same parameters, bit for bit. */
    public static void assertSameParameters(Sequential a, Sequential b) {
        assertEquals(a.parameters().keySet(), b.parameters().keySet());
        a.parameters().forEach((k, v) -> assertArrayEquals(v.value().toFloatArray(),
                b.parameters().get(k).value().toFloatArray(), k));
    }
}
