package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.BackpropException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Tensor;

import java.util.Collection;

/** Gradient clipping, as PyTorch's {@code torch.nn.utils.clip_grad_norm_}. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /**
     * Scales all gradients by {@code min(1, maxNorm / (‖g‖ + 1e-6))}, where {@code ‖g‖} is the 2-norm of all
     * gradients together, so their global norm is at most {@code maxNorm}. Each squared norm is one
     * {@code [1, n]·[1, n]ᵀ} GEMM accumulated into one scalar on the device; one number comes to the host.
     *
     * @param params  parameters (leaves with gradients) on one backend with one dtype
     * @param maxNorm the largest global norm left (positive, finite)
     * @return the global norm before clipping
     * @throws IllegalArgumentException when {@code maxNorm} is not positive and finite
     * @throws BackpropException        when the norm is NaN or infinite (the gradients are left as they are), as
     *                                  PyTorch does with {@code error_if_nonfinite=True}
     */
    public static double clipByGlobalNorm(Collection<Variable> params, double maxNorm) {
        return clipByGlobalNorm(params, maxNorm, true);
    }

    /**
     * As {@link #clipByGlobalNorm(Collection, double)}; with {@code errorIfNonFinite} false a NaN or infinite norm is
     * returned and the gradients are scaled by {@code maxNorm / (‖g‖ + 1e-6)} all the same, as PyTorch's default
     * does: by 0 for an infinite norm (a finite gradient becomes 0, an infinite one NaN), by NaN for a NaN norm. So
     * an update that follows moves no parameter by an overflowed amount; a NaN step is the caller's to catch.
     *
     * @param params           parameters (leaves with gradients) on one backend with one dtype
     * @param maxNorm          the largest global norm left (positive, finite)
     * @param errorIfNonFinite whether a NaN or infinite norm throws
     * @return the global norm before clipping
     * @throws IllegalArgumentException when {@code maxNorm} is not positive and finite
     * @throws BackpropException        when the norm is not finite and {@code errorIfNonFinite} is true
     */
    public static double clipByGlobalNorm(Collection<Variable> params, double maxNorm, boolean errorIfNonFinite) {
        if (!(maxNorm > 0) || !Double.isFinite(maxNorm)) {
            throw new IllegalArgumentException("clipByGlobalNorm: maxNorm must be positive and finite, got " + maxNorm);
        }
        if (params.isEmpty()) {
            return 0;
        }
        double norm = globalNorm(params);
        if (!Double.isFinite(norm) && errorIfNonFinite) {
            throw new BackpropException("clipByGlobalNorm: the total gradient norm is " + norm
                    + "; the loss has diverged (lower the learning rate) or the data holds NaN/Inf");
        }
        double coef = maxNorm / (norm + 1e-6);
        if (!(coef >= 1)) {
            for (Variable p : params) {
                if (Double.isNaN(coef)) {
                    Elementwise.fill(p.grad(), Double.NaN); // what scaling by NaN gives
                } else {
                    Elementwise.scale(coef, p.grad(), p.grad());
                }
            }
        }
        return norm;
    }

    /**
     * The 2-norm of all gradients together.
     *
     * @param params parameters (leaves with gradients) on one backend with one dtype; at least one
     * @return {@code sqrt(Σ g²)} over every element of every gradient
     */
    public static double globalNorm(Collection<Variable> params) {
        Variable first = params.iterator().next();
        try (Tensor acc = Tensor.zeros(first.backend(), first.dtype(), 1, 1)) {
            for (Variable p : params) {
                Tensor g = p.grad();
                Tensor row = g.reshape(1, Math.toIntExact(g.size()));
                MatMul.gemm(false, true, 1.0, row, row, 1.0, acc);
            }
            return Math.sqrt(acc.item());
        }
    }
}
