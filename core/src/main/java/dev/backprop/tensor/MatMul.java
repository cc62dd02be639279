package dev.backprop.tensor;

import dev.backprop.backend.Backend;

/**
 * Matrix products. Operands are rank-2 tensors or 2-D views ({@link Tensor#block}), or rank-3 contiguous
 * tensors {@code [batch, rows, cols]} for the batched form.
 */
public final class MatMul {
    private MatMul() {
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C}, {@code op} transposing when its flag is set. Rank 2: A, B, C are
     * matrices or views. Rank 3: all three are contiguous {@code [batch, ·, ·]} with equal batch; each slice
     * is multiplied on its own. With {@code beta == 0} C's old contents are ignored.
     *
     * @param transA whether {@code op(A)} is {@code Aᵀ}
     * @param transB whether {@code op(B)} is {@code Bᵀ}
     * @param alpha  the product's factor
     * @param a      the left operand
     * @param b      the right operand
     * @param beta   the factor of C's old contents
     * @param c      the result, updated in place
     * @throws ShapeMismatchException  {@code gemm: inner dimensions differ: A is [128, 784], B is [256, 10] ...}
     * @throws DTypeMismatchException  for INT32 or mixed dtypes
     * @throws BackendMismatchException when the operands live on different backends
     * @throws IllegalArgumentException when C overlaps A or B
     */
    public static void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta,
                            Tensor c) {
        String op = "gemm";
        Backend be = Checks.backendOf(op, a, b, c);
        Checks.floating(op, a);
        Checks.sameDType(op, a, b, c);
        Checks.finite(op, "alpha", alpha);
        Checks.finite(op, "beta", beta);
        int rank = a.shape().rank();
        if (rank != 2 && rank != 3 || b.shape().rank() != rank || c.shape().rank() != rank) {
            throw new ShapeMismatchException(op + ": needs three rank-2 or three rank-3 tensors, got A "
                    + a.shape() + ", B " + b.shape() + ", C " + c.shape());
        }
        int batch = 1;
        if (rank == 3) {
            batch = a.shape().dim(0);
            if (b.shape().dim(0) != batch || c.shape().dim(0) != batch) {
                throw new ShapeMismatchException(op + ": batch sizes differ: A " + a.shape() + ", B " + b.shape()
                        + ", C " + c.shape());
            }
            Checks.contiguous(op, a);
            Checks.contiguous(op, b);
            Checks.contiguous(op, c);
        }
        int ar = a.shape().dim(-2), ac = a.shape().dim(-1);
        int br = b.shape().dim(-2), bc = b.shape().dim(-1);
        int m = transA ? ac : ar, k = transA ? ar : ac;
        int kb = transB ? bc : br, n = transB ? br : bc;
        String flags = " (transA=" + transA + ", transB=" + transB + ")";
        if (k != kb) {
            throw new ShapeMismatchException(op + ": inner dimensions differ: A is " + a.shape() + ", B is "
                    + b.shape() + flags);
        }
        if (c.shape().dim(-2) != m || c.shape().dim(-1) != n) {
            throw new ShapeMismatchException(op + ": C is " + c.shape() + " but op(A)·op(B) is [" + m + ", " + n
                    + "]: A is " + a.shape() + ", B is " + b.shape() + flags);
        }
        Checks.disjoint(op, a, c);
        Checks.disjoint(op, b, c);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        int lda = rank == 3 ? ac : a.rowStride();
        int ldb = rank == 3 ? bc : b.rowStride();
        int ldc = rank == 3 ? n : c.rowStride();
        Tensor.written(c);
        be.gemm(transA, transB, m, n, k, alpha, a.buffer(), a.offset(), lda, b.buffer(), b.offset(), ldb,
                beta, c.buffer(), c.offset(), ldc, batch, (long) ar * ac, (long) br * bc, (long) m * n);
    }

    /**
     * A new tensor {@code op(A)·op(B)} (rank 2 or batched rank 3).
     *
     * @param a      the left operand
     * @param b      the right operand
     * @param transA whether {@code op(A)} is {@code Aᵀ}
     * @param transB whether {@code op(B)} is {@code Bᵀ}
     * @return the product
     */
    public static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        Checks.backendOf("matmul", a, b);
        int rank = a.shape().rank();
        if (rank != 2 && rank != 3 || b.shape().rank() != rank) {
            throw new ShapeMismatchException("matmul: needs two rank-2 or two rank-3 tensors, got A " + a.shape()
                    + ", B " + b.shape());
        }
        int m = transA ? a.shape().dim(-1) : a.shape().dim(-2);
        int n = transB ? b.shape().dim(-2) : b.shape().dim(-1);
        int[] dims = rank == 2 ? new int[] {m, n} : new int[] {a.shape().dim(0), m, n};
        Tensor c = Tensor.empty(a.backend(), a.dtype(), Shape.of(dims));
        try {
            gemm(transA, transB, 1.0, a, b, 0.0, c);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * A new tensor {@code A·B}.
     *
     * @param a the left operand
     * @param b the right operand
     * @return the product
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, false, false);
    }
}
