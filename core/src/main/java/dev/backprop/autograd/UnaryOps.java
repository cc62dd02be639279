package dev.backprop.autograd;

import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.Locale;

/** Elementwise functions as differentiable ops; their backward forms come from the SPI's unary backward. */
final class UnaryOps {
    private UnaryOps() {
    }

    static Variable apply(UnaryOp op, double p1, double p2, Variable x) {
        Tensor y = Elementwise.unary(op, p1, p2, x.value());
        String name = op.name().toLowerCase(Locale.ROOT);
        if (op == UnaryOp.THRESHOLD) {
            // Derivative 0 everywhere: nothing flows back, which the tape reports once.
            return Tape.record(name, y, (g, grads) -> grads.tape().warnZeroGradient("a hard threshold"), x);
        }
        if (op == UnaryOp.POW && p1 == 0) {
            // x^0 is constant: its gradient is 0, as PyTorch's, where p·x^(p-1)·g would be 0·∞ = NaN at x = 0.
            return Tape.record(name, y, (g, grads) -> { }, x);
        }
        return Tape.record(name, y, (g, grads) -> {
            Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape());
            Elementwise.unaryBackward(op, p1, p2, x.value(), g.reshape(x.shape().dims()), dx);
            grads.give(0, dx);
        }, x);
    }

    /** {@code alpha·x}. */
    static Variable scale(Variable x, double alpha) {
        Tensor y = Tensor.empty(x.backend(), x.dtype(), x.shape());
        Elementwise.scale(alpha, x.value(), y);
        return Tape.record("scale", y, (g, grads) -> {
            Tensor dx = Tensor.empty(g.backend(), g.dtype(), x.shape());
            Elementwise.scale(alpha, g, dx);
            grads.give(0, dx);
        }, x);
    }
}
