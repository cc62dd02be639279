package dev.backprop.cpu;

import dev.backprop.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 unary ops and their backward forms on {@code jdk.incubator.vector}, for {@link VectorF32Kernels}.
 *
 * <p>The loops here only cover whole vectors. The last {@code n mod L} elements go through the same vector code
 * on a zero-padded copy, so every element of a range gets bit-identical results whatever its position (and so
 * whatever the thread split). Each op has its own loop with constant operators: the Vector API is only compiled
 * to SIMD instructions when the operator is a compile-time constant.
 */
final class VectorUnary {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorUnary() {
    }

    /** Whether {@link #forward}/{@link #backward} vectorize {@code op}; the others go to the scalar loops. */
    static boolean handles(UnaryOp op) {
        return op != UnaryOp.LOG && op != UnaryOp.POW && op != UnaryOp.IDENTITY;
    }

    /** {@code y = op(x)} over {@code n} elements, for ops {@link #handles} accepts. */
    static void forward(UnaryOp op, float lo, float hi, float[] x, int xo, float[] y, int yo, int n) {
        int whole = S.loopBound(n);
        forwardWhole(op, lo, hi, x, xo, y, yo, whole);
        if (whole < n) {
            float[] tx = new float[L], ty = new float[L];
            System.arraycopy(x, xo + whole, tx, 0, n - whole);
            forwardWhole(op, lo, hi, tx, 0, ty, 0, L);
            System.arraycopy(ty, 0, y, yo + whole, n - whole);
        }
    }

    /** {@code dx = op'(x)·g} over {@code n} elements, for ops {@link #handles} accepts. */
    static void backward(UnaryOp op, float lo, float hi, float[] x, int xo, float[] g, int go, float[] dx, int dxo,
                         int n) {
        int whole = S.loopBound(n);
        backwardWhole(op, lo, hi, x, xo, g, go, dx, dxo, whole);
        if (whole < n) {
            float[] tx = new float[L], tg = new float[L], td = new float[L];
            System.arraycopy(x, xo + whole, tx, 0, n - whole);
            System.arraycopy(g, go + whole, tg, 0, n - whole);
            backwardWhole(op, lo, hi, tx, 0, tg, 0, td, 0, L);
            System.arraycopy(td, 0, dx, dxo + whole, n - whole);
        }
    }

    /** Dispatches to one loop per op: each compiles on its own, within its own inlining budget. */
    private static void forwardWhole(UnaryOp op, float lo, float hi, float[] x, int xo, float[] y, int yo, int n) {
        switch (op) {
            case NEG -> neg(x, xo, y, yo, n);
            case ABS -> abs(x, xo, y, yo, n);
            case EXP -> VectorMath.exp(x, xo, 1f, 0f, false, y, yo, n);
            case SQRT -> sqrt(x, xo, y, yo, n);
            case SIGMOID -> VectorMath.sigmoid(x, xo, y, yo, n);
            case TANH -> VectorMath.tanh(x, xo, y, yo, n);
            case RELU -> relu(x, xo, y, yo, n);
            case THRESHOLD -> threshold(x, xo, y, yo, n);
            case CLAMP -> clamp(lo, hi, x, xo, y, yo, n);
            default -> throw new IllegalArgumentException("cpu: no vector loop for " + op);
        }
    }

