package dev.backprop.tensor;

/** Shape checks shared by the image op families ({@link Convolution}, {@link Pooling}, {@link Normalization}). */
final class Images {
    private Images() {
    }

    /** {@code t} is a contiguous {@code [n, c, h, w]} tensor; the message names the role and both shapes. */
    static void check(String op, String role, Tensor t, int n, int c, int h, int w) {
        Shape want = Shape.of(n, c, h, w);
        if (!t.shape().equals(want)) {
            throw new ShapeMismatchException(op + ": " + role + " is " + t.shape() + ", expected " + want);
        }
        Checks.contiguous(op, t);
    }

    /** {@code t} is a contiguous vector of {@code n} elements (any shape of that size, e.g. {@code [n]}). */
    static void vector(String op, String role, Tensor t, int n) {
        if (t.size() != n) {
            throw new ShapeMismatchException(op + ": " + role + " " + t.shape() + " needs " + n + " elements");
        }
        Checks.contiguous(op, t);
    }

    /** No two of the (non-null) outputs share buffer elements. */
    static void mutuallyDisjoint(String op, Tensor... outs) {
        for (int i = 0; i < outs.length; i++) {
            for (int j = i + 1; j < outs.length; j++) {
                if (outs[i] != null && outs[j] != null) {
                    Checks.disjoint(op, outs[i], outs[j]);
                }
            }
        }
    }
}
