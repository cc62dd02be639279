package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;

/**
 * Sums, means and maxima over a whole tensor, per row or per column (a tensor of rank ≥ 2 is viewed as a
 * matrix whose columns are its last dimension), and argmax per row.
 */
public final class Reductions {
    private Reductions() {
    }

    /**
     * Reduces contiguous floating {@code x} along {@code axis} into {@code out} of the same dtype, not
     * overlapping {@code x}, whose shape is the result's, dimensions of 1 aside: {@code []} for ALL,
     * {@code [cols]} for PER_COLUMN, {@code [rows]} or {@code x}'s dimensions before the last for PER_ROW
     * (a {@code [2, 3, 4]} gives {@code [6]} or {@code [2, 3]}, and {@code [2, 3, 1]} as PyTorch's keepdim).
     *
     * @param op   the reduction
     * @param axis what to combine
     * @param x    the operand
     * @param out  the result, written
     */
    public static void reduce(ReduceOp op, ReduceAxis axis, Tensor x, Tensor out) {
        String name = "reduce " + op + " " + axis;
        Backend be = Checks.backendOf(name, x, out);
        Checks.floating(name, x);
        Checks.sameDType(name, x, out);
        Checks.contiguous(name, x);
        Checks.contiguous(name, out);
        int rows = x.shape().rows(), cols = x.shape().cols();
        int len = axis.resultLength(rows, cols);
        switch (axis) {
            case ALL -> {
                if (out.size() != 1) {
                    Checks.outShape(name, "out", out, Shape.of(), "input " + x.shape());
                }
            }
            case PER_ROW -> rowsOut(name, x, out);
            case PER_COLUMN -> {
                if (!Checks.vectorOf(out.shape(), cols)) {
                    Checks.outShape(name, "out", out, Shape.of(cols), "input " + x.shape());
                }
            }
        }
        if (x.size() == 0 && (op != ReduceOp.SUM)) {
            throw new ShapeMismatchException(name + ": " + op + " of an empty tensor " + x.shape());
        }
        Checks.disjoint(name, x, out);
        if (len == 0) {
            return;
        }
        Tensor.written(out);
        be.reduce(op, axis, rows, cols, x.buffer(), x.offset(), out.buffer(), out.offset());
    }

    /**
     * Refuses an {@code out} for one value per row of {@code x} unless it is {@code [rows]} or {@code x}'s
     * dimensions before the last (PyTorch's {@code keepdim} form included), dimensions of 1 aside.
     */
    private static void rowsOut(String name, Tensor x, Tensor out) {
        int rows = x.shape().rows();
        if (Checks.vectorOf(out.shape(), rows)) {
            return;
        }
        int[] d = x.shape().dims();
        Shape leading = Shape.of(java.util.Arrays.copyOf(d, Math.max(0, d.length - 1)));
        if (!Checks.sameDimsButOnes(out.shape(), leading)) {
            Shape vector = Shape.of(rows);
            throw new ShapeMismatchException(name + ": out is " + out.shape() + ", expected " + vector
                    + (Checks.sameDimsButOnes(leading, vector) ? "" : " or " + leading) + " for input " + x.shape());
        }
    }

    /**
     * A new tensor with the reduction: shape {@code []} for ALL, {@code [rows]} for PER_ROW,
     *  {@code [cols]} for PER_COLUMN.
     *
     * @param op   the reduction
     * @param axis what to combine
     * @param x    the operand
     * @return the result
     */
    public static Tensor reduce(ReduceOp op, ReduceAxis axis, Tensor x) {
        Checks.backendOf("reduce", x);
        Shape s = switch (axis) {
            case ALL -> Shape.of();
            case PER_ROW -> Shape.of(x.shape().rows());
            case PER_COLUMN -> Shape.of(x.shape().cols());
        };
        Tensor out = Tensor.empty(x.backend(), x.dtype(), s);
        return Elementwise.closeOnFailure(out, () -> reduce(op, axis, x, out));
    }

    /**
     * Sum of all elements, shape {@code []}.
     *
     * @param x the operand
     * @return the sum
     */
    public static Tensor sum(Tensor x) {
        return reduce(ReduceOp.SUM, ReduceAxis.ALL, x);
    }

    /**
     * Mean of all elements, shape {@code []}.
     *
     * @param x the operand
     * @return the mean
     */
    public static Tensor mean(Tensor x) {
        return reduce(ReduceOp.MEAN, ReduceAxis.ALL, x);
    }

    /**
     * Maximum of all elements, shape {@code []}.
     *
     * @param x the operand
     * @return the maximum
     */
    public static Tensor max(Tensor x) {
        return reduce(ReduceOp.MAX, ReduceAxis.ALL, x);
    }

    /**
     * Column sums {@code [cols]} (the bias gradient from δ).
     *
     * @param x the operand, viewed as a matrix
     * @return the column sums
     */
    public static Tensor sumPerColumn(Tensor x) {
        return reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, x);
    }

    /**
     * Row sums {@code [rows]}.
     *
     * @param x the operand, viewed as a matrix
     * @return the row sums
     */
    public static Tensor sumPerRow(Tensor x) {
        return reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, x);
    }

    /**
     * Index of the largest element of each row (first on ties) into INT32 {@code out} of {@code [rows]} or
     * {@code x}'s dimensions before the last, dimensions of 1 aside.
     *
     * @param x   the operand, viewed as a matrix
     * @param out the indices, written
     */
    public static void argmaxRows(Tensor x, Tensor out) {
        String name = "argmaxRows";
        Backend be = Checks.backendOf(name, x, out);
        Checks.floating(name, x);
        Checks.dtype(name, out, DType.INT32);
        Checks.contiguous(name, x);
        Checks.contiguous(name, out);
        int rows = x.shape().rows(), cols = x.shape().cols();
        rowsOut(name, x, out);
        if (cols == 0 && rows > 0) {
            throw new ShapeMismatchException(name + ": rows of " + x.shape() + " are empty");
        }
        if (rows > 0) {
            Tensor.written(out);
            be.argmaxRows(rows, cols, x.buffer(), x.offset(), out.buffer(), out.offset());
        }
    }

    /**
     * A new INT32 tensor {@code [rows]} of per-row argmax indices.
     *
     * @param x the operand, viewed as a matrix
     * @return the indices
     */
    public static Tensor argmaxRows(Tensor x) {
        Checks.backendOf("argmaxRows", x);
        Tensor out = Tensor.empty(x.backend(), DType.INT32, Shape.of(x.shape().rows()));
        return Elementwise.closeOnFailure(out, () -> argmaxRows(x, out));
    }
}
