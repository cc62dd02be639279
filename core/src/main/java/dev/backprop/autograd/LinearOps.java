package dev.backprop.autograd;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Fused;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.Locale;

/**
 * Matrix products as differentiable ops. Every gradient is one GEMM with transpose flags (no transposed
 * copies), accumulated with {@code beta = 1} straight into a leaf's gradient.
 */
final class LinearOps {
    private LinearOps() {
    }

    /** {@code C = op(A)·op(B)}, rank 2 or batched rank 3. */
    static Variable matmul(Variable a, Variable b, boolean transA, boolean transB) {
        Tensor c = MatMul.matmul(a.value(), b.value(), transA, transB);
        return Tape.record("matmul", c, (g, grads) -> {
            // C = op(A)·op(B): ∂op(A) = G·op(B)ᵀ and ∂op(B) = op(A)ᵀ·G, transposed back when op transposes.
            if (transA) {
                grads.gemm(0, transB, true, b.value(), g);
            } else {
                grads.gemm(0, false, !transB, g, b.value());
            }
            if (transB) {
                grads.gemm(1, true, transA, g, a.value());
            } else {
                grads.gemm(1, !transA, false, a.value(), g);
            }
        }, a, b);
    }

    /**
     * {@code Z = X·Wᵀ + b} for X {@code [N, in]}, W {@code [out, in]}, b {@code [out]} or null: one GEMM with
     * {@code transB} and an in-place row-broadcast bias add.
     */
    static Variable linear(Variable x, Variable w, Variable b) {
        Tensor z = product("linear", x, w, b);
        try {
            if (b != null) {
                Elementwise.binary(BinaryOp.ADD, z, b.value(), z);
            }
        } catch (RuntimeException e) {
            z.close();
            throw e;
        }
        return Tape.record("linear", z, (g, grads) -> {
            grads.gemm(0, false, false, g, w.value());  // ∂X = δ·W
            grads.gemm(1, true, false, g, x.value());   // ∂W = δᵀ·X
            grads.addReduced(2, g, false);              // ∂b = column sums of δ
        }, x, w, b);
    }

    /**
     * {@code Y = act(X·Wᵀ + b)} as one op: the GEMM, then the bias and activation in place in its output
     * ({@link Fused#biasActivation}). The backward pass forms δ = act'·G from Y and the bias gradient in one call
     * ({@link Fused#biasActivationBackward}), δ in place of G when the pass owns G, the bias gradient straight
     * into a zeroed leaf gradient; then the two GEMMs of {@link #linear}. Where the SPI's defaults run, the values
     * and gradients are those of {@link #linear} then the activation op, bit for bit, for ReLU and the identity.
     */
    static Variable linearActivation(Variable x, Variable w, Variable b, UnaryOp act) {
        String name = "linear+" + act.name().toLowerCase(Locale.ROOT);
        if (b == null) {
            throw new IllegalArgumentException(name + ": the fused form needs a bias; without one use linear, then "
                    + "the activation");
        }
        if (!Backend.FUSED_ACTIVATIONS.contains(act)) {
            throw new IllegalArgumentException(name + ": not a fused activation; use one of "
                    + Backend.FUSED_ACTIVATIONS);
        }
        Tensor y = product(name, x, w, b);
        try {
            Fused.biasActivation(act, y, b.value(), y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return Tape.record(name, y, (g, grads) -> {
            boolean inPlace = grads.outputGradWritable();
            Tensor dz = inPlace ? g : Tensor.empty(g.backend(), g.dtype(), y.shape());
            try {
                Tensor dbLeaf = grads.overwritable(2);
                Tensor db = dbLeaf != null ? dbLeaf : Tensor.empty(g.backend(), g.dtype(), b.shape());
                try {
                    Fused.biasActivationBackward(act, y, g, dz, db);
                } catch (RuntimeException e) {
                    if (dbLeaf == null) {
                        db.close();
                    }
                    throw e;
                }
                grads.gemm(0, false, false, dz, w.value());  // ∂X = δ·W
                grads.gemm(1, true, false, dz, x.value());   // ∂W = δᵀ·X
                if (dbLeaf == null) {
                    grads.give(2, db);
                }
            } finally {
                if (!inPlace) {
                    dz.close();
                }
            }
        }, x, w, b);
    }

    /** {@code X·Wᵀ} in a new tensor, after checking the shapes of X, W and the bias (which may be null). */
    private static Tensor product(String name, Variable x, Variable w, Variable b) {
        Shape xs = x.shape(), ws = w.shape();
        if (xs.rank() != 2 || ws.rank() != 2 || xs.dim(1) != ws.dim(1)) {
            throw new ShapeMismatchException(name + ": input " + xs + " and weight " + ws + " do not match: the "
                    + "input must be [N, in] and the weight [out, in]"
                    + (xs.rank() > 2 ? " (flatten the input first)" : ""));
        }
        int n = xs.dim(0), out = ws.dim(0);
        if (b != null && (b.shape().rank() != 1 || b.shape().dim(0) != out)) {
            throw new ShapeMismatchException(name + ": bias is " + b.shape() + ", expected [" + out
                    + "] for weight " + ws);
        }
        Tensor z = Tensor.empty(x.backend(), x.dtype(), Shape.of(n, out));
        try {
            MatMul.gemm(false, true, 1.0, x.value(), w.value(), 0.0, z);
        } catch (RuntimeException e) {
            z.close();
            throw e;
        }
        return z;
    }

    /** {@code xᵀ} of a rank-2 tensor (a copy). */
    static Variable transpose(Variable x) {
        Tensor t = Elementwise.transpose(x.value());
        return Tape.record("transpose", t, (g, grads) -> {
            if (grads.wants(0)) {
                grads.give(0, Elementwise.transpose(g));
            }
        }, x);
    }
}
