package dev.backprop.autograd;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

/** Row-wise softmax and log-softmax as differentiable ops (rows are samples, the last dimension classes). */
final class SoftmaxOps {
    private SoftmaxOps() {
    }

    /** {@code y = softmax(x)} per row; backward {@code dx = y∘(g - rowsum(g∘y))}. */
    static Variable softmax(Variable x) {
        Tensor y = Softmax.softmax(x.value());
        return Tape.record("softmax", y, (g, grads) -> {
            if (!grads.wants(0)) {
                return;
            }
            Tensor dx;
            try (Tensor gy = Elementwise.mul(g, y); Tensor s = Reductions.sumPerRow(gy)) {
                dx = Elementwise.sub(g, ReduceOps.perRowColumn(s, x.shape()));
            }
            Elementwise.binary(BinaryOp.MUL, dx, y, dx);
            grads.give(0, dx);
        }, x);
    }

    /** {@code y = log softmax(x)} per row; backward {@code dx = g - softmax(x)·rowsum(g)}. */
    static Variable logSoftmax(Variable x) {
        Tensor y = Softmax.logSoftmax(x.value());
        return Tape.record("logSoftmax", y, (g, grads) -> {
            if (!grads.wants(0)) {
                return;
            }
            Tensor dx;
            try (Tensor p = Elementwise.unary(UnaryOp.EXP, y); Tensor s = Reductions.sumPerRow(g)) {
                Elementwise.binary(BinaryOp.MUL, p, ReduceOps.perRowColumn(s, x.shape()), p);
                dx = Elementwise.sub(g, p);
            }
            grads.give(0, dx);
        }, x);
    }
}
