package dev.backprop.tensor;

import dev.backprop.backend.Backend;

/**
 * Batch normalization's per-channel kernels (PyTorch's {@code batch_norm}): statistics, the normalizing forward pass
 * and its backward pass. The input is {@code [N, C]}, {@code [N, C, L]} or {@code [N, C, H, W]}: channel {@code ch}
 * is dimension 1, and its statistics run over the other dimensions. Per-channel tensors ({@code mean}, {@code var},
 * {@code gamma}, {@code beta} and their gradients) have {@code C} elements.
 */
public final class Normalization {
    private Normalization() {
    }

    /** {@code [n, c, s]}: the input viewed as batch, channels and positions per channel. */
    private static int[] ncs(String op, Tensor x) {
        int r = x.shape().rank();
        if (r < 2 || r > 4) {
            throw new ShapeMismatchException(op + ": needs [N, C], [N, C, L] or [N, C, H, W], got " + x.shape());
        }
        Checks.contiguous(op, x);
        int[] d = x.shape().dims();
        long s = 1;
        for (int i = 2; i < d.length; i++) {
            s *= d[i];
        }
        return new int[] {d[0], d[1], Math.toIntExact(s)};
    }

    /** Per-channel mean and biased variance of {@code x} over all but dimension 1 (at least one value each). */
    public static void batchNormStats(Tensor x, Tensor mean, Tensor var) {
        String op = "batchNormStats";
        Backend be = Checks.backendOf(op, x, mean, var);
        int[] d = ncs(op, x);
        if ((long) d[0] * d[2] == 0) {
            throw new ShapeMismatchException(op + ": input " + x.shape() + " has no values per channel");
        }
        Images.vector(op, "mean", mean, d[1]);
        Images.vector(op, "var", var, d[1]);
        Checks.floating(op, x);
        Checks.sameDType(op, x, mean, var);
        Images.mutuallyDisjoint(op, x, mean, var);
        Tensor.written(mean, var);
        be.batchNormStats(d[0], d[1], d[2], x.buffer(), x.offset(), mean.buffer(), mean.offset(), var.buffer(),
                var.offset());
    }

    /** {@code y = (x - mean)/sqrt(var + eps)·gamma + beta} per channel; {@code y} may be {@code x}. */
    public static void batchNormForward(Tensor x, Tensor mean, Tensor var, Tensor gamma, Tensor beta, double eps,
                                        Tensor y) {
        String op = "batchNormForward";
        Backend be = Checks.backendOf(op, x, mean, var, gamma, beta, y);
        int[] d = ncs(op, x);
        checkEps(op, eps);
        Checks.sameShape(op, x, y);
        Checks.contiguous(op, y);
        channels(op, d[1], new String[] {"mean", "var", "gamma", "beta"}, mean, var, gamma, beta);
        Checks.floating(op, x);
        Checks.sameDType(op, x, mean, var, gamma, beta, y);
        Checks.disjointOrSame(op, x, y);
        for (Tensor t : new Tensor[] {mean, var, gamma, beta}) {
            Checks.disjoint(op, t, y);
        }
        if (x.size() > 0) {
            Tensor.written(y);
            be.batchNormForward(d[0], d[1], d[2], eps, x.buffer(), x.offset(), mean.buffer(), mean.offset(),
                    var.buffer(), var.offset(), gamma.buffer(), gamma.offset(), beta.buffer(), beta.offset(),
                    y.buffer(), y.offset());
        }
    }

    /**
     * The backward pass: {@code dgamma}, {@code dbeta} and {@code dx} (all overwritten) for the upstream gradient
     * {@code dy}; {@code batchStats} says whether {@code mean}/{@code var} were the batch's own (training) or running
     * statistics (evaluation). {@code dx} may be {@code dy}.
     */
    public static void batchNormBackward(Tensor x, Tensor dy, Tensor mean, Tensor var, Tensor gamma, double eps,
                                         boolean batchStats, Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        Backend be = Checks.backendOf(op, x, dy, mean, var, gamma, dx, dgamma, dbeta);
        int[] d = ncs(op, x);
        checkEps(op, eps);
        Checks.sameShape(op, x, dy);
        Checks.sameShape(op, x, dx);
        Checks.contiguous(op, dy);
        Checks.contiguous(op, dx);
        channels(op, d[1], new String[] {"mean", "var", "gamma", "dgamma", "dbeta"}, mean, var, gamma, dgamma,
                dbeta);
        Checks.floating(op, x);
        Checks.sameDType(op, x, dy, mean, var, gamma, dx, dgamma, dbeta);
        Checks.disjointOrSame(op, dy, dx);
        for (Tensor in : new Tensor[] {x, mean, var, gamma}) {
            for (Tensor out : new Tensor[] {dx, dgamma, dbeta}) {
                Checks.disjoint(op, in, out);
            }
        }
        Checks.disjoint(op, dy, dgamma);
        Checks.disjoint(op, dy, dbeta);
        Images.mutuallyDisjoint(op, dx, dgamma, dbeta);
        Tensor.written(dx, dgamma, dbeta);
        be.batchNormBackward(d[0], d[1], d[2], eps, batchStats, x.buffer(), x.offset(), dy.buffer(), dy.offset(),
                mean.buffer(), mean.offset(), var.buffer(), var.offset(), gamma.buffer(), gamma.offset(),
                dx.buffer(), dx.offset(), dgamma.buffer(), dgamma.offset(), dbeta.buffer(), dbeta.offset());
    }

    private static void checkEps(String op, double eps) {
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and > 0, got " + eps);
        }
    }

    private static void channels(String op, int c, String[] roles, Tensor... perChannel) {
        for (int i = 0; i < perChannel.length; i++) {
            Images.vector(op, roles[i], perChannel[i], c);
        }
    }
}
