package dev.backprop.contract;

import dev.backprop.backend.DType;

import java.util.Random;

/**
 * Seeded host inputs for contract cases, already representable in the dtype under test (FLOAT32 values are
 * rounded to float, INT32 values are whole), so the backend and the reference start from identical numbers.
 */
public final class Inputs {
    private Inputs() {
    }

    /** {@code n} values uniform in {@code [lo, hi)}, rounded to {@code dtype}. */
    public static double[] uniform(long seed, int n, double lo, double hi, DType dtype) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = round(lo + (hi - lo) * r.nextDouble(), dtype);
        }
        return v;
    }

    /** {@code n} values drawn from {@code choices} (for ties and kinks), rounded to {@code dtype}. */
    public static double[] choose(long seed, int n, DType dtype, double... choices) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = round(choices[r.nextInt(choices.length)], dtype);
        }
        return v;
    }

    /** {@code n} whole numbers uniform in {@code [lo, hi]} (as doubles). */
    public static double[] ints(long seed, int n, int lo, int hi) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (long) r.nextInt(hi - lo + 1);
        }
        return v;
    }

    /** {@code n} arbitrary ints over the whole INT32 range (so ADD, SUB and MUL wrap). */
    public static double[] anyInts(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt();
        }
        return v;
    }

    /** Overwrites every {@code every}-th element, starting at {@code from}, with {@code value}. */
    public static double[] sprinkle(double[] v, int from, int every, double value) {
        for (int i = from; i < v.length; i += every) {
            v[i] = value;
        }
        return v;
    }

    /** Element-wise absolute values (the terms of an error bound). */
    public static double[] abs(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }

    /** {@code value} as {@code dtype} stores it. */
    public static double round(double value, DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> (float) value;
            case FLOAT64 -> value;
            case INT32 -> Math.rint(value);
        };
    }
}
