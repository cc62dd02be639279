package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.contract.network.GradCheck.Leaf;
import dev.backprop.tensor.Normalization;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Central finite differences for the image ops: convolution (input, weight and bias, with stride, padding and
 * dilation; without bias; a single image), max pooling (distinct values, so no tie sits within the step), average
 * pooling with and without padding in the divisor, batch normalization on batch statistics (the gradient flows
 * through the mean and variance) and on running statistics, for 2-D and 4-D inputs, and dropout.
 */
final class ImageGradientCases {
    private ImageGradientCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        t.add(check(be, "conv2d 3x3 padding 1", 200, v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), 1, 1, 1, 1, 1, 1),
                leaf(201, 2, 2, 5, 4), leaf(202, 3, 2, 3, 3), leaf(203, 3)));
        t.add(check(be, "conv2d stride 2x1, padding 0x1, dilation 1x2", 204,
                v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), 2, 1, 0, 1, 1, 2), leaf(205, 2, 3, 7, 6),
                leaf(206, 2, 3, 3, 2), leaf(207, 2)));
        t.add(check(be, "conv2d without bias, one image, kernel over the input", 208,
                v -> Ops.conv2d(v.get(0), v.get(1), null, 1, 1, 2, 2, 1, 1), leaf(209, 1, 2, 3, 3),
                leaf(210, 2, 2, 5, 5)));
        t.add(check(be, "conv2d 1x1", 211, v -> Ops.conv2d(v.get(0), v.get(1), v.get(2), 1, 1, 0, 0, 1, 1),
                leaf(212, 3, 4, 2, 3), leaf(213, 5, 4, 1, 1), leaf(214, 5)));
        t.add(check(be, "maxPool2d 2x2", 215, v -> Ops.maxPool2d(v.get(0), 2, 2, 2, 2, 0, 0),
                distinct(216, 2, 3, 4, 6)));
        t.add(check(be, "maxPool2d 3x3 stride 2 padding 1 (overlapping windows)", 217,
                v -> Ops.maxPool2d(v.get(0), 3, 3, 2, 2, 1, 1), distinct(218, 2, 2, 7, 5)));
        for (boolean include : new boolean[] {true, false}) {
            t.add(check(be, "avgPool2d 3x3 stride 2 padding 1" + (include ? "" : " padding excluded"), 219,
                    v -> Ops.avgPool2d(v.get(0), 3, 3, 2, 2, 1, 1, include), leaf(220, 2, 2, 7, 5)));
        }
        for (int[] shape : new int[][] {{6, 3}, {4, 3, 3, 2}}) {
            String s = java.util.Arrays.toString(shape);
            t.add(check(be, "batchNorm on batch statistics " + s, 221, v -> batchNorm(v, true), leaf(222, shape),
                    leaf(223, shape[1]), leaf(224, shape[1])));
            t.add(check(be, "batchNorm on running statistics " + s, 225, v -> batchNorm(v, false), leaf(226, shape),
                    leaf(227, shape[1]), leaf(228, shape[1])));
        }
        t.add(check(be, "dropout p=0.3", 229, v -> Ops.dropout(v.get(0), 0.3, 42, 5), leaf(230, 3, 17)));
        t.add(check(be, "conv2d, relu, maxPool2d, flatten, linear (a small CNN)", 231, v -> Ops.linear(
                Ops.flatten(Ops.maxPool2d(Ops.relu(Ops.conv2d(v.get(0), v.get(1), v.get(2), 1, 1, 1, 1, 1, 1)), 2, 2,
                        2, 2, 0, 0)), v.get(3), v.get(4)), leaf(232, 2, 1, 4, 4), leaf(233, 3, 1, 3, 3), leaf(234, 3),
                leaf(235, 5, 12), leaf(236, 5)));
        return t.stream();
    }

    /**
     * Batch norm of {@code v[0]} with scale {@code v[1]} (kept away from 0) and shift {@code v[2]}: on the input's own
     * statistics, or on fixed running statistics.
     */
    private static Variable batchNorm(List<Variable> v, boolean batch) {
        Variable x = v.get(0);
        int c = x.shape().dim(1);
        Tensor mean = Tensor.empty(x.backend(), DType.FLOAT64, c), var = Tensor.empty(x.backend(), DType.FLOAT64, c);
        if (batch) {
            Normalization.batchNormStats(x.value(), mean, var);
        } else {
            Net.set(mean, Net.uniform(9, c, -1, 1));
            Net.set(var, Net.uniform(10, c, 0.5, 2));
        }
        return Ops.batchNorm(x, mean, var, v.get(1), v.get(2), 1e-5, batch);
    }

    private static DynamicTest check(Backend be, String name, long seed, Function<List<Variable>, Variable> f,
                                     Leaf... leaves) {
        return DynamicTest.dynamicTest(name, () -> GradCheck.check(be, name, seed, f, leaves));
    }

    private static Leaf leaf(long seed, int... dims) {
        return new Leaf(Net.uniform(seed, Net.count(dims), -1, 1), dims);
    }

    /** Values at least 0.01 apart (a shuffled ramp), so max pooling has no near-ties at the finite step. */
    private static Leaf distinct(long seed, int... dims) {
        int n = Net.count(dims);
        double[] v = new double[n];
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            v[i] = -1 + 2.0 * i / n;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double tmp = v[i];
            v[i] = v[j];
            v[j] = tmp;
        }
        return new Leaf(v, dims);
    }
}
