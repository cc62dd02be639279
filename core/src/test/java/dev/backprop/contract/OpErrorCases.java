package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.BackendMismatchException;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.backprop.contract.Rejections.rejects;

/**
 * Bad input to every op family, through the facades: shape mismatches (the message names both shapes), dtype
 * mismatches, operands on another backend, non-finite scalars and overlapping outputs. Each rejected call must
 * leave its output unchanged and leak nothing (see {@link Rejections}).
 */
final class OpErrorCases {
    private OpErrorCases() {
    }

    private static final Class<ShapeMismatchException> SHAPE = ShapeMismatchException.class;
    private static final Class<DTypeMismatchException> DTYPE = DTypeMismatchException.class;
    private static final Class<BackendMismatchException> BACKEND = BackendMismatchException.class;
    private static final Class<IllegalArgumentException> ARG = IllegalArgumentException.class;

    /** A tensor of seeded values (distinct, so an unwanted write shows). */
    static Tensor t(Backend be, DType dt, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        double[] v = dt == DType.INT32 ? Inputs.ints(n, n, -9, 9) : Inputs.uniform(n, n, 0.5, 2, dt);
        return Oracle.put(be, dt, v, dims);
    }

    static Stream<DynamicTest> gemm(Oracle o) {
        Backend be = o.backend(), other = o.reference();
        DType f = DType.FLOAT32, i = DType.INT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("gemm inner dimensions", be, SHAPE, b -> {
            Tensor out = t(b, f, 128, 10);
            Tensor x1 = t(b, f, 128, 784);
            Tensor x2 = t(b, f, 256, 10);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "gemm", "[128, 784]", "[256, 10]"));
        c.add(rejects("gemm inner dimensions with transB", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 5);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, true, 1, x1, x2, 0, out), out);
        }, "[3, 4]", "[4, 5]", "transB=true"));
        c.add(rejects("gemm C of the wrong shape", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 6);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 1, out), out);
        }, "[3, 6]", "[3, 5]"));
        c.add(rejects("gemm mixed ranks", be, SHAPE, b -> {
            Tensor out = t(b, f, 2, 3, 5);
            Tensor x1 = t(b, f, 2, 3, 4);
            Tensor x2 = t(b, f, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "[2, 3, 4]", "[4, 5]"));
        c.add(rejects("gemm batch sizes differ", be, SHAPE, b -> {
            Tensor out = t(b, f, 2, 3, 5);
            Tensor x1 = t(b, f, 2, 3, 4);
            Tensor x2 = t(b, f, 3, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "[2, 3, 4]", "[3, 4, 5]"));
        c.add(rejects("gemm on INT32", be, DTYPE, b -> {
            Tensor out = t(b, i, 3, 5);
            Tensor x1 = t(b, i, 3, 4);
            Tensor x2 = t(b, i, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "INT32"));
        c.add(rejects("gemm mixed dtypes", be, DTYPE, b -> {
            Tensor out = t(b, f, 3, 5);
            DType second = o.float64() ? DType.FLOAT64 : i;
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, second, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "FLOAT32"));
        c.add(rejects("gemm operand on another backend", be, BACKEND, b -> {
            Tensor out = t(b, f, 3, 5);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(other, f, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, x1, x2, 0, out), out);
        }, "different backends"));
        c.add(rejects("gemm C overlapping A", be, ARG, b -> {
            Tensor whole = t(b, f, 8, 8);
            Tensor x1 = t(b, f, 4, 4);
            return new Rejections.Call(() -> MatMul.gemm(false, false, 1, whole.block(0, 0, 4, 4), x1, 0,
                    whole.block(2, 2, 4, 4)), whole);
        }, "overlaps"));
        c.add(rejects("gemm NaN alpha", be, ARG, b -> {
            Tensor out = t(b, f, 3, 5);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 4, 5);
            return new Rejections.Call(() -> MatMul.gemm(false, false, Double.NaN, x1, x2, 0, out), out);
        }, "alpha"));
        c.add(rejects("matmul inner dimensions (no tensor leaked)", be, SHAPE, b -> {
            Tensor x = t(b, f, 128, 784), w = t(b, f, 256, 10);
            return new Rejections.Call(() -> MatMul.matmul(x, w), null);
        }, "[128, 784]", "[256, 10]"));
        return c.stream();
    }

    static Stream<DynamicTest> elementwise(Oracle o) {
        Backend be = o.backend(), other = o.reference();
        DType f = DType.FLOAT32, i = DType.INT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("unary sizes differ", be, SHAPE, b -> {
            Tensor out = t(b, f, 13);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Elementwise.unary(UnaryOp.EXP, 0, 0, x1, out), out);
        }, "[3, 4]", "[13]"));
        c.add(rejects("unary on INT32", be, DTYPE, b -> {
            Tensor out = t(b, i, 5);
            Tensor x1 = t(b, i, 5);
            return new Rejections.Call(() -> Elementwise.unary(UnaryOp.RELU, 0, 0, x1, out), out);
        }, "INT32"));
        c.add(rejects("unary on a strided view", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 2);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Elementwise.unary(UnaryOp.EXP, 0, 0, x1.block(0, 1, 3, 2), out), out);
        }, "contiguous"));
        c.add(rejects("unary output partially overlapping its input", be, ARG, b -> {
            Tensor whole = t(b, f, 20);
            return new Rejections.Call(() -> Elementwise.unary(UnaryOp.EXP, 0, 0, whole.rows(0, 10), whole.rows(5, 15)),
                    whole);
        }, "overlaps"));
        c.add(rejects("unaryBackward gradient of another size", be, SHAPE, b -> {
            Tensor out = t(b, f, 6);
            Tensor x1 = t(b, f, 6);
            Tensor x2 = t(b, f, 7);
            return new Rejections.Call(() -> Elementwise.unaryBackward(UnaryOp.TANH, 0, 0, x1, x2, out), out);
        }, "[6]", "[7]"));
        c.add(rejects("binary shapes that do not broadcast", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 4);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 5, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.ADD, x1, x2, out), out);
        }, "[3, 4]", "[5, 4]"));
        c.add(rejects("binary output of the wrong shape", be, SHAPE, b -> {
            Tensor out = t(b, f, 4, 3);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.MUL, x1, x2, out), out);
        }, "[4, 3]", "[3, 4]"));
        c.add(rejects("binary DIV on INT32", be, DTYPE, b -> {
            Tensor out = t(b, i, 4);
            Tensor x1 = t(b, i, 4);
            Tensor x2 = t(b, i, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.DIV, x1, x2, out), out);
        }, "DIV", "INT32"));
        c.add(rejects("binary mixed dtypes", be, DTYPE, b -> {
            Tensor out = t(b, f, 4);
            Tensor x1 = t(b, f, 4);
            Tensor x2 = t(b, i, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.ADD, x1, x2, out), out);
        }, "FLOAT32", "INT32"));
        c.add(rejects("binary operand on another backend", be, BACKEND, b -> {
            Tensor out = t(b, f, 4);
            Tensor x1 = t(b, f, 4);
            Tensor x2 = t(other, f, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.ADD, x1, x2, out), out);
        }, "different backends"));
        c.add(rejects("binary broadcast operand inside the output", be, ARG, b -> {
            Tensor whole = t(b, f, 3, 4);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.ADD, x1, whole.rows(1, 2).reshape(4),
                    whole), whole);
        }, "overlaps"));
        c.add(rejects("axpby sizes differ", be, SHAPE, b -> {
            Tensor y = t(b, f, 5);
            Tensor x1 = t(b, f, 4);
            return new Rejections.Call(() -> Elementwise.axpby(1, x1, 1, y), y);
        }, "[4]", "[5]"));
        c.add(rejects("axpby infinite beta", be, ARG, b -> {
            Tensor y = t(b, f, 4);
            Tensor x1 = t(b, f, 4);
            return new Rejections.Call(() -> Elementwise.axpby(1, x1, Double.POSITIVE_INFINITY, y), y);
        }, "beta"));
        c.add(rejects("copy sizes differ", be, SHAPE, b -> {
            Tensor dst = t(b, f, 2, 3);
            Tensor x1 = t(b, f, 7);
            return new Rejections.Call(() -> Elementwise.copy(x1, dst), dst);
        }, "[7]", "[2, 3]"));
        c.add(rejects("copy mixed dtypes", be, DTYPE, b -> {
            Tensor dst = t(b, i, 6);
            Tensor x1 = t(b, f, 6);
            return new Rejections.Call(() -> Elementwise.copy(x1, dst), dst);
        }, "INT32"));
        c.add(rejects("fill INT32 with a fraction", be, ARG, b -> {
            Tensor dst = t(b, i, 6);
            return new Rejections.Call(() -> Elementwise.fill(dst, 2.5), dst);
        }, "2.5"));
        c.add(rejects("Tensor.full INT32 with a fraction", be, ARG, b -> new Rejections.Call(
                () -> Tensor.full(b, DType.INT32, 0.5, 3), null), "0.5"));
        c.add(rejects("transpose output of the wrong shape", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 4);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Elementwise.transpose(x1, out), out);
        }, "[3, 4]", "[4, 3]"));
        c.add(rejects("gatherRows output of the wrong shape", be, SHAPE, b -> {
            Tensor out = t(b, f, 4, 5);
            Tensor x1 = t(b, f, 10, 3);
            Tensor ix = t(b, i, 4);
            return new Rejections.Call(() -> Elementwise.gatherRows(x1, ix, out), out);
        }, "gatherRows", "[4, 5]", "[4, 3]", "[10, 3]"));
        c.add(rejects("gatherRows with FLOAT32 indices", be, DTYPE, b -> {
            Tensor out = t(b, f, 4, 3);
            Tensor x1 = t(b, f, 10, 3);
            Tensor ix = t(b, f, 4);
            return new Rejections.Call(() -> Elementwise.gatherRows(x1, ix, out), out);
        }, "gatherRows", "INT32", "FLOAT32"));
        c.add(rejects("gatherRows with a matrix of indices", be, SHAPE, b -> {
            Tensor out = t(b, f, 4, 3);
            Tensor x1 = t(b, f, 10, 3);
            Tensor ix = t(b, i, 2, 2);
            return new Rejections.Call(() -> Elementwise.gatherRows(x1, ix, out), out);
        }, "gatherRows", "[2, 2]"));
        c.add(rejects("gatherRows source on another backend", be, BACKEND, b -> {
            Tensor out = t(b, f, 4, 3);
            Tensor x1 = t(other, f, 10, 3);
            Tensor ix = t(b, i, 4);
            return new Rejections.Call(() -> Elementwise.gatherRows(x1, ix, out), out);
        }, "gatherRows"));
        return c.stream();
    }

    static Stream<DynamicTest> reductionsAndSoftmax(Oracle o) {
        Backend be = o.backend();
        DType f = DType.FLOAT32, i = DType.INT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("reduce output of the wrong size", be, SHAPE, b -> {
            Tensor out = t(b, f, 4);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Reductions.reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, x1, out), out);
        }, "[4]", "[3, 4]"));
        c.add(rejects("reduce MAX of an empty tensor", be, SHAPE, b -> {
            Tensor out = t(b, f, 1), empty = Tensor.empty(b, f, 0, 3);
            return new Rejections.Call(() -> Reductions.reduce(ReduceOp.MAX, ReduceAxis.ALL, empty, out), out);
        }, "[0, 3]"));
        c.add(rejects("reduce on INT32", be, DTYPE, b -> {
            Tensor out = t(b, i, 1);
            Tensor x1 = t(b, i, 3);
            return new Rejections.Call(() -> Reductions.reduce(ReduceOp.SUM, ReduceAxis.ALL, x1, out), out);
        }, "INT32"));
        c.add(rejects("argmaxRows into FLOAT32", be, DTYPE, b -> {
            Tensor out = t(b, f, 3);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Reductions.argmaxRows(x1, out), out);
        }, "INT32"));
        c.add(rejects("argmaxRows output of the wrong size", be, SHAPE, b -> {
            Tensor out = t(b, i, 4);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Reductions.argmaxRows(x1, out), out);
        }, "[4]", "[3, 4]"));
        c.add(rejects("softmaxRows output of another shape", be, SHAPE, b -> {
            Tensor out = t(b, f, 4, 3);
            Tensor x1 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Softmax.softmaxRows(false, x1, out), out);
        }, "[3, 4]", "[4, 3]"));
        c.add(rejects("softmaxCrossEntropy FLOAT32 labels", be, DTYPE, b -> {
            Tensor losses = t(b, f, 3);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, f, 3);
            Tensor x3 = t(b, f, 3, 4);
            return new Rejections.Call(() -> Softmax.softmaxCrossEntropy(x1, x2, losses, x3), losses);
        }, "INT32"));
        c.add(rejects("softmaxCrossEntropy labels of the wrong length", be, SHAPE, b -> {
            Tensor losses = t(b, f, 128);
            Tensor x1 = t(b, f, 128, 10);
            Tensor x2 = t(b, i, 127);
            Tensor x3 = t(b, f, 128, 10);
            return new Rejections.Call(() -> Softmax.softmaxCrossEntropy(x1, x2, losses,
                    x3), losses);
        }, "[128, 10]", "[127]"));
        c.add(rejects("softmaxCrossEntropy probs of another shape", be, SHAPE, b -> {
            Tensor probs = t(b, f, 3, 5);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, i, 3);
            Tensor x3 = t(b, f, 3);
            return new Rejections.Call(() -> Softmax.softmaxCrossEntropy(x1, x2, x3, probs), probs);
        }, "[3, 4]", "[3, 5]"));
        c.add(rejects("softmaxCrossEntropyBackward gradient of the wrong length", be, SHAPE, b -> {
            Tensor out = t(b, f, 3, 4);
            Tensor x1 = t(b, f, 3, 4);
            Tensor x2 = t(b, i, 3);
            Tensor x3 = t(b, f, 4);
            return new Rejections.Call(() -> Softmax.softmaxCrossEntropyBackward(x1, x2, x3, out), out);
        }, "[3, 4]", "[4]"));
        return c.stream();
    }

    static Stream<DynamicTest> updates(Oracle o) {
        Backend be = o.backend();
        DType f = DType.FLOAT32, i = DType.INT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("sgdUpdate gradient of another size", be, SHAPE, b -> {
            Tensor p = t(b, f, 10);
            Tensor x1 = t(b, f, 11);
            return new Rejections.Call(() -> Updates.sgdUpdate(p, x1, null, 0.1, 0, 0, false), p);
        }, "[10]", "[11]"));
        c.add(rejects("sgdUpdate momentum without velocity", be, ARG, b -> {
            Tensor p = t(b, f, 10);
            Tensor x1 = t(b, f, 10);
            return new Rejections.Call(() -> Updates.sgdUpdate(p, x1, null, 0.1, 0.9, 0, false), p);
        }, "velocity"));
        c.add(rejects("sgdUpdate gradient aliasing the parameter", be, ARG, b -> {
            Tensor p = t(b, f, 10);
            return new Rejections.Call(() -> Updates.sgdUpdate(p, p, null, 0.1, 0, 0, false), p);
        }, "overlaps"));
        c.add(rejects("sgdUpdate INT32 parameter", be, DTYPE, b -> {
            Tensor p = t(b, i, 10);
            Tensor x1 = t(b, i, 10);
            return new Rejections.Call(() -> Updates.sgdUpdate(p, x1, null, 0.1, 0, 0, false), p);
        }, "INT32"));
        c.add(rejects("adamUpdate step 0", be, ARG, b -> {
            Tensor p = t(b, f, 10);
            Tensor x1 = t(b, f, 10);
            Tensor x2 = t(b, f, 10);
            Tensor x3 = t(b, f, 10);
            return new Rejections.Call(() -> Updates.adamUpdate(p, x1, x2, x3, 1e-3, 0.9, 0.999,
                    1e-8, 0, false, 0), p);
        }, "step"));
        c.add(rejects("adamUpdate beta2 = 1", be, ARG, b -> {
            Tensor p = t(b, f, 10);
            Tensor x1 = t(b, f, 10);
            Tensor x2 = t(b, f, 10);
            Tensor x3 = t(b, f, 10);
            return new Rejections.Call(() -> Updates.adamUpdate(p, x1, x2, x3, 1e-3, 0.9, 1.0,
                    1e-8, 0, false, 1), p);
        }, "betas"));
        c.add(rejects("adamUpdate m aliasing v", be, ARG, b -> {
            Tensor p = t(b, f, 10), m = t(b, f, 10);
            Tensor x1 = t(b, f, 10);
            return new Rejections.Call(() -> Updates.adamUpdate(p, x1, m, m, 1e-3, 0.9, 0.999, 1e-8, 0, false, 1), p);
        }, "overlaps"));
        c.add(rejects("adamUpdate state of another size", be, SHAPE, b -> {
            Tensor p = t(b, f, 2, 5);
            Tensor x1 = t(b, f, 2, 5);
            Tensor x2 = t(b, f, 2, 5);
            Tensor x3 = t(b, f, 9);
            return new Rejections.Call(() -> Updates.adamUpdate(p, x1, x2, x3, 1e-3, 0.9, 0.999,
                    1e-8, 0, true, 1), p);
        }, "[2, 5]", "[9]"));
        return c.stream();
    }
}
