package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;

/**
 * Argument checks shared by the op families, so every op rejects bad input the same way, in core, before a
 * backend sees it. Messages start with the op name and give every shape involved.
 */
final class Checks {
    private Checks() {
    }

    /** All tensors open and on one backend; returns that backend. */
    static Backend backendOf(String op, Tensor... ts) {
        Backend b = null;
        Tensor first = null;
        for (Tensor t : ts) {
            if (t == null) {
                continue;
            }
            t.checkOpen();
            if (b == null) {
                b = t.backend();
                first = t;
            } else if (t.backend() != b) {
                String two = b.name().equals(t.backend().name()) ? " (two separate " + b.name()
                        + " backends: make one and share it)" : "";
                throw new BackendMismatchException(op + ": operands live on different backends: " + first
                        + " and " + t + two + "; move one with Tensor.to(backend)");
            }
        }
        return b;
    }

    static void floating(String op, Tensor t) {
        if (!t.dtype().isFloating()) {
            throw new DTypeMismatchException(op + ": needs FLOAT32 or FLOAT64, got " + t.dtype() + " tensor "
                    + t.shape());
        }
    }

    static void dtype(String op, Tensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new DTypeMismatchException(op + ": expected " + expected + ", got " + t.dtype() + " tensor "
                    + t.shape());
        }
    }

    /** Every tensor has the dtype of the first. */
    static void sameDType(String op, Tensor... ts) {
        DType d = null;
        for (Tensor t : ts) {
            if (t == null) {
                continue;
            }
            if (d == null) {
                d = t.dtype();
            } else if (t.dtype() != d) {
                throw new DTypeMismatchException(op + ": mixed dtypes " + d + " and " + t.dtype() + " (tensor "
                        + t.shape() + ")");
            }
        }
    }

    static void contiguous(String op, Tensor t) {
        if (!t.isContiguous()) {
            throw new ShapeMismatchException(op + ": needs a contiguous tensor; " + t.shape()
                    + " is a strided view (copy() it first)");
        }
    }

    static void sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new ShapeMismatchException(op + ": sizes differ: " + a.shape() + " and " + b.shape());
        }
    }

    static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new ShapeMismatchException(op + ": shapes differ: " + a.shape() + " and " + b.shape());
        }
    }

    /**
     * Refuses an output (or an operand that must match one) whose shape is not {@code expected}, dimensions of 1
     * aside: a {@code [6, 4]} or {@code [3, 2, 4]} holds as many elements as a {@code [2, 3, 4]} result but is not
     * its shape (PyTorch resizes such an {@code out=} or refuses it), while {@code [1, 2, 3, 4]} is the same layout.
     *
     * @param what   the tensor's name in the message ({@code "out"}, {@code "dx"})
     * @param source what {@code expected} is the shape for, in the message ({@code "[2, 3, 4] ADD [4]"}); callers
     *               on a hot path test {@link #sameDimsButOnes} first so the message is built only for a refusal
     */
    static void outShape(String op, String what, Tensor out, Shape expected, String source) {
        if (!sameDimsButOnes(out.shape(), expected)) {
            throw new ShapeMismatchException(op + ": " + what + " is " + out.shape() + ", expected " + expected
                    + " for " + source);
        }
    }

    /** Whether two shapes list the same dimensions once every dimension of 1 is dropped. */
    static boolean sameDimsButOnes(Shape s, Shape t) {
        int i = 0, j = 0;
        while (true) {
            while (i < s.rank() && s.dim(i) == 1) {
                i++;
            }
            while (j < t.rank() && t.dim(j) == 1) {
                j++;
            }
            if (i == s.rank() || j == t.rank()) {
                return i == s.rank() && j == t.rank();
            }
            if (s.dim(i++) != t.dim(j++)) {
                return false;
            }
        }
    }

    /** Whether {@code s} is {@code [n]}, dimensions of 1 aside ({@link #sameDimsButOnes}), without allocating. */
    static boolean vectorOf(Shape s, long n) {
        if (s.size() != n) {
            return false;
        }
        int notOne = 0;
        for (int i = 0; i < s.rank(); i++) {
            notOne += s.dim(i) == 1 ? 0 : 1;
        }
        return notOne == (n == 1 ? 0 : 1);
    }

    /**
     * The operands of an elementwise map from {@code x} into {@code out}: a floating {@code x}, the same dtype,
     * both contiguous, {@code out} of {@code x}'s shape (see {@link #outShape}), and {@code out} disjoint from
     * {@code x} or {@code x} itself. {@code outName} names {@code out} in the messages ({@code "out"}, {@code "y"}).
     */
    static void elementwise(String op, Tensor x, Tensor out, String outName) {
        floating(op, x);
        sameDType(op, x, out);
        contiguous(op, x);
        contiguous(op, out);
        if (!sameDimsButOnes(out.shape(), x.shape())) {
            outShape(op, outName, out, x.shape(), "input " + x.shape());
        }
        disjointOrSame(op, x, out);
    }

    static void rank(String op, Tensor t, int rank) {
        if (t.shape().rank() != rank) {
            throw new ShapeMismatchException(op + ": needs rank " + rank + ", got " + t.shape());
        }
    }

    /** Last element index + 1 of a tensor inside its buffer. */
    static long end(Tensor t) {
        if (t.size() == 0) {
            return t.offset();
        }
        return t.offset() + (long) (t.shape().rows() - 1) * t.rowStride() + t.shape().cols();
    }

    /** Whether the buffer ranges of two tensors intersect. */
    static boolean overlaps(Tensor a, Tensor b) {
        return a.buffer() == b.buffer() && a.offset() < end(b) && b.offset() < end(a);
    }

    /** {@code out} is either disjoint from {@code in} or exactly the same range (an allowed in-place op). */
    static void disjointOrSame(String op, Tensor in, Tensor out) {
        if (in != null && overlaps(in, out)
                && !(in.offset() == out.offset() && in.size() == out.size() && in.isContiguous()
                && out.isContiguous())) {
            throw new IllegalArgumentException(op + ": output " + out.shape() + " partially overlaps input "
                    + in.shape() + " in the same buffer");
        }
    }

    static void disjoint(String op, Tensor in, Tensor out) {
        if (in != null && overlaps(in, out)) {
            throw new IllegalArgumentException(op + ": output " + out.shape() + " overlaps input " + in.shape()
                    + " in the same buffer");
        }
    }

    static void finite(String op, String name, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(op + ": " + name + " must be finite, got " + v);
        }
    }
}
