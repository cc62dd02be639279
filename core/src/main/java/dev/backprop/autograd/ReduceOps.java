package dev.backprop.autograd;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/** Sums and means (over everything, per row, per column) and reshapes as differentiable ops. */
final class ReduceOps {
    private ReduceOps() {
    }

    /**
     * Sum or mean of {@code x} viewed as a {@code rows × cols} matrix along {@code axis}; the backward pass
     * broadcasts the upstream gradient back over the reduced elements (divided by their count for a mean).
     */
    static Variable reduce(ReduceOp op, ReduceAxis axis, Variable x) {
        if (op == ReduceOp.MAX) {
            throw new IllegalArgumentException("max is not offered as a differentiable reduction; use "
                    + "dev.backprop.tensor.Reductions.max on values");
        }
        Tensor y = Reductions.reduce(op, axis, x.value());
        int rows = x.shape().rows(), cols = x.shape().cols();
        String name = op.name().toLowerCase(java.util.Locale.ROOT) + (axis == ReduceAxis.ALL ? "" : " " + axis);
        return Tape.record(name, y, (g, grads) -> {
            if (!grads.wants(0)) {
                return;
            }
            Tensor gb = switch (axis) {
                case ALL -> g;
                case PER_ROW -> perRowColumn(g, x.shape());
                case PER_COLUMN -> g.reshape(cols);
            };
            Tensor dx = Tensor.zeros(g.backend(), g.dtype(), x.shape().dims());
            Elementwise.binary(BinaryOp.ADD, dx, gb, dx);
            if (op == ReduceOp.MEAN) {
                long count = switch (axis) {
                    case ALL -> x.shape().size();
                    case PER_ROW -> cols;
                    case PER_COLUMN -> rows;
                };
                Elementwise.scale(1.0 / count, dx, dx);
            }
            grads.give(0, dx);
        }, x);
    }

    /**
     * One value per row of {@code x}'s matrix view ({@code [rows]}) as {@code x}'s shape with a last dimension of
     * 1 (PyTorch's {@code keepdim=True}), so that it broadcasts against {@code x} down each row.
     */
    static Tensor perRowColumn(Tensor perRow, Shape x) {
        int[] d = x.dims();
        if (d.length > 0) {
            d[d.length - 1] = 1;
        }
        return perRow.reshape(d);
    }

    /** The same elements with other dimensions (a view; one may be -1). */
    static Variable reshape(Variable x, int... dims) {
        Tensor v = x.value().reshape(dims);
        Shape in = x.shape();
        return Tape.record("reshape", v, (g, grads) -> grads.add(0, g.reshape(in.dims())), x);
    }
}
