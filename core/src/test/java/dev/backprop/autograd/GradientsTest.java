package dev.backprop.autograd;

import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Gradients} takes a contribution of the input's number of elements in another shape, as its class comment
 * promises, also when it is summed into an earlier contribution (the second use of an input).
 */
class GradientsTest {
    /** A user's flatten op whose backward hands on its output's gradient as it is, {@code [6]} for {@code [2, 3]}. */
    private static Variable flatten(Variable x, boolean give) {
        return Tape.record("my_flatten", x.value().reshape(-1), (g, grads) -> {
            if (give) {
                grads.give(0, g.copy());
            } else {
                grads.add(0, g);
            }
        }, x);
    }

    @Test
    void contributionsInAnotherShapeAccumulate() {
        // PyTorch: x = torch.arange(1., 7.).reshape(2, 3).requires_grad_(); h = x * 1
        // (h.reshape(6) * w1 + h.reshape(6) * w2).sum().backward() with w1 = 1..6, w2 = 10..60:
        // x.grad = [[11, 22, 33], [44, 55, 66]], the sum of both uses' gradients in x's shape.
        for (boolean give : new boolean[] {false, true}) {
            for (boolean leaf : new boolean[] {false, true}) {
                try (ReferenceBackend be = new ReferenceBackend(); Scope s = Scope.open();
                     Variable x = Variable.parameter(Tensor.of(be, new float[] {1, 2, 3, 4, 5, 6}, 2, 3))) {
                    Variable w1 = Variable.constant(Tensor.of(be, new float[] {1, 2, 3, 4, 5, 6}, 6));
                    Variable w2 = Variable.constant(Tensor.of(be, new float[] {10, 20, 30, 40, 50, 60}, 6));
                    try (Tape tape = Tape.open()) {
                        Variable h = leaf ? x : Ops.scale(x, 1.0);
                        Variable y = Ops.add(Ops.mul(flatten(h, give), w1), Ops.mul(flatten(h, give), w2));
                        Ops.sum(y).backward();
                    }
                    String what = (give ? "give" : "add") + (leaf ? " into a leaf" : " into an intermediate");
                    assertEquals(Shape.of(2, 3), x.grad().shape(), what);
                    assertArrayEquals(new float[] {11, 22, 33, 44, 55, 66}, x.grad().toFloatArray(), what);
                }
            }
        }
    }
}
