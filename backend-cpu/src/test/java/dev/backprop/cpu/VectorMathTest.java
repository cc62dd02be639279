package dev.backprop.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The stated relative error bounds of the vector exp, sigmoid and tanh ({@link VectorMath#EXP_MAX_REL_ERROR},
 * {@link VectorMath#MAX_REL_ERROR}), checked against {@link Math} in double on a dense grid plus random floats
 * over each function's whole useful range, and their special values.
 */
class VectorMathTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @BeforeAll
    static void needsTheModule() {
        assumeTrue(CpuVectorApi.modulePresent(), "jdk.incubator.vector is not resolved in this test JVM");
    }

    /** One of the array functions of {@link VectorMath}, on whole vectors. */
    interface Fn {
        void apply(float[] x, float[] y, int n);
    }

    private static final Fn EXP = (x, y, n) -> VectorMath.exp(x, 0, 1f, 0f, false, y, 0, n);
    private static final Fn SIGMOID = (x, y, n) -> VectorMath.sigmoid(x, 0, y, 0, n);
    private static final Fn TANH = (x, y, n) -> VectorMath.tanh(x, 0, y, 0, n);
    private static final Fn SIGMOID_DERIVATIVE = (x, y, n) -> {
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        VectorMath.sigmoidBackward(x, 0, ones, 0, y, 0, n);
    };
    private static final Fn TANH_DERIVATIVE = (x, y, n) -> {
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        VectorMath.tanhBackward(x, 0, ones, 0, y, 0, n);
    };

    /**
     * A function of {@link VectorMath} with its exact value in double and its stated bound in ulps over
     * [-20, 20], as {@link VectorMathSweep} runs it.
     */
    record Named(String name, Fn f, DoubleUnaryOperator exact, double maxUlps) {
    }

    /** The functions whose ulp error is swept. */
    static final java.util.List<Named> SWEPT = java.util.List.of(
            new Named("tanh", TANH, Math::tanh, VectorMath.TANH_MAX_ULPS),
            new Named("sigmoid", SIGMOID, v -> 1.0 / (1.0 + Math.exp(-v)), VectorMath.SIGMOID_MAX_ULPS),
            new Named("tanh'", TANH_DERIVATIVE, v -> 1 / (Math.cosh(v) * Math.cosh(v)),
                    VectorMath.DERIVATIVE_MAX_ULPS),
            new Named("sigmoid'", SIGMOID_DERIVATIVE, v -> {
                double t = Math.exp(-Math.abs(v));
                return t / ((1 + t) * (1 + t));
            }, VectorMath.DERIVATIVE_MAX_ULPS));

    /**
     * The largest error in ulps over some inputs, where it occurs, how many inputs, and an order-independent
     * checksum of the result bits.
     */
    record UlpResult(long count, double ulps, float at, long checksum) {
        static UlpResult max(UlpResult a, UlpResult b) {
            UlpResult worse = b.ulps > a.ulps ? b : a;
            return new UlpResult(a.count + b.count, worse.ulps, worse.at, a.checksum + b.checksum);
        }
    }

    /** The float's position in the order of all floats (-0 just below +0), so consecutive floats differ by 1. */
    static long order(float x) {
        int bits = Float.floatToRawIntBits(x);
        return bits >= 0 ? bits : -(long) (bits & 0x7fffffff) - 1;
    }

    /** The float at a position of {@link #order}. */
    static float fromOrder(long order) {
        return Float.intBitsToFloat(order >= 0 ? (int) order : (int) (-(order + 1)) | 0x80000000);
    }

    /**
     * Runs {@code f} on the {@code n} floats at positions {@code first, first + stride, ...} and measures each
     * result's error in ulps of the float nearest the exact value (a NaN result counts as infinitely wrong).
     */
    static UlpResult ulpError(Named f, long first, long stride, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = fromOrder(first + i * stride);
        }
        float[] y = apply(f.f(), x);
        double worst = -1;
        float at = 0;
        long sum = 0;
        for (int i = 0; i < n; i++) {
            double want = f.exact().applyAsDouble(x[i]);
            double err = Float.isNaN(y[i]) ? Double.POSITIVE_INFINITY
                    : Math.abs(y[i] - want) / Math.ulp((float) want);
            if (err > worst) {
                worst = err;
                at = x[i];
            }
            sum += (Float.floatToRawIntBits(y[i]) * 0x9E3779B97F4A7C15L) ^ Float.floatToRawIntBits(x[i]);
        }
        return new UlpResult(n, worst, at, sum);
    }

    /** Applies a function to every element (length padded to whole vectors with zeros). */
    private static float[] apply(Fn f, float[] x) {
        int n = (x.length + S.length() - 1) / S.length() * S.length();
        float[] in = java.util.Arrays.copyOf(x, n), out = new float[n];
        f.apply(in, out, n);
        return java.util.Arrays.copyOf(out, x.length);
    }

    /** A dense grid over [lo, hi] plus random floats in it, plus the ends. */
    private static float[] samples(float lo, float hi, long seed) {
        int grid = 200_000, rnd = 100_000;
        float[] x = new float[grid + rnd + 2];
        for (int i = 0; i < grid; i++) {
            x[i] = (float) (lo + (hi - lo) * i / (grid - 1.0));
        }
        Random r = new Random(seed);
        for (int i = 0; i < rnd; i++) {
            x[grid + i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        x[grid + rnd] = lo;
        x[grid + rnd + 1] = hi;
        return x;
    }

    /** Largest relative error over results at least {@code Float.MIN_NORMAL} in magnitude. */
    private static double maxRelError(Fn f, DoubleUnaryOperator exact, float[] x) {
        float[] y = apply(f, x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double want = exact.applyAsDouble(x[i]);
            if (Math.abs(want) >= Float.MIN_NORMAL && Math.abs(want) <= Float.MAX_VALUE) {
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.abs(want));
            }
        }
        return worst;
    }

    /**
     * Every 1009th float of [-20, 20] (2.2M inputs, every binade and both signs; {@link VectorMathSweep} runs all
     * 2.2 billion) within the stated ulp bound of each function.
     */
    @Test
    void ulpErrorOverMinus20To20IsWithinTheStatedBound() {
        long first = order(-20f), last = order(20f), stride = 1009;
        for (Named f : SWEPT) {
            UlpResult r = ulpError(f, first, stride, (int) ((last - first) / stride + 1));
            assertTrue(r.ulps() <= f.maxUlps(), f.name() + ": " + r.ulps() + " ulp at x = " + r.at());
        }
    }

    @Test
    void orderCountsConsecutiveFloats() {
        assertEquals(-1, order(-0f));
        assertEquals(0, order(0f));
        assertEquals(1, order(Float.MIN_VALUE));
        assertEquals(-2, order(-Float.MIN_VALUE));
        assertEquals(order(1f) + 1, order(Math.nextUp(1f)));
        assertEquals(order(-1f) + 1, order(Math.nextUp(-1f)));
        for (float x : new float[] {-20f, -1.5f, -Float.MIN_VALUE, -0f, 0f, 3e-30f, 20f}) {
            assertEquals(Float.floatToRawIntBits(x), Float.floatToRawIntBits(fromOrder(order(x))), "at " + x);
        }
    }

    @Test
    void expAppliesTheAffineMapAndAbs() {
        float[] x = {-3f, -1f, 0f, 2f, 5f, -0.5f, 7f, -9f};
        int n = (x.length + S.length() - 1) / S.length() * S.length();
        float[] in = java.util.Arrays.copyOf(x, n), out = new float[n];
        VectorMath.exp(in, 0, -2f, 0.5f, true, out, 0, n);
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(-2.0 * Math.abs(x[i]) + 0.5);
            assertEquals(want, out[i], want * VectorMath.EXP_MAX_REL_ERROR * 2, "exp(-2|x| + 0.5) at " + x[i]);
        }
    }

    @Test
    void expIsWithinItsBound() {
        double err = maxRelError(EXP, Math::exp, samples(-87.3f, 88.72f, 1));
        assertTrue(err <= VectorMath.EXP_MAX_REL_ERROR, "exp relative error " + err);
        err = maxRelError(EXP, Math::exp, samples(-1e-3f, 1e-3f, 2));
        assertTrue(err <= VectorMath.EXP_MAX_REL_ERROR, "exp relative error near 0: " + err);
    }

    @Test
    void expSpecialValues() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 89f, 88.8f, 88.72f, -104f, -200f,
            0f, -0f, -88f, -100f};
        float[] y = apply(EXP, x);
        assertTrue(Float.isNaN(y[0]));
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(Float.POSITIVE_INFINITY, y[3]);
        assertEquals(Float.POSITIVE_INFINITY, y[4]);
        assertTrue(Float.isFinite(y[5]) && Math.abs(y[5] / Math.exp(88.72f) - 1) < 1e-6, "exp(88.72) = " + y[5]);
        assertEquals(0f, y[6]);
        assertEquals(0f, y[7]);
        assertEquals(1f, y[8]);
        assertEquals(1f, y[9]);
        // Subnormal results keep their absolute error below the smallest normal float's ulp scale.
        assertEquals(Math.exp(-88f), y[10], 2 * Float.MIN_VALUE + 1e-6 * Math.exp(-88f));
        assertEquals(Math.exp(-100f), y[11], 2 * Float.MIN_VALUE);
    }

    @Test
    void sigmoidIsWithinItsBound() {
        DoubleUnaryOperator exact = v -> 1.0 / (1.0 + Math.exp(-v));
        double err = maxRelError(SIGMOID, exact, samples(-87f, 30f, 3));
        assertTrue(err <= VectorMath.MAX_REL_ERROR, "sigmoid relative error " + err);
        float[] y = apply(SIGMOID, new float[] {Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 0f, 200f, -200f, -0f, Float.MAX_VALUE, -Float.MAX_VALUE, -88f, -90f});
        assertTrue(Float.isNaN(y[0]));
        assertEquals(1f, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(0.5f, y[3]);
        assertEquals(1f, y[4]);
        assertEquals(0f, y[5]);
        assertEquals(0.5f, y[6]);
        assertEquals(1f, y[7]);
        assertEquals(0f, y[8]);
        // A subnormal result within one step of the subnormals; past -88.72 e^-x overflows and sigmoid is 0.
        assertEquals(exact.applyAsDouble(-88f), y[9], Float.MIN_VALUE);
        assertEquals(0f, y[10]);
    }

    @Test
    void derivativesAreWithinTheirBound() {
        DoubleUnaryOperator sigmoid = v -> {
            double t = Math.exp(-Math.abs(v));
            return t / ((1 + t) * (1 + t));
        };
        double err = maxRelError(SIGMOID_DERIVATIVE, sigmoid, samples(-80f, 80f, 7));
        assertTrue(err <= VectorMath.DERIVATIVE_MAX_REL_ERROR, "sigmoid' relative error " + err);
        DoubleUnaryOperator tanh = v -> 1 / (Math.cosh(v) * Math.cosh(v));
        err = maxRelError(TANH_DERIVATIVE, tanh, samples(-40f, 40f, 8));
        assertTrue(err <= VectorMath.DERIVATIVE_MAX_REL_ERROR, "tanh' relative error " + err);
        float[] y = apply(SIGMOID_DERIVATIVE, new float[] {Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 0f, Float.NaN});
        assertEquals(0f, y[0]);
        assertEquals(0f, y[1]);
        assertEquals(0.25f, y[2]);
        assertTrue(Float.isNaN(y[3]));
        y = apply(TANH_DERIVATIVE, new float[] {Float.POSITIVE_INFINITY, 0f, Float.NaN});
        assertEquals(0f, y[0]);
        assertEquals(1f, y[1]);
        assertTrue(Float.isNaN(y[2]));
    }

    @Test
    void tanhIsWithinItsBound() {
        double err = maxRelError(TANH, Math::tanh, samples(-12f, 12f, 4));
        assertTrue(err <= VectorMath.MAX_REL_ERROR, "tanh relative error " + err);
        err = maxRelError(TANH, Math::tanh, samples(-0.7f, 0.7f, 5));
        assertTrue(err <= VectorMath.MAX_REL_ERROR, "tanh relative error near the branch point: " + err);
        err = maxRelError(TANH, Math::tanh, samples(-1e-6f, 1e-6f, 6));
        assertTrue(err <= VectorMath.MAX_REL_ERROR, "tanh relative error near 0: " + err);
        float[] y = apply(TANH, new float[] {Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 0f, 100f, -100f, 1e-30f, -0f, -1e-30f, 9.1f, -9.1f, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE});
        assertTrue(Float.isNaN(y[0]));
        assertEquals(1f, y[1]);
        assertEquals(-1f, y[2]);
        assertEquals(0f, y[3]);
        assertEquals(1f, y[4]);
        assertEquals(-1f, y[5]);
        assertEquals(1e-30f, y[6]);
        // tanh is odd: PyTorch (and Math.tanh) give -0 for -0, and -x's result for -x.
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(y[7]), "tanh(-0) = " + y[7]);
        assertEquals(-1e-30f, y[8]);
        // Above 9.01 tanh rounds to 1 in float (1 - 2e^-2x is within half an ulp of 1).
        assertEquals(1f, y[9]);
        assertEquals(-1f, y[10]);
        assertEquals(1f, y[11]);
        assertEquals(-1f, y[12]);
        assertEquals(Float.MIN_VALUE, y[13]);
        assertEquals(-Float.MIN_VALUE, y[14]);
    }
}
