package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;

import java.util.Arrays;

/**
 * Elementwise functions, their backward forms, broadcasting binary ops, and vector updates. Every operand is
 * contiguous. Methods taking an {@code out} tensor allocate nothing; the others return a new tensor.
 */
public final class Elementwise {
    private Elementwise() {
    }

    /**
     * {@code out = op(x; p1, p2)}; {@code out} may be {@code x} itself. See {@link UnaryOp} for p1/p2.
     *
     * @param op  the operation
     * @param p1  its first parameter, or 0
     * @param p2  its second parameter, or 0
     * @param x   the operand, floating
     * @param out the result, {@code x}'s shape (dimensions of 1 aside) and dtype
     */
    public static void unary(UnaryOp op, double p1, double p2, Tensor x, Tensor out) {
        String name = "unary " + op;
        Backend be = Checks.backendOf(name, x, out);
        Checks.elementwise(name, x, out, "out");
        Tensor.written(out);
        be.unary(op, p1, p2, x.buffer(), x.offset(), out.buffer(), out.offset(), x.size());
    }

    /**
     * A new tensor {@code op(x; p1, p2)}.
     *
     * @param op the operation
     * @param p1 its first parameter, or 0
     * @param p2 its second parameter, or 0
     * @param x  the operand, floating
     * @return the result
     */
    public static Tensor unary(UnaryOp op, double p1, double p2, Tensor x) {
        Checks.backendOf("unary " + op, x);
        Tensor out = Tensor.empty(x.backend(), x.dtype(), x.shape());
        return closeOnFailure(out, () -> unary(op, p1, p2, x, out));
    }

    /**
     * A new tensor {@code op(x)} for ops without parameters.
     *
     * @param op the operation
     * @param x  the operand, floating
     * @return the result
     */
    public static Tensor unary(UnaryOp op, Tensor x) {
        return unary(op, 0, 0, x);
    }

    /**
     * {@code dx = op'(x; p1, p2)·g}; {@code dx} may be {@code g} or {@code x}.
     *
     * @param op the operation
     * @param p1 its first parameter, or 0
     * @param p2 its second parameter, or 0
     * @param x  the forward input
     * @param g  the gradient of the forward output, {@code x}'s shape (dimensions of 1 aside)
     * @param dx the gradient of the input, written, {@code x}'s shape (dimensions of 1 aside)
     */
    public static void unaryBackward(UnaryOp op, double p1, double p2, Tensor x, Tensor g, Tensor dx) {
        String name = "unaryBackward " + op;
        Backend be = Checks.backendOf(name, x, g, dx);
        Checks.floating(name, x);
        Checks.sameDType(name, x, g, dx);
        for (Tensor t : new Tensor[] {x, g, dx}) {
            Checks.contiguous(name, t);
        }
        if (!Checks.sameDimsButOnes(g.shape(), x.shape()) || !Checks.sameDimsButOnes(dx.shape(), x.shape())) {
            Checks.outShape(name, "g", g, x.shape(), "input " + x.shape());
            Checks.outShape(name, "dx", dx, x.shape(), "input " + x.shape());
        }
        Checks.disjointOrSame(name, x, dx);
        Checks.disjointOrSame(name, g, dx);
        Tensor.written(dx);
        be.unaryBackward(op, p1, p2, x.buffer(), x.offset(), g.buffer(), g.offset(), dx.buffer(), dx.offset(),
                x.size());
    }