    private static void neg(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += L) {
            load(x, xo + i).neg().intoArray(y, yo + i);
        }
    }

    private static void abs(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += L) {
            load(x, xo + i).abs().intoArray(y, yo + i);
        }
    }

    private static void sqrt(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += L) {
            load(x, xo + i).sqrt().intoArray(y, yo + i);
        }
    }

    /**
     * {@code max(x, 0)} as a compare and a blend: the same result for every input (±0 and negatives give +0,
     * NaN stays NaN) in two instructions, where the JIT expands {@code max} into a sequence that honours Java's
     * NaN and signed-zero rules.
     */
    private static void relu(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            relu(load(x, xo + i), zero).intoArray(y, yo + i);
        }
    }

    /**
     * {@link #relu} over four ranges {@code q} apart in one loop ({@link F32Kernels#reluStreams}); {@code m} is a
     * multiple of the lane count. 16M floats on one thread, interleaved in one JVM: 1.11-1.18x over one stream.
     */
    static void reluStreams(float[] x, int xo, float[] y, int yo, int q, int m) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = 0; i < m; i += L) {
            FloatVector v0 = load(x, xo + i), v1 = load(x, xo + q + i);
            FloatVector v2 = load(x, xo + 2 * q + i), v3 = load(x, xo + 3 * q + i);
            relu(v0, zero).intoArray(y, yo + i);
            relu(v1, zero).intoArray(y, yo + q + i);
            relu(v2, zero).intoArray(y, yo + 2 * q + i);
            relu(v3, zero).intoArray(y, yo + 3 * q + i);
        }
    }

    private static FloatVector relu(FloatVector v, FloatVector zero) {
        return v.blend(zero, v.compare(VectorOperators.LE, zero));
    }

    private static void threshold(float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> nonNegative = load(x, xo + i).compare(VectorOperators.GE, 0f);
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), nonNegative).intoArray(y, yo + i);
        }
    }

    private static void clamp(float lo, float hi, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i += L) {
            load(x, xo + i).max(lo).min(hi).intoArray(y, yo + i);
        }
    }

    /** Dispatches to one loop per op, as {@link #forwardWhole} does. */
    private static void backwardWhole(UnaryOp op, float lo, float hi, float[] x, int xo, float[] g, int go,
                                      float[] dx, int dxo, int n) {
        switch (op) {
            case NEG -> negBackward(x, xo, g, go, dx, dxo, n);
            case EXP -> VectorMath.expBackward(x, xo, g, go, dx, dxo, n);
            case SQRT -> sqrtBackward(x, xo, g, go, dx, dxo, n);
            case SIGMOID -> VectorMath.sigmoidBackward(x, xo, g, go, dx, dxo, n);
            case TANH -> VectorMath.tanhBackward(x, xo, g, go, dx, dxo, n);
            case RELU -> reluBackward(x, xo, g, go, dx, dxo, n);
            case ABS -> absBackward(x, xo, g, go, dx, dxo, n);
            case CLAMP -> clampBackward(lo, hi, x, xo, g, go, dx, dxo, n);
            case THRESHOLD -> java.util.Arrays.fill(dx, dxo, dxo + n, 0f);
            default -> throw new IllegalArgumentException("cpu: no vector loop for " + op);
        }
    }

    private static void negBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i += L) {
            load(g, go + i).neg().intoArray(dx, dxo + i);
        }
    }

    private static void sqrtBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i += L) {
            load(g, go + i).div(load(x, xo + i).sqrt().mul(2f)).intoArray(dx, dxo + i);
        }
    }

    private static void reluBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> positive = load(x, xo + i).compare(VectorOperators.GT, 0f);
            FloatVector.zero(S).blend(load(g, go + i), positive).intoArray(dx, dxo + i);
        }
    }

    /** {@code sign(x)·g}, with {@code x·g} giving {@code sign(±0)·g = ±0} and NaN for NaN, as Math.signum does. */
    private static void absBackward(float[] x, int xo, float[] g, int go, float[] dx, int dxo, int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector v = load(x, xo + i), gv = load(g, go + i);
            v.mul(gv).blend(gv, v.compare(VectorOperators.GT, 0f)).blend(gv.neg(), v.compare(VectorOperators.LT, 0f))
                    .intoArray(dx, dxo + i);
        }
    }

    private static void clampBackward(float lo, float hi, float[] x, int xo, float[] g, int go, float[] dx, int dxo,
                                      int n) {
        for (int i = 0; i < n; i += L) {
            FloatVector v = load(x, xo + i);
            VectorMask<Float> in = v.compare(VectorOperators.GE, lo).and(v.compare(VectorOperators.LE, hi));
            FloatVector.zero(S).blend(load(g, go + i), in).intoArray(dx, dxo + i);
        }
    }

    private static FloatVector load(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }
}
