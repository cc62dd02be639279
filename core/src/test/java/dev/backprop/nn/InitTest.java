package dev.backprop.nn;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The initializers' distributions (bounds, spread, zero biases) and their determinism, on the host. */
class InitTest {
    private static final int IN = 100, OUT = 50, N = 20_000;

    private static double[] draw(Init init, ParameterRole role, long seed) {
        return init.sample(role, N, IN, OUT, new Random(seed));
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElseThrow();
    }

    private static double std(double[] v) {
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / v.length);
    }

    private static void uniform(double[] v, double bound, String what) {
        double max = Arrays.stream(v).map(Math::abs).max().orElseThrow();
        assertTrue(max <= bound, what + ": |w| ≤ " + bound + ", got " + max);
        assertTrue(max > 0.99 * bound, what + ": draws reach the bound " + bound + ", max " + max);
        assertEquals(0, mean(v), 0.02 * bound, what + ": mean");
        assertEquals(bound / Math.sqrt(3), std(v), 0.02 * bound, what + ": std of U(-b, b) is b/√3");
    }

    @Test
    void pytorchDefaultIsUniformOneOverSqrtFanInForWeightAndBias() {
        uniform(draw(Init.PYTORCH_DEFAULT, ParameterRole.WEIGHT, 1), 1 / Math.sqrt(IN), "weight");
        uniform(draw(Init.PYTORCH_DEFAULT, ParameterRole.BIAS, 2), 1 / Math.sqrt(IN), "bias");
    }

    @Test
    void xavierAndHe() {
        uniform(draw(Init.XAVIER_UNIFORM, ParameterRole.WEIGHT, 3), Math.sqrt(6.0 / (IN + OUT)), "xavier uniform");
        uniform(draw(Init.HE_UNIFORM, ParameterRole.WEIGHT, 4), Math.sqrt(6.0 / IN), "he uniform");
        double[] xn = draw(Init.XAVIER_NORMAL, ParameterRole.WEIGHT, 5);
        assertEquals(Math.sqrt(2.0 / (IN + OUT)), std(xn), 0.03 * Math.sqrt(2.0 / (IN + OUT)), "xavier normal std");
        double[] hn = draw(Init.HE_NORMAL, ParameterRole.WEIGHT, 6);
        assertEquals(Math.sqrt(2.0 / IN), std(hn), 0.03 * Math.sqrt(2.0 / IN), "he normal std");
        assertEquals(0, mean(hn), 0.03 * Math.sqrt(2.0 / IN), "he normal mean");
        for (Init i : new Init[] {Init.XAVIER_UNIFORM, Init.XAVIER_NORMAL, Init.HE_UNIFORM, Init.HE_NORMAL}) {
            assertArrayEquals(new double[N], draw(i, ParameterRole.BIAS, 7), i + " starts biases at zero");
        }
    }

    @Test
    void sameSeedSameDraws() {
        for (Init i : Init.values()) {
            assertArrayEquals(draw(i, ParameterRole.WEIGHT, 8), draw(i, ParameterRole.WEIGHT, 8), i.toString());
            assertFalse(Arrays.equals(draw(i, ParameterRole.WEIGHT, 8), draw(i, ParameterRole.WEIGHT, 9)),
                    i + ": another seed, other draws");
        }
    }
}