    /**
     * {@code out = a op b} with broadcasting restricted to what the SPI offers: viewing each operand as a
     * matrix (last dimension = columns), an operand is the full result, a row vector ({@code [C]} or
     * {@code [1, C]}), a column vector ({@code [R, 1]}) or a single element. A full operand or a column also
     * has the result's dimensions before the last, leading 1s aside, as PyTorch's broadcasting needs
     * ({@code [3, 2, 4]} and {@code [6, 1]} are refused against {@code [2, 3, 4]}). {@code out} must have the
     * result's shape ({@link #resultShape}), dimensions of 1 aside ({@code [6, 4]} is refused for a
     * {@code [2, 3, 4]} result), and may be a full operand itself.
     *
     * @param op  the operation
     * @param a   the first operand
     * @param b   the second operand
     * @param out the result
     */
    public static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        String name = "binary " + op;
        Backend be = Checks.backendOf(name, a, b, out);
        Checks.sameDType(name, a, b, out);
        if (op == BinaryOp.DIV && a.dtype() == DType.INT32) {
            throw new DTypeMismatchException(name + ": not defined for INT32");
        }
        Checks.contiguous(name, a);
        Checks.contiguous(name, b);
        Checks.contiguous(name, out);
        Shape rs = resultShape(name, a.shape(), b.shape());
        int rows = rs.rows(), cols = rs.cols();
        if (!Checks.sameDimsButOnes(out.shape(), rs)) {
            Checks.outShape(name, "out", out, rs, a.shape() + " " + op + " " + b.shape());
        }
        Broadcast ba = mode(a.shape(), rows, cols), bb = mode(b.shape(), rows, cols);
        checkAlias(name, a, ba, out);
        checkAlias(name, b, bb, out);
        if (rs.size() == 0) {
            return;
        }
        Tensor.written(out);
        be.binary(op, rows, cols, a.buffer(), a.offset(), ba, b.buffer(), b.offset(), bb, out.buffer(),
                out.offset());
    }

    private static void checkAlias(String name, Tensor in, Broadcast mode, Tensor out) {
        if (mode == Broadcast.FULL) {
            Checks.disjointOrSame(name, in, out);
        } else {
            Checks.disjoint(name, in, out);
        }
    }

    /**
     * A new tensor {@code a op b} (see {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}).
     *
     * @param op the operation
     * @param a  the first operand
     * @param b  the second operand
     * @return the result
     */
    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Checks.backendOf("binary " + op, a, b);
        Shape rs = resultShape("binary " + op, a.shape(), b.shape());
        Tensor out = Tensor.empty(a.backend(), a.dtype(), rs);
        return closeOnFailure(out, () -> binary(op, a, b, out));
    }

    /**
     * The broadcast result shape of two operands, as PyTorch's: the dimensions aligned from the last, each the
     * one that is not 1 ({@code [N, C]} with {@code [1, 1, C]} gives {@code [1, N, C]}; a column {@code [2, 3, 1]}
     * with a row {@code [4]} gives {@code [2, 3, 4]}), for the operands the SPI can broadcast (see
     * {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}).
     *
     * @param op the operation's name, for the message
     * @param a  the first operand's shape
     * @param b  the second operand's shape
     * @return the result's shape
     * @throws ShapeMismatchException when the shapes do not broadcast
     */
    public static Shape resultShape(String op, Shape a, Shape b) {
        int ar = a.rows(), ac = a.cols(), br = b.rows(), bc = b.cols();
        // The dimension that is not 1 wins, as in PyTorch (0 against 1 gives 0).
        int rows = ar == 1 ? br : ar, cols = ac == 1 ? bc : ac;
        boolean ok = (br == rows || br == 1) && (bc == cols || bc == 1);
        Shape result = null;
        if (ok) {
            Broadcast ma = mode(a, rows, cols), mb = mode(b, rows, cols);
            ok = ma != null && mb != null;
            result = ok ? aligned(a, b) : null;
            if (ok && !(result.size() == (long) rows * cols && spansLike(a, ma, result)
                    && spansLike(b, mb, result))) {
                throw new ShapeMismatchException(op + ": cannot broadcast " + a + " with " + b + ": the dimensions "
                        + "before the last differ (" + Arrays.toString(leadingDims(a)) + " and "
                        + Arrays.toString(leadingDims(b)) + ", leading 1s aside), as PyTorch refuses; reshape one "
                        + "operand to the other's dimensions");
            }
        }
        if (!ok) {
            throw new ShapeMismatchException(op + ": cannot broadcast " + a + " with " + b
                    + " (an operand must be the full shape, a row [C], a column [R, 1] or a scalar)");
        }
        return result;
    }

    /**
     * Whether an operand that spans the result's rows (a full operand or a column) has the result's dimensions
     * before the last, leading 1s aside, as PyTorch's broadcasting needs: a {@code [3, 2, 4]} is not a
     * {@code [2, 3, 4]} although both are 6 rows of 4.
     */
    private static boolean spansLike(Shape s, Broadcast mode, Shape result) {
        if (mode != Broadcast.FULL && mode != Broadcast.COLUMN || s.equals(result)) {
            return true;
        }
        return Arrays.equals(leadingDims(s), leadingDims(result));
    }

    /**
     * PyTorch's broadcast shape: the dimensions aligned from the last, each the one that is not 1 ({@code [2, 3, 1]}
     * and {@code [4]} give {@code [2, 3, 4]}; {@code [N, C]} and {@code [1, 1, C]} give {@code [1, N, C]}). An
     * operand that already is that shape is returned itself, so the common cases allocate nothing.
     */
    private static Shape aligned(Shape a, Shape b) {
        if (covers(a, b)) {
            return a;
        }
        if (covers(b, a)) {
            return b;
        }
        int n = Math.max(a.rank(), b.rank());
        int[] d = new int[n];
        for (int i = 1; i <= n; i++) {
            int u = i <= a.rank() ? a.dim(-i) : 1, v = i <= b.rank() ? b.dim(-i) : 1;
            d[n - i] = u == 1 ? v : u;
        }
        return Shape.of(d);
    }

    /** Whether {@code s} is the broadcast shape of itself and {@code t}: at least its rank, and t's 1s aside. */
    private static boolean covers(Shape s, Shape t) {
        if (s.rank() < t.rank()) {
            return false;
        }
        for (int i = 1; i <= t.rank(); i++) {
            int v = t.dim(-i);
            if (v != 1 && v != s.dim(-i)) {
                return false;
            }
        }
        return true;
    }

    /** The dimensions before the last, without leading 1s. */
    private static int[] leadingDims(Shape s) {
        int[] d = s.dims();
        int from = 0;
        while (from < d.length - 1 && d[from] == 1) {
            from++;
        }
        return Arrays.copyOfRange(d, from, Math.max(from, d.length - 1));
    }

    /** How a shape covers a rows × cols result, or null if it cannot. */
    private static Broadcast mode(Shape s, int rows, int cols) {
        if (s.size() == (long) rows * cols && s.cols() == cols) {
            return Broadcast.FULL;
        }
        if (s.size() == 1) {
            return Broadcast.SCALAR;
        }
        if (s.rows() == 1 && s.cols() == cols) {
            return Broadcast.ROW;
        }
        if (s.cols() == 1 && s.rows() == rows && s.rank() >= 2) {
            return Broadcast.COLUMN;
        }
        return null;
    }

    /**
     * A new tensor {@code a + b}, broadcasting as {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the sum
     */
    public static Tensor add(Tensor a, Tensor b) {
        return binary(BinaryOp.ADD, a, b);
    }

    /**
     * A new tensor {@code a - b}, broadcasting as {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the difference
     */
    public static Tensor sub(Tensor a, Tensor b) {
        return binary(BinaryOp.SUB, a, b);
    }

    /**
     * A new tensor {@code a ∘ b} (elementwise), broadcasting as {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}.
     *
     * @param a the first operand
     * @param b the second operand
     * @return the product
     */
    public static Tensor mul(Tensor a, Tensor b) {
        return binary(BinaryOp.MUL, a, b);
    }

    /**
     * A new tensor {@code a / b} (elementwise), broadcasting as {@link #binary(BinaryOp, Tensor, Tensor, Tensor)}.
     *
     * @param a the dividend
     * @param b the divisor
     * @return the quotient
     */
    public static Tensor div(Tensor a, Tensor b) {
        return binary(BinaryOp.DIV, a, b);
    }

    /**
     * {@code y = alpha·x + beta·y}; {@code y} may be {@code x}. With {@code beta == 0} y is not read.
     *
     * @param alpha the factor of {@code x}
     * @param x     the added tensor
     * @param beta  the factor of {@code y}
     * @param y     the result, updated in place, {@code x}'s shape (dimensions of 1 aside)
     */
    public static void axpby(double alpha, Tensor x, double beta, Tensor y) {
        String name = "axpby";
        Backend be = Checks.backendOf(name, x, y);
        Checks.elementwise(name, x, y, "y");
        Checks.finite(name, "alpha", alpha);
        Checks.finite(name, "beta", beta);
        Tensor.written(y);
        be.axpby(x.size(), alpha, x.buffer(), x.offset(), beta, y.buffer(), y.offset());
    }

    /**
     * {@code y += alpha·x}.
     *
     * @param alpha the factor of {@code x}
     * @param x     the added tensor
     * @param y     the result, updated in place, {@code x}'s shape (dimensions of 1 aside)
     */
    public static void axpy(double alpha, Tensor x, Tensor y) {
        axpby(alpha, x, 1.0, y);
    }

    /**
     * {@code out = alpha·x}.
     *
     * @param alpha the factor
     * @param x     the operand
     * @param out   the result, {@code x}'s shape (dimensions of 1 aside); may be {@code x}
     */
    public static void scale(double alpha, Tensor x, Tensor out) {
        axpby(alpha, x, 0.0, out);
    }

    /**
     * Sets every element of a contiguous tensor to {@code value}.
     *
     * @param t     the tensor
     * @param value the value (for INT32 a whole number in the int range)
     */
    public static void fill(Tensor t, double value) {
        Backend be = Checks.backendOf("fill", t);
        Checks.contiguous("fill", t);
        // PyTorch refuses NaN, infinities and values past the int range alike ("value cannot be converted to type
        // int without overflow"); a cast would turn them into 0 or the int's bounds.
        if (t.dtype() == DType.INT32 && (value != Math.rint(value) || value < Integer.MIN_VALUE
                || value > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("fill: INT32 tensor " + t.shape() + " cannot hold " + value);
        }
        Tensor.written(t);
        be.fill(t.buffer(), t.offset(), t.size(), value);
    }

    /**
     * Copies {@code src} into {@code dst} (same size and dtype, both contiguous, disjoint).
     *
     * @param src the source
     * @param dst the destination
     */
    public static void copy(Tensor src, Tensor dst) {
        Backend be = Checks.backendOf("copy", src, dst);
        Checks.sameDType("copy", src, dst);
        Checks.contiguous("copy", src);
        Checks.contiguous("copy", dst);
        Checks.sameSize("copy", src, dst);
        Checks.disjointOrSame("copy", src, dst);
        Tensor.written(dst);
        be.copy(src.buffer(), src.offset(), dst.buffer(), dst.offset(), src.size());
    }

    /**
     * {@code out = xᵀ}: {@code x} is a contiguous {@code [R, C]} tensor, {@code out} a contiguous
     *  {@code [C, R]} one of the same dtype (any dtype), disjoint from {@code x}.
     *
     * @param x   the matrix
     * @param out its transpose, written
     */
    public static void transpose(Tensor x, Tensor out) {
        Backend be = Checks.backendOf("transpose", x, out);
        Checks.rank("transpose", x, 2);
        Checks.rank("transpose", out, 2);
        Checks.sameDType("transpose", x, out);
        Checks.contiguous("transpose", x);
        Checks.contiguous("transpose", out);
        int r = x.shape().dim(0), c = x.shape().dim(1);
        if (out.shape().dim(0) != c || out.shape().dim(1) != r) {
            throw new ShapeMismatchException("transpose: out is " + out.shape() + ", expected [" + c + ", " + r
                    + "] for input " + x.shape());
        }
        Checks.disjoint("transpose", x, out);
        if (x.size() > 0) {
            Tensor.written(out);
            be.transpose(r, c, x.buffer(), x.offset(), out.buffer(), out.offset());
        }
    }

    /**
     * A new tensor {@code xᵀ} (see {@link #transpose(Tensor, Tensor)}).
     *
     * @param x the matrix
     * @return its transpose
     */
    public static Tensor transpose(Tensor x) {
        Checks.backendOf("transpose", x);
        Checks.rank("transpose", x, 2);
        Tensor out = Tensor.empty(x.backend(), x.dtype(), Shape.of(x.shape().dim(1), x.shape().dim(0)));
        return closeOnFailure(out, () -> transpose(x, out));
    }

    /**
     * {@code out[r] = x[indices[r]]}: gathers rows (along dimension 0) of {@code x} into {@code out}, whose shape
     * is {@code [indices.size(), x's other dimensions...]}. An index outside {@code [0, x.shape()[0])} gives a
     * row of zeros; read the indices on the host first when that must be an error.
     *
     * @param x       the rows to gather from
     * @param indices INT32 row indices
     * @param out     the gathered rows, written
     * @throws DTypeMismatchException when indices are not INT32, or x and out differ in dtype
     * @throws ShapeMismatchException when indices are not a vector, x is a scalar, or out has the wrong shape
     */
    public static void gatherRows(Tensor x, Tensor indices, Tensor out) {
        Backend be = Checks.backendOf("gatherRows", x, indices, out);
        Checks.dtype("gatherRows", indices, DType.INT32);
        Checks.sameDType("gatherRows", x, out);
        if (indices.shape().rank() != 1 || x.shape().rank() < 1) {
            throw new ShapeMismatchException("gatherRows: needs indices [N] and x with at least one dimension, got "
                    + "indices " + indices.shape() + " and x " + x.shape());
        }
        int[] want = x.shape().dims();
        want[0] = indices.shape().dim(0);
        if (!Arrays.equals(want, out.shape().dims())) {
            throw new ShapeMismatchException("gatherRows: out is " + out.shape() + ", expected " + Shape.of(want)
                    + " for x " + x.shape() + " and indices " + indices.shape());
        }
        Checks.contiguous("gatherRows", x);
        Checks.contiguous("gatherRows", indices);
        Checks.contiguous("gatherRows", out);
        Checks.disjoint("gatherRows", x, out);
        Checks.disjoint("gatherRows", indices, out);
        int srcRows = x.shape().dim(0);
        long cols = 1;
        for (int d = 1; d < want.length; d++) {
            cols *= want[d];
        }
        if (cols > Integer.MAX_VALUE) {
            throw new ShapeMismatchException("gatherRows: rows of x " + x.shape() + " have more than 2^31-1 elements");
        }
        if (out.size() > 0) {
            Tensor.written(out);
            be.gatherRows(want[0], (int) cols, x.buffer(), x.offset(), srcRows, indices.buffer(), indices.offset(),
                    out.buffer(), out.offset());
        }
    }

    static Tensor closeOnFailure(Tensor out, Runnable body) {
        try {
            body.run();
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
