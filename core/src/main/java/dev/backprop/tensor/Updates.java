package dev.backprop.tensor;

import dev.backprop.backend.Backend;

/**
 * Fused optimizer steps on one parameter tensor, with PyTorch's exact formulas (see
 * {@link Backend#sgdUpdate} and {@link Backend#adamUpdate}). Parameter, gradient and state tensors are
 * contiguous, of one floating dtype and one size, and distinct.
 */
public final class Updates {
    private Updates() {
    }

    /**
     * SGD (with momentum when {@code velocity} is not null) on {@code param}, in place.
     *
     * @param param       the parameter, updated in place
     * @param grad        its gradient
     * @param velocity    its momentum buffer, updated in place, or null without momentum
     * @param lr          the learning rate
     * @param momentum    μ
     * @param weightDecay λ
     * @param nesterov    whether to use Nesterov momentum
     */
    public static void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, double lr, double momentum,
                           double weightDecay, boolean nesterov) {
        String name = "sgdUpdate";
        Backend be = Checks.backendOf(name, param, grad, velocity);
        check(name, param, grad, velocity);
        Checks.finite(name, "lr", lr);
        Checks.finite(name, "momentum", momentum);
        Checks.finite(name, "weightDecay", weightDecay);
        if (velocity == null && (momentum != 0 || nesterov)) {
            throw new IllegalArgumentException(name + ": momentum " + momentum + (nesterov ? " (nesterov)" : "")
                    + " needs a velocity tensor");
        }
        be.sgdUpdate(param.size(), param.buffer(), param.offset(), grad.buffer(), grad.offset(),
                velocity == null ? null : velocity.buffer(), velocity == null ? 0 : velocity.offset(), lr,
                momentum, weightDecay, nesterov);
    }

    /**
     * Adam ({@code decoupled=false}) or AdamW ({@code decoupled=true}) step number {@code step ≥ 1}.
     *
     * @param param       the parameter, updated in place
     * @param grad        its gradient
     * @param m           the first moment, updated in place
     * @param v           the second moment, updated in place
     * @param lr          the learning rate
     * @param beta1       the first moment's decay
     * @param beta2       the second moment's decay
     * @param eps         the term added to the denominator
     * @param weightDecay λ
     * @param decoupled   AdamW's decoupled decay when true
     * @param step        the step number, from 1
     */
    public static void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, boolean decoupled, long step) {
        String name = "adamUpdate";
        Backend be = Checks.backendOf(name, param, grad, m, v);
        check(name, param, grad, m, v);
        if (step < 1) {
            throw new IllegalArgumentException(name + ": step must be ≥ 1, got " + step);
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(name + ": betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        Checks.finite(name, "lr", lr);
        Checks.finite(name, "eps", eps);
        Checks.finite(name, "weightDecay", weightDecay);
        be.adamUpdate(param.size(), param.buffer(), param.offset(), grad.buffer(), grad.offset(), m.buffer(),
                m.offset(), v.buffer(), v.offset(), lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    private static void check(String name, Tensor param, Tensor... others) {
        Checks.floating(name, param);
        Checks.contiguous(name, param);
        for (Tensor t : others) {
            if (t == null) {
                continue;
            }
            Checks.sameDType(name, param, t);
            Checks.contiguous(name, t);
            Checks.sameSize(name, param, t);
            Checks.disjoint(name, t, param);
        }
        for (int i = 0; i < others.length; i++) {
            for (int j = i + 1; j < others.length; j++) {
                if (others[i] != null && others[j] != null) {
                    Checks.disjoint(name, others[i], others[j]);
                }
            }
        }
    }
}
