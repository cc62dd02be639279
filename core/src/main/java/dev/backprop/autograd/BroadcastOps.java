package dev.backprop.autograd;

import dev.backprop.backend.BinaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

/**
 * Add, subtract, multiply and divide with the SPI's broadcasting (an operand is the full result, a row, a
 * column or a scalar); the backward pass sums each gradient back over the broadcast dimensions.
 */
final class BroadcastOps {
    private BroadcastOps() {
    }

    static Variable add(Variable a, Variable b) {
        Tensor out = Elementwise.add(a.value(), b.value());
        return Tape.record("add", out, (g, grads) -> {
            grads.addReduced(0, g, false);
            grads.addReduced(1, g, false);
        }, a, b);
    }

    static Variable sub(Variable a, Variable b) {
        Tensor out = Elementwise.sub(a.value(), b.value());
        return Tape.record("sub", out, (g, grads) -> {
            grads.addReduced(0, g, false);
            if (grads.wants(1)) {
                Tensor neg = Tensor.empty(g.backend(), g.dtype(), g.shape());
                Elementwise.scale(-1.0, g, neg);
                grads.addReduced(1, neg, true);
            }
        }, a, b);
    }

    static Variable mul(Variable a, Variable b) {
        Tensor out = Elementwise.mul(a.value(), b.value());
        return Tape.record("mul", out, (g, grads) -> {
            if (grads.wants(0)) {
                grads.addReduced(0, Elementwise.mul(g, b.value()), true);
            }
            if (grads.wants(1)) {
                grads.addReduced(1, Elementwise.mul(g, a.value()), true);
            }
        }, a, b);
    }

    static Variable div(Variable a, Variable b) {
        Tensor out = Elementwise.div(a.value(), b.value());
        return Tape.record("div", out, (g, grads) -> {
            Tensor ga = Elementwise.div(g, b.value());
            if (grads.wants(1)) {
                // ∂(a/b)/∂b = -a/b² = -(g/b)·(a/b): reuses the output instead of squaring b.
                Tensor gb = Elementwise.mul(ga, out);
                Elementwise.scale(-1.0, gb, gb);
                grads.addReduced(1, gb, true);
            }
            grads.addReduced(0, ga, true);
        }, a, b);
    }

    static Variable binary(BinaryOp op, Variable a, Variable b) {
        return switch (op) {
            case ADD -> add(a, b);
            case SUB -> sub(a, b);
            case MUL -> mul(a, b);
            case DIV -> div(a, b);
            default -> throw new IllegalArgumentException(op + " is not differentiable; use "
                    + "dev.backprop.tensor.Elementwise.binary on values");
        };
    }
}
