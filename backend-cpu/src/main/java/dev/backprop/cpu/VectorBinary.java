package dev.backprop.cpu;

import dev.backprop.backend.BinaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FLOAT32 binary ops on {@code jdk.incubator.vector}, for {@link VectorF32Kernels}: one loop per op, each with a
 * constant operator (the Vector API only becomes SIMD code when the operator is a compile-time constant) and
 * each in its own method, so each is compiled on its own rather than all inside one method whose inlining
 * budget runs out. The loops cover whole vectors; the caller finishes the tail with the scalar loop, which gives
 * bit-identical results for these exact operations.
 */
final class VectorBinary {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorBinary() {
    }

    /** {@code out[i] = a[i] op b[i]} for {@code i < n}, {@code n} a multiple of the lane count. */
    static void whole(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        switch (op) {
            case ADD -> add(a, ao, b, bo, out, oo, n);
            case SUB -> sub(a, ao, b, bo, out, oo, n);
            case MUL -> mul(a, ao, b, bo, out, oo, n);
            case DIV -> div(a, ao, b, bo, out, oo, n);
            case MAX -> max(a, ao, b, bo, out, oo, n);
            case MIN -> min(a, ao, b, bo, out, oo, n);
            case EQ -> eq(a, ao, b, bo, out, oo, n);
            case NE -> ne(a, ao, b, bo, out, oo, n);
            case LT -> lt(a, ao, b, bo, out, oo, n);
            case LE -> le(a, ao, b, bo, out, oo, n);
            case GT -> gt(a, ao, b, bo, out, oo, n);
            case GE -> ge(a, ao, b, bo, out, oo, n);
        }
    }

    private static void add(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).add(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void sub(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).sub(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void mul(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).mul(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void div(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).div(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void max(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).max(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void min(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            ld(a, ao + i).min(ld(b, bo + i)).intoArray(out, oo + i);
        }
    }

    private static void eq(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.EQ, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static void ne(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.NE, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static void lt(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.LT, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static void le(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.LE, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static void gt(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.GT, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static void ge(float[] a, int ao, float[] b, int bo, float[] out, int oo, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = ld(a, ao + i).compare(VectorOperators.GE, ld(b, bo + i));
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), m).intoArray(out, oo + i);
        }
    }

    private static FloatVector ld(float[] a, int i) {
        return FloatVector.fromArray(S, a, i);
    }
}
