package dev.backprop.contract.network;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.contract.network.GradCheck.Leaf;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Central finite differences for the backward rule of every public differentiable op: matmul with each
 * transpose pair (and batched), linear, transpose, the four arithmetic ops with every broadcast mode and operand
 * order, every elementwise function, sums and means along each axis, reshape/flatten, softmax and log-softmax.
 * Inputs are seeded and kept away from kinks and singularities.
 */
final class OpGradientCases {
    private OpGradientCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        long[] seed = {100};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int[] a = ta ? new int[] {4, 3} : new int[] {3, 4};
                int[] b = tb ? new int[] {5, 4} : new int[] {4, 5};
                t.add(binary(be, "matmul transA=" + ta + " transB=" + tb, seed[0]++, a, b,
                        (x, y) -> Ops.matmul(x, y, ta, tb)));
            }
        }
        t.add(binary(be, "batched matmul [2,3,4]·[2,4,5]", seed[0]++, new int[] {2, 3, 4}, new int[] {2, 4, 5},
                Ops::matmul));
        t.add(DynamicTest.dynamicTest("linear with bias", () -> GradCheck.check(be, "linear", 7,
                v -> Ops.linear(v.get(0), v.get(1), v.get(2)), leaf(1, 3, 4), leaf(2, 5, 4), leaf(3, 5))));
        t.add(DynamicTest.dynamicTest("linear without bias", () -> GradCheck.check(be, "linear", 8,
                v -> Ops.linear(v.get(0), v.get(1), null), leaf(4, 3, 4), leaf(5, 5, 4))));
        t.add(unary(be, "transpose", 9, Ops::transpose, leaf(6, 3, 5)));
        arithmetic(be, t);
        elementwise(be, t);
        reductions(be, t);
        t.add(unary(be, "reshape [2,6] -> [3,4]", 30, x -> Ops.reshape(x, 3, -1), leaf(31, 2, 6)));
        t.add(unary(be, "flatten [2,3,4]", 32, Ops::flatten, leaf(33, 2, 3, 4)));
        t.add(unary(be, "softmax [4,5]", 34, Ops::softmax, leaf(35, 4, 5)));
        t.add(unary(be, "logSoftmax [4,5]", 36, Ops::logSoftmax, leaf(37, 4, 5)));
        t.add(unary(be, "softmax of a vector [6]", 38, Ops::softmax, leaf(39, 6)));
        t.add(unary(be, "softmax [2,3,4] along the last dimension", 144, Ops::softmax, leaf(145, 2, 3, 4)));
        t.add(unary(be, "logSoftmax [2,3,4] along the last dimension", 146, Ops::logSoftmax, leaf(147, 2, 3, 4)));
        return t.stream();
    }

    private static void arithmetic(Backend be, List<DynamicTest> t) {
        String[] names = {"add", "sub", "mul", "div"};
        List<BinaryOperator<Variable>> ops = List.of(Ops::add, Ops::sub, Ops::mul, Ops::div);
        int[][] others = {{3, 4}, {4}, {1, 4}, {3, 1}, {}, {1}};
        String[] modes = {"full", "row [4]", "row [1,4]", "column [3,1]", "scalar []", "scalar [1]"};
        for (int oi = 0; oi < ops.size(); oi++) {
            int o = oi;
            for (int m = 0; m < others.length; m++) {
                int[] shape = others[m];
                BinaryOperator<Variable> op = ops.get(o);
                long s = 1000L * o + 10L * m;
                Leaf full = new Leaf(Net.awayFromZero(s, 12, 0.5), 3, 4);
                Leaf small = new Leaf(Net.awayFromZero(s + 1, Net.count(shape), 0.5), shape);
                t.add(DynamicTest.dynamicTest(names[o] + " [3,4] with " + modes[m], () -> GradCheck.check(be,
                        names[o], s, v -> op.apply(v.get(0), v.get(1)), full, small)));
                t.add(DynamicTest.dynamicTest(names[o] + " " + modes[m] + " with [3,4]", () -> GradCheck.check(be,
                        names[o], s + 2, v -> op.apply(v.get(0), v.get(1)), small, full)));
            }
            BinaryOperator<Variable> op = ops.get(o);
            t.add(DynamicTest.dynamicTest(names[o] + " column [3,1] with row [1,4] (outer)", () -> GradCheck.check(be,
                    names[o], 77, v -> op.apply(v.get(0), v.get(1)), new Leaf(Net.awayFromZero(78, 3, 0.5), 3, 1),
                    new Leaf(Net.awayFromZero(79, 4, 0.5), 1, 4))));
        }
        t.add(DynamicTest.dynamicTest("mul x∘x (one leaf used twice)", () -> GradCheck.check(be, "square", 80,
                v -> Ops.mul(v.get(0), v.get(0)), leaf(81, 3, 4))));
        t.add(unary(be, "scale by -2.5", 82, x -> Ops.scale(x, -2.5), leaf(83, 3, 4)));
        t.add(DynamicTest.dynamicTest("mul column [2,3,1] with row [4] (outer, [2,3,4] as PyTorch's)",
                () -> GradCheck.check(be, "mul", 84, v -> Ops.mul(v.get(0), v.get(1)),
                        new Leaf(Net.awayFromZero(85, 6, 0.5), 2, 3, 1), new Leaf(Net.awayFromZero(86, 4, 0.5), 4))));
    }

    private static void elementwise(Backend be, List<DynamicTest> t) {
        Leaf any = new Leaf(Net.uniform(40, 12, -2, 2), 3, 4);
        Leaf kinked = new Leaf(Net.awayFromZero(41, 12, 0.1), 3, 4);
        Leaf positive = new Leaf(Net.uniform(42, 12, 0.2, 3), 3, 4);
        t.add(unary(be, "neg", 43, Ops::neg, any));
        t.add(unary(be, "exp", 44, Ops::exp, any));
        t.add(unary(be, "log", 45, Ops::log, positive));
        t.add(unary(be, "sqrt", 46, Ops::sqrt, positive));
        t.add(unary(be, "abs", 47, Ops::abs, kinked));
        t.add(unary(be, "pow 3", 48, x -> Ops.pow(x, 3), any));
        t.add(unary(be, "pow 0.5", 49, x -> Ops.pow(x, 0.5), positive));
        t.add(unary(be, "pow -1.5", 50, x -> Ops.pow(x, -1.5), positive));
        t.add(unary(be, "sigmoid", 51, Ops::sigmoid, any));
        t.add(unary(be, "tanh", 52, Ops::tanh, any));
        t.add(unary(be, "relu", 53, Ops::relu, kinked));
        t.add(unary(be, "threshold (gradient 0)", 54, Ops::threshold, kinked));
        double[] c = Net.uniform(55, 12, -2, 2);
        for (int i = 0; i < c.length; i++) {
            if (Math.abs(Math.abs(c[i]) - 0.5) < 0.05) {
                c[i] += 0.2;  // keep away from the clamp's kinks at ±0.5
            }
        }
        t.add(unary(be, "clamp [-0.5, 0.5]", 56, x -> Ops.clamp(x, -0.5, 0.5), new Leaf(c, 3, 4)));
    }

    private static void reductions(Backend be, List<DynamicTest> t) {
        Leaf m = leaf(60, 3, 4);
        Leaf cube = leaf(61, 2, 3, 4);
        t.add(unary(be, "sum", 62, Ops::sum, m));
        t.add(unary(be, "mean", 63, Ops::mean, m));
        for (ReduceAxis axis : ReduceAxis.values()) {
            t.add(unary(be, "sum " + axis + " [3,4]", 64, x -> Ops.sum(x, axis), m));
            t.add(unary(be, "mean " + axis + " [3,4]", 65, x -> Ops.mean(x, axis), m));
            t.add(unary(be, "mean " + axis + " [2,3,4]", 66, x -> Ops.mean(x, axis), cube));
        }
        t.add(unary(be, "sum of a vector [5]", 67, Ops::sum, leaf(68, 5)));
    }

    private static DynamicTest unary(Backend be, String name, long seed, UnaryOperator<Variable> op, Leaf x) {
        return DynamicTest.dynamicTest(name, () -> GradCheck.check(be, name, seed, v -> op.apply(v.get(0)), x));
    }

    private static DynamicTest binary(Backend be, String name, long seed, int[] a, int[] b,
                                      BinaryOperator<Variable> op) {
        Function<List<Variable>, Variable> f = v -> op.apply(v.get(0), v.get(1));
        return DynamicTest.dynamicTest(name, () -> GradCheck.check(be, name, seed, f,
                leaf(seed * 3, a), leaf(seed * 3 + 1, b)));
    }

    private static Leaf leaf(long seed, int... dims) {
        return new Leaf(Net.uniform(seed, Net.count(dims), -1, 1), dims);
    }
}
