package dev.backprop.contract;

import dev.backprop.backend.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract's per-element error rules, against float64 results of the reference backend:
 * <ul>
 *   <li>elementwise ops: {@code |err| ≤ 1e-5·|ref| + 1e-6·rms(ref)};</li>
 *   <li>GEMM and reductions: {@code |err| ≤ 1e-5·Σ|terms|}, where {@code Σ|terms|} (the sum of the absolute
 *       products or inputs that make up the element) is computed by the reference too;</li>
 *   <li>FLOAT64: both factors 1e-6 times smaller;</li>
 *   <li>exact equality where the op is exact (selection, comparisons, copies, INT32).</li>
 * </ul>
 * A NaN reference needs a NaN result and an infinite one the same infinity. Failure messages give the case,
 * the number of bad elements and the worst one.
 */
public final class Tolerance {
    /** Relative factor for FLOAT32 results. */
    public static final double RELATIVE = 1e-5;
    /** Factor on {@code rms(ref)} for FLOAT32 elementwise results. */
    public static final double RMS = 1e-6;
    /** How much tighter FLOAT64 results must be. */
    public static final double FLOAT64_FACTOR = 1e-6;

    private Tolerance() {
    }

    private static double factor(DType dtype) {
        return dtype == DType.FLOAT64 ? FLOAT64_FACTOR : 1.0;
    }

    /** Elementwise rule over every element. */
    public static void elementwise(String what, DType dtype, double[] expected, double[] actual) {
        double f = factor(dtype);
        double rms = rms(expected);
        check(what, expected, actual, i -> true, i -> f * (RELATIVE * Math.abs(expected[i]) + RMS * rms));
    }

    /** GEMM/reduction rule: {@code |err| ≤ 1e-5·terms[i]} (FLOAT64: 1e-11). */
    public static void bounded(String what, DType dtype, double[] expected, double[] actual, double[] terms) {
        bounded(what, dtype, expected, actual, terms, i -> true);
    }

    /** The bounded rule where {@code checked} holds; other elements must be exactly equal (untouched). */
    public static void bounded(String what, DType dtype, double[] expected, double[] actual, double[] terms,
                               IntPredicate checked) {
        double f = factor(dtype);
        check(what, expected, actual, i -> true, i -> checked.test(i) ? f * RELATIVE * terms[i] : 0.0);
    }

    /** Exact equality ({@code 0.0 == -0.0}; NaN matches NaN). */
    public static void exact(String what, double[] expected, double[] actual) {
        check(what, expected, actual, i -> true, i -> 0.0);
    }

    private interface Bound {
        double at(int i);
    }

    private static void check(String what, double[] expected, double[] actual, IntPredicate use, Bound bound) {
        if (expected.length != actual.length) {
            fail(what + ": got " + actual.length + " elements, expected " + expected.length);
        }
        List<Integer> bad = new ArrayList<>();
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!use.test(i)) {
                continue;
            }
            double e = expected[i], a = actual[i], b = bound.at(i);
            boolean ok;
            if (Double.isNaN(e) || Double.isInfinite(e)) {
                ok = Double.isNaN(e) ? Double.isNaN(a) : a == e;
            } else {
                ok = Math.abs(a - e) <= b;
            }
            if (!ok) {
                bad.add(i);
                double ratio = Double.isNaN(a) || b == 0 ? Double.POSITIVE_INFINITY : Math.abs(a - e) / b;
                if (worst < 0 || ratio > worstRatio) {
                    worst = i;
                    worstRatio = ratio;
                }
            }
        }
        if (!bad.isEmpty()) {
            fail(String.format("%s: %d of %d elements outside tolerance; worst at [%d]: got %s, expected %s, "
                            + "allowed |err| <= %s (first bad index %d)", what, bad.size(), expected.length, worst,
                    actual[worst], expected[worst], bound.at(worst), bad.get(0)));
        }
    }

    /** Root mean square of the finite elements (0 when there are none). */
    public static double rms(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (Double.isFinite(x)) {
                s += x * x;
                n++;
            }
        }
        return n == 0 ? 0 : Math.sqrt(s / n);
    }
}
