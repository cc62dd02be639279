package dev.backprop.contract.network;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Small helpers shared by the network contract cases: host data in and out, seeded inputs, comparisons. */
final class Net {
    private Net() {
    }

    /** Skips the calling test, saying why, when {@code dtype} is FLOAT64 and the backend has no FLOAT64. */
    static void assumeSupported(Backend be, DType dtype) {
        org.junit.jupiter.api.Assumptions.assumeTrue(dtype != DType.FLOAT64 || be.capabilities().float64(),
                "backend '" + be.name() + "' reports no FLOAT64 support in its capabilities");
    }

    /** A tensor of {@code dtype} (FLOAT32 values are rounded from the doubles). */
    static Tensor tensor(Backend be, DType dtype, double[] values, int... dims) {
        if (dtype == DType.FLOAT64) {
            return Tensor.of(be, values, dims);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.of(be, f, dims);
    }

    /** Overwrites a tensor's elements with {@code values}. */
    static void set(Tensor t, double[] values) {
        try (Tensor src = tensor(t.backend(), t.dtype(), values, t.shape().dims())) {
            Elementwise.copy(src, t);
        }
    }

    /** {@code n} seeded uniform values in {@code [lo, hi)}. */
    static double[] uniform(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * r.nextDouble();
        }
        return v;
    }

    /** Seeded values with {@code |v| ∈ [gap, 1 + gap)} and random sign: safely away from kinks at 0. */
    static double[] awayFromZero(long seed, int n, double gap) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextBoolean() ? 1 : -1) * (gap + r.nextDouble());
        }
        return v;
    }

    static int count(int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** Every {@code |a - e| ≤ atol + rtol·|e|}; the message names the worst element. */
    static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        assertEquals(expected.length, actual.length, what + ": element count");
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            double bound = atol + rtol * Math.abs(expected[i]);
            if (!(err <= bound) && (worst < 0 || err - bound > worstExcess)) {
                worst = i;
                worstExcess = err - bound;
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", expected " + expected[worst] + " (|err| "
                    + Math.abs(actual[worst] - expected[worst]) + " > " + (atol + rtol * Math.abs(expected[worst]))
                    + ")");
        }
    }

    /** Bit-for-bit equality of two results. */
    static void assertIdentical(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + ": element count");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected exactly " + expected[i]);
            }
        }
    }
}
