package dev.backprop.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, sigmoid, tanh and the two derivatives over float arrays on {@code jdk.incubator.vector}, built from adds,
 * multiplies and FMAs only, so the JIT compiles them to straight-line SIMD code on every JDK from 17 (the
 * incubator's own {@code lanewise(EXP)} is a scalar loop where no vector math library is bundled, and its
 * accuracy is not specified). Every function works on whole vectors: {@code n} is a multiple of the lane count.
 *
 * <h2>Why array in, array out</h2>
 * A method that takes or returns a {@code FloatVector} is only fast when the JIT inlines it; once such a helper
 * has been compiled on its own (it is hot: every loop calls it), later loops may call it instead, and every
 * vector crossing the call is boxed on the heap (measured: tanh at a third of its speed). So the exp steps live
 * in loops: {@link #exp} (with its affine form), and written out again in the plain {@code e^x} loop, in
 * {@link #sigmoid} and in {@link #tanh}, the three that run over whole activations and are measured against
 * PyTorch (one pass each, no scratch block). The derivatives run {@link #exp} into a scratch block (kept in L1)
 * and finish with a second, simple loop.
 *
 * <h2>Accuracy (checked by {@code VectorMathTest} against {@link Math} in double)</h2>
 * <ul>
 *   <li>{@link #exp}: relative error at most {@link #EXP_MAX_REL_ERROR} = 2⁻²³ ≈ 1.2e-7 for results in the
 *       normal float range (measured worst 8.5e-8 over 4M random inputs in [-87.3, 88.7]); {@code +inf} above
 *       ln(Float.MAX_VALUE), gradual underflow to 0 below; NaN stays NaN.</li>
 *   <li>{@link #sigmoid}, {@link #tanh}: relative error at most {@link #MAX_REL_ERROR} = 2⁻²² ≈ 2.4e-7.</li>
 *   <li>{@link #sigmoidBackward}, {@link #tanhBackward} (the derivative, before the product with g): relative
 *       error at most {@link #DERIVATIVE_MAX_REL_ERROR} = 2⁻²¹ ≈ 4.8e-7.</li>
 *   <li>In ulps of the float nearest the exact value, over every float in [-20, 20] ({@code VectorMathSweep}):
 *       tanh at most {@link #TANH_MAX_ULPS} = 2 (measured worst 1.51), sigmoid {@link #SIGMOID_MAX_ULPS} = 3
 *       (2.48), both derivatives {@link #DERIVATIVE_MAX_ULPS} = 5 (4.22). Large |x| saturates without NaN: tanh
 *       is ±1 exactly from |x| = 9.1 up to ±inf ({@code u = e^-2|x|} is then below 2⁻²⁵, so {@code 1-u} and
 *       {@code 1+u} both round to 1), sigmoid 1 and 0 at ±200 and beyond. Past -20: sigmoid within
 *       1.5 ulp down to -87.33, then subnormal results within 1 ulp (of their spacing) down to -88.72, then 0
 *       ({@code e^-x} overflows float there, so the exact value's subnormals down to -103.3 are flushed). NaN
 *       stays NaN and {@code tanh(-0) = -0}.</li>
 * </ul>
 *
 * <h2>Method (after Cephes' {@code expf}/{@code tanhf})</h2>
 * exp: {@code n = round(x·log2 e)} with the 1.5·2²³ rounding trick, {@code r = x - n·ln 2} in two FMA steps
 * (Cody–Waite split of ln 2, so r is exact to float precision), {@code e^r ≈ 1 + r + r²·P(r)} with Cephes'
 * degree-5 minimax P on {@code |r| ≤ ln2/2}, then the result is scaled by {@code 2^n} as two factors
 * {@code 2^⌊n/2⌋·2^(n-⌊n/2⌋)} so both stay normal floats across the whole input range (x is clamped to
 * [-104, 89], where e^x is already 0 or +inf in float). sigmoid: {@code 1/(1+e^-x)}. tanh: Cephes' odd
 * polynomial for {@code |x| < 0.625}, where the exponential form would cancel, else {@code (1-u)/(1+u)} with
 * {@code u = e^-2|x|}; x's sign goes on either. Derivatives: {@code σ' = t/(1+t)²} with {@code t = e^-|x|} and
 * {@code tanh' = 4u/(1+u)²}, which neither cancel (as {@code 1-σ} and {@code 1-tanh²} do for large |x|) nor
 * overflow.
 */
final class VectorMath {
    /** Stated (and tested) bound on the relative error of {@link #exp} over the normal float range. */
    static final double EXP_MAX_REL_ERROR = 0x1p-23;
    /** Stated (and tested) bound on the relative error of {@link #sigmoid} and {@link #tanh}. */
    static final double MAX_REL_ERROR = 0x1p-22;
    /** Stated (and tested) bound on the relative error of the two derivatives. */
    static final double DERIVATIVE_MAX_REL_ERROR = 0x1p-21;
    /** Stated (and tested) bound on the error of {@link #tanh} in ulps over [-20, 20]. */
    static final double TANH_MAX_ULPS = 2;
    /** Stated (and tested) bound on the error of {@link #sigmoid} in ulps over [-20, 20]. */
    static final double SIGMOID_MAX_ULPS = 3;
    /** Stated (and tested) bound on the error of the two derivatives in ulps over [-20, 20]. */
    static final double DERIVATIVE_MAX_ULPS = 5;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = S.withLanes(int.class);
    private static final int L = S.length();
    /** Elements per scratch block between the exp pass and the finishing pass (4 KiB: stays in L1). */
    private static final int BLOCK = 1024;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 0x1.8p23f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Cephes' minimax coefficients of {@code P(r)} in {@code e^r ≈ 1 + r + r²·P(r)}, highest degree first. */
    private static final float P5 = 1.9875691500E-4f;
    private static final float P4 = 1.3981999507E-3f;
    private static final float P3 = 8.3334519073E-3f;
    private static final float P2 = 4.1665795894E-2f;
    private static final float P1 = 1.6666665459E-1f;
    private static final float P0 = 5.0000001201E-1f;

    private VectorMath() {
    }

    /**
     * {@code y[i] = e^(a·v + b)} where {@code v} is {@code x[i]}, or {@code |x[i]|} when {@code abs}. {@code y}
     * may be the same range as {@code x}. The plain {@code e^x} ({@code a = 1, b = 0}, no abs) runs its own loop
     * without the affine step (bit-identical: {@code 1·v + 0 = v}).
     */
    static void exp(float[] x, int xo, float a, float b, boolean abs, float[] y, int yo, int n) {
        if (a == 1f && b == 0f && !abs) {
            expPlain(x, xo, y, yo, n);
            return;
        }
        IntVector keep = IntVector.broadcast(IS, abs ? 0x7fffffff : -1);
        FloatVector av = c(a), bv = c(b);
        // Every constant is a vector made before the loop: scalar operands (v.fma(2f, 3f)) are broadcast again
        // in every iteration by the JDK 17 JIT (measured: the hoisted loop does 20% more elements per second).
        FloatVector lo = c(-104f), hi = c(89f), nHi = c(-LN2_HI), nLo = c(-LN2_LO), log2e = c(LOG2E);
        FloatVector round = c(ROUND), one = c(1f), p5 = c(P5), p4 = c(P4), p3 = c(P3), p2 = c(P2), p1 = c(P1);
        FloatVector p0 = c(P0);
        IntVector roundBits = IntVector.broadcast(IS, ROUND_BITS), bias = IntVector.broadcast(IS, 127);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i).reinterpretAsInts().and(keep).reinterpretAsFloats()
                    .fma(av, bv);
            // Clamped with compare-and-blend (cheaper than max/min, whose NaN and -0 rules cost extra
            // instructions); NaN compares false both times and passes through.
            v = v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
            FloatVector t = v.fma(log2e, round);
            FloatVector k = t.sub(round);
            FloatVector r = k.fma(nLo, k.fma(nHi, v));
            FloatVector p = r.fma(p5, p4).fma(r, p3).fma(r, p2).fma(r, p1).fma(r, p0);
            FloatVector e = p.fma(r.mul(r), r).add(one);
            IntVector bits = t.reinterpretAsInts().sub(roundBits);
            IntVector k1 = bits.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = bits.sub(k1);
            FloatVector s1 = k1.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            e.mul(s1).mul(s2).intoArray(y, yo + i);
        }
    }

    /**
     * {@code y = e^x}: the loop of {@link #exp} without the affine step. The exp steps are written out again here,
     * in {@link #sigmoid} and in {@link #tanh} rather than shared through a method on vectors (see the class
     * comment on why such helpers are slow); the four copies compute the same operations in the same order.
     */
    private static void expPlain(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector lo = c(-104f), hi = c(89f), nHi = c(-LN2_HI), nLo = c(-LN2_LO), log2e = c(LOG2E);
        FloatVector round = c(ROUND), one = c(1f), p5 = c(P5), p4 = c(P4), p3 = c(P3), p2 = c(P2), p1 = c(P1);
        FloatVector p0 = c(P0);
        IntVector roundBits = IntVector.broadcast(IS, ROUND_BITS), bias = IntVector.broadcast(IS, 127);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v = v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
            FloatVector t = v.fma(log2e, round);
            FloatVector k = t.sub(round);
            FloatVector r = k.fma(nLo, k.fma(nHi, v));
            FloatVector p = r.fma(p5, p4).fma(r, p3).fma(r, p2).fma(r, p1).fma(r, p0);
            FloatVector e = p.fma(r.mul(r), r).add(one);
            IntVector bits = t.reinterpretAsInts().sub(roundBits);
            IntVector k1 = bits.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = bits.sub(k1);
            FloatVector s1 = k1.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            e.mul(s1).mul(s2).intoArray(y, yo + i);
        }
    }

    /**
     * {@code y = 1/(1+e^-x)} in one pass ({@link #exp}'s steps on {@code -x}, then the division, with no
     * scratch block between them); {@code y} may be the same range as {@code x}.
     */
    static void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector lo = c(-104f), hi = c(89f), nHi = c(-LN2_HI), nLo = c(-LN2_LO), log2e = c(LOG2E);
        FloatVector round = c(ROUND), one = c(1f), p5 = c(P5), p4 = c(P4), p3 = c(P3), p2 = c(P2), p1 = c(P1);
        FloatVector p0 = c(P0);
        IntVector roundBits = IntVector.broadcast(IS, ROUND_BITS), bias = IntVector.broadcast(IS, 127);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i).neg();
            v = v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
            FloatVector t = v.fma(log2e, round);
            FloatVector k = t.sub(round);
            FloatVector r = k.fma(nLo, k.fma(nHi, v));
            FloatVector p = r.fma(p5, p4).fma(r, p3).fma(r, p2).fma(r, p1).fma(r, p0);
            FloatVector e = p.fma(r.mul(r), r).add(one);
            IntVector bits = t.reinterpretAsInts().sub(roundBits);
            IntVector k1 = bits.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = bits.sub(k1);
            FloatVector s1 = k1.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            one.div(e.mul(s1).mul(s2).add(one)).intoArray(y, yo + i);
        }
    }

    /**
     * {@code y = tanh x} in one pass, as {@link #sigmoid} is ({@link #exp}'s steps on {@code -2|x|}, then both
     * branches and a blend); {@code y} may be the same range as {@code x}. Both branches work on {@code |x|} and
     * x's sign bit is put on the result, which keeps {@code tanh(-0) = -0} and is exact since each branch is odd
     * (round-to-nearest is symmetric).
     */
    static void tanh(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector lo = c(-104f), hi = c(89f), nHi = c(-LN2_HI), nLo = c(-LN2_LO), log2e = c(LOG2E);
        FloatVector round = c(ROUND), one = c(1f), p5 = c(P5), p4 = c(P4), p3 = c(P3), p2 = c(P2), p1 = c(P1);
        FloatVector p0 = c(P0), minusTwo = c(-2f), branch = c(0.625f);
        IntVector roundBits = IntVector.broadcast(IS, ROUND_BITS), bias = IntVector.broadcast(IS, 127);
        FloatVector q5 = c(-5.70498872745E-3f), q4 = c(2.06390887954E-2f), q3 = c(-5.37397155531E-2f);
        FloatVector q2 = c(1.33314422036E-1f), q1 = c(-3.33332819422E-1f);
        IntVector sign = IntVector.broadcast(IS, 0x80000000), magnitude = IntVector.broadcast(IS, 0x7fffffff);
        for (int i = 0; i < n; i += L) {
            IntVector xBits = FloatVector.fromArray(S, x, xo + i).reinterpretAsInts();
            FloatVector a = xBits.and(magnitude).reinterpretAsFloats();
            FloatVector v = a.mul(minusTwo);
            v = v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
            FloatVector t = v.fma(log2e, round);
            FloatVector k = t.sub(round);
            FloatVector r = k.fma(nLo, k.fma(nHi, v));
            FloatVector p = r.fma(p5, p4).fma(r, p3).fma(r, p2).fma(r, p1).fma(r, p0);
            FloatVector e = p.fma(r.mul(r), r).add(one);
            IntVector bits = t.reinterpretAsInts().sub(roundBits);
            IntVector k1 = bits.lanewise(VectorOperators.ASHR, 1);
            IntVector k2 = bits.sub(k1);
            FloatVector s1 = k1.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = k2.add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector u = e.mul(s1).mul(s2);
            FloatVector big = one.sub(u).div(one.add(u));
            FloatVector z = a.mul(a);
            FloatVector small = z.fma(q5, q4).fma(z, q3).fma(z, q2).fma(z, q1).mul(z).fma(a, a);
            big.blend(small, a.compare(VectorOperators.LT, branch)).reinterpretAsInts().or(xBits.and(sign))
                    .reinterpretAsFloats().intoArray(y, yo + i);
        }
    }

    /** {@code dx = σ'(x)·g} with {@code σ' = t/(1+t)²}, {@code t = e^-|x|}; dx may be the range of x or g. */
    static void sigmoidBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        float[] t = new float[Math.min(n, BLOCK)];
        for (int s = 0; s < n; s += BLOCK) {
            int len = Math.min(BLOCK, n - s);
            exp(x, xo + s, -1f, 0f, true, t, 0, len);
            for (int i = 0; i < len; i += L) {
                FloatVector tv = FloatVector.fromArray(S, t, i), d = tv.add(1f);
                tv.div(d.mul(d)).mul(FloatVector.fromArray(S, g, go + s + i)).intoArray(dx, dxo + s + i);
            }
        }
    }

    /** {@code dx = tanh'(x)·g} with {@code tanh' = 4u/(1+u)²}, {@code u = e^-2|x|}; dx may be x's or g's range. */
    static void tanhBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        float[] u = new float[Math.min(n, BLOCK)];
        for (int s = 0; s < n; s += BLOCK) {
            int len = Math.min(BLOCK, n - s);
            exp(x, xo + s, -2f, 0f, true, u, 0, len);
            for (int i = 0; i < len; i += L) {
                FloatVector uv = FloatVector.fromArray(S, u, i), d = uv.add(1f);
                uv.mul(4f).div(d.mul(d)).mul(FloatVector.fromArray(S, g, go + s + i)).intoArray(dx, dxo + s + i);
            }
        }
    }

    /** {@code dx = e^x·g}; dx may be the range of x or g. */
    static void expBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        float[] e = new float[Math.min(n, BLOCK)];
        for (int s = 0; s < n; s += BLOCK) {
            int len = Math.min(BLOCK, n - s);
            exp(x, xo + s, 1f, 0f, false, e, 0, len);
            for (int i = 0; i < len; i += L) {
                FloatVector.fromArray(S, e, i).mul(FloatVector.fromArray(S, g, go + s + i)).intoArray(dx, dxo + s + i);
            }
        }
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(S, v);
    }
}
