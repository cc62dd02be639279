package dev.backprop.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, sigmoid and tanh on {@link FloatVector}s, built from adds, multiplies and FMAs only, so the JIT compiles
 * them to straight-line SIMD code on every JDK from 17 (the incubator's own {@code lanewise(EXP)} is a scalar
 * loop where no vector math library is bundled, and its accuracy is not specified).
 *
 * <h2>Accuracy (checked by {@code VectorMathTest} against {@link Math} in double)</h2>
 * <ul>
 *   <li>{@link #exp}: relative error at most {@link #EXP_MAX_REL_ERROR} = 2⁻²³ ≈ 1.2e-7 for results in the
 *       normal float range (measured worst 8.5e-8 over 4M random inputs in [-87.3, 88.7]); {@code +inf} above
 *       ln(Float.MAX_VALUE), gradual underflow to 0 below; NaN stays NaN.</li>
 *   <li>{@link #sigmoid}, {@link #tanh}: relative error at most {@link #MAX_REL_ERROR} = 2⁻²² ≈ 2.4e-7
 *       (measured worst 1.5e-7).</li>
 *   <li>{@link #sigmoidDerivative}, {@link #tanhDerivative}: relative error at most
 *       {@link #DERIVATIVE_MAX_REL_ERROR} = 2⁻²¹ ≈ 4.8e-7 (measured worst 2.7e-7).</li>
 * </ul>
 *
 * <h2>Method (after Cephes' {@code expf}/{@code tanhf})</h2>
 * exp: {@code n = round(x·log2 e)} with the 1.5·2²³ rounding trick, {@code r = x - n·ln 2} in two FMA steps
 * (Cody–Waite split of ln 2, so r is exact to float precision), {@code e^r ≈ 1 + r + r²·P(r)} with Cephes'
 * degree-5 minimax P on {@code |r| ≤ ln2/2}, then the result is scaled by {@code 2^n} as two factors
 * {@code 2^⌊n/2⌋·2^(n-⌊n/2⌋)} so both stay normal floats across the whole input range (x is clamped to
 * [-104, 89], where e^x is already 0 or +inf in float). tanh: an odd polynomial for {@code |x| < 0.625}, where
 * {@code 1 - 2/(e^{2x}+1)} would cancel, and that formula with the sign restored elsewhere.
 */
final class VectorMath {
    /** Stated (and tested) bound on the relative error of {@link #exp} over the normal float range. */
    static final double EXP_MAX_REL_ERROR = 0x1p-23;
    /** Stated (and tested) bound on the relative error of {@link #sigmoid} and {@link #tanh}. */
    static final double MAX_REL_ERROR = 0x1p-22;
    /** Stated (and tested) bound on the relative error of the two derivatives. */
    static final double DERIVATIVE_MAX_REL_ERROR = 0x1p-21;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUND = 0x1.8p23f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;

    private VectorMath() {
    }

    /** {@code e^x} per lane. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-104f).min(89f);
        FloatVector t = xc.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(c(-LN2_HI), xc);
        r = n.fma(c(-LN2_LO), r);
        FloatVector p = r.fma(1.9875691500E-4f, 1.3981999507E-3f);
        p = p.fma(r, c(8.3334519073E-3f));
        p = p.fma(r, c(4.1665795894E-2f));
        p = p.fma(r, c(1.6666665459E-1f));
        p = p.fma(r, c(5.0000001201E-1f));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        IntVector k = t.reinterpretAsInts();
        k = k.sub(ROUND_BITS);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = k.sub(k1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return e.mul(s1).mul(s2);
    }

    /** {@code 1/(1+e^-x)} per lane. */
    static FloatVector sigmoid(FloatVector x) {
        return c(1f).div(exp(x.neg()).add(1f));
    }

    /** {@code tanh x} per lane. */
    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(-5.70498872745E-3f, 2.06390887954E-2f);
        p = p.fma(z, c(-5.37397155531E-2f));
        p = p.fma(z, c(1.33314422036E-1f));
        p = p.fma(z, c(-3.33332819422E-1f));
        FloatVector small = p.mul(z).fma(x, x);
        FloatVector e = exp(ax.add(ax));
        FloatVector big = c(-2f).div(e.add(1f)).add(1f);
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        VectorMask<Float> useSmall = ax.compare(VectorOperators.LT, 0.625f);
        return big.blend(small, useSmall);
    }

    /**
     * {@code σ'(x) = σ(x)(1-σ(x))}, as {@code t/(1+t)²} with {@code t = e^-|x|}: the derivative is even, and this
     * form has neither the cancellation of {@code 1-σ(x)} for large x nor an overflow of {@code e^-x}.
     */
    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector t = exp(x.abs().neg());
        FloatVector d = t.add(1f);
        return t.div(d.mul(d));
    }

    /** {@code tanh'(x) = 1 - tanh²x}, as {@code 4u/(1+u)²} with {@code u = e^-2|x|} (no cancellation near ±1). */
    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector u = exp(ax.add(ax).neg());
        FloatVector d = u.add(1f);
        return u.mul(4f).div(d.mul(d));
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(S, v);
    }
}
