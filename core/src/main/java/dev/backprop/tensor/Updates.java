package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fused optimizer steps on one parameter tensor, with PyTorch's exact formulas (see
 * {@link Backend#sgdUpdate} and {@link Backend#adamUpdate}). Parameter, gradient and state tensors are
 * contiguous, of one floating dtype and one size, and distinct. The multi-tensor forms update a whole model in
 * one call (one launch on a backend with its own fused family): every tensor is checked as the single-tensor
 * form checks it, and no two tensors of the list share an element.
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
        checkSgd(name, lr, momentum, weightDecay);
        checkVelocity(name, velocity, momentum, nesterov, "");
        Tensor.written(param, velocity);
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
        checkAdam(name, lr, beta1, beta2, eps, weightDecay, step);
        Tensor.written(param, m, v);
        be.adamUpdate(param.size(), param.buffer(), param.offset(), grad.buffer(), grad.offset(), m.buffer(),
                m.offset(), v.buffer(), v.offset(), lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    /**
     * One parameter of {@link #sgdUpdateAll}: the tensors {@link #sgdUpdate} takes.
     *
     * @param param    the parameter, updated in place
     * @param grad     its gradient
     * @param velocity its momentum buffer, updated in place, or null without momentum
     */
    public record SgdTensors(Tensor param, Tensor grad, Tensor velocity) {
    }

    /**
     * One parameter of {@link #adamUpdateAll}: the tensors {@link #adamUpdate} takes.
     *
     * @param param the parameter, updated in place
     * @param grad  its gradient
     * @param m     the first moment, updated in place
     * @param v     the second moment, updated in place
     */
    public record AdamTensors(Tensor param, Tensor grad, Tensor m, Tensor v) {
    }

    /**
     * {@link #sgdUpdate} on every parameter of {@code tensors} with the same hyperparameters, in one call.
     *
     * @param tensors     the parameters with their gradients and momentum buffers
     * @param lr          the learning rate
     * @param momentum    μ
     * @param weightDecay λ
     * @param nesterov    whether to use Nesterov momentum
     */
    public static void sgdUpdateAll(List<SgdTensors> tensors, double lr, double momentum, double weightDecay,
                                    boolean nesterov) {
        String name = "sgdUpdateAll";
        List<Tensor[]> groups = new ArrayList<>(tensors.size());
        for (SgdTensors t : tensors) {
            groups.add(new Tensor[] {t.param(), t.grad(), t.velocity()});
        }
        Backend be = checkAll(name, groups, "param", "grad", "velocity");
        checkSgd(name, lr, momentum, weightDecay);
        for (int i = 0; i < tensors.size(); i++) {
            checkVelocity(name, tensors.get(i).velocity(), momentum, nesterov, "; tensor " + i + " "
                    + tensors.get(i).param().shape() + " has none");
        }
        List<Backend.SgdTensor> spi = new ArrayList<>(tensors.size());
        for (SgdTensors t : tensors) {
            Tensor v = t.velocity();
            spi.add(new Backend.SgdTensor(t.param().size(), t.param().buffer(), t.param().offset(), t.grad().buffer(),
                    t.grad().offset(), v == null ? null : v.buffer(), v == null ? 0 : v.offset()));
        }
        for (SgdTensors t : tensors) {
            Tensor.written(t.param(), t.velocity());
        }
        if (be != null) {
            be.sgdUpdateAll(spi, lr, momentum, weightDecay, nesterov);
        }
    }

    /**
     * {@link #adamUpdate} on every parameter of {@code tensors} with the same hyperparameters and step, in one
     * call.
     *
     * @param tensors     the parameters with their gradients and moments
     * @param lr          the learning rate
     * @param beta1       the first moment's decay
     * @param beta2       the second moment's decay
     * @param eps         the term added to the denominator
     * @param weightDecay λ
     * @param decoupled   AdamW's decoupled decay when true
     * @param step        the step number, from 1
     */
    public static void adamUpdateAll(List<AdamTensors> tensors, double lr, double beta1, double beta2, double eps,
                                     double weightDecay, boolean decoupled, long step) {
        String name = "adamUpdateAll";
        List<Tensor[]> groups = new ArrayList<>(tensors.size());
        for (AdamTensors t : tensors) {
            groups.add(new Tensor[] {t.param(), t.grad(), t.m(), t.v()});
        }
        Backend be = checkAll(name, groups, "param", "grad", "m", "v");
        checkAdam(name, lr, beta1, beta2, eps, weightDecay, step);
        List<Backend.AdamTensor> spi = new ArrayList<>(tensors.size());
        for (AdamTensors t : tensors) {
            spi.add(new Backend.AdamTensor(t.param().size(), t.param().buffer(), t.param().offset(),
                    t.grad().buffer(), t.grad().offset(), t.m().buffer(), t.m().offset(), t.v().buffer(),
                    t.v().offset()));
        }
        for (AdamTensors t : tensors) {
            Tensor.written(t.param(), t.m(), t.v());
        }
        if (be != null) {
            be.adamUpdateAll(spi, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        }
    }

    /**
     * Checks each group (parameter first, then its gradient and state; null state allowed) as the single-tensor
     * update does, all of them on one backend and of one dtype, no element in two groups; returns the backend
     * (null for an empty list).
     */
    private static Backend checkAll(String name, List<Tensor[]> groups, String... roles) {
        Backend be = null;
        Tensor first = null;
        for (int i = 0; i < groups.size(); i++) {
            Tensor[] g = groups.get(i);
            if (g[0] == null || g[1] == null) {
                throw new IllegalArgumentException(name + ": tensor " + i + " has no "
                        + (g[0] == null ? "parameter" : "gradient"));
            }
            String each = name + " (tensor " + i + ")";
            Backend b = Checks.backendOf(each, g);
            if (be == null) {
                be = b;
                first = g[0];
            } else {
                Checks.backendOf(name, first, g[0]);
                Checks.sameDType(name, first, g[0]);
            }
            check(each, g[0], Arrays.copyOfRange(g, 1, g.length));
        }
        checkNoSharedRanges(name, groups, roles);
        return be;
    }

    /** A tensor of a group, for the overlap scan. */
    private record Member(int group, int index, Tensor tensor) {
    }

    /** No two groups share an element: per buffer, the ranges sorted by start, each neighbour pair checked. */
    private static void checkNoSharedRanges(String name, List<Tensor[]> groups, String[] roles) {
        Map<Buffer, List<Member>> byBuffer = new IdentityHashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            Tensor[] g = groups.get(i);
            for (int k = 0; k < g.length; k++) {
                if (g[k] != null && g[k].size() > 0) {
                    byBuffer.computeIfAbsent(g[k].buffer(), b -> new ArrayList<>()).add(new Member(i, k, g[k]));
                }
            }
        }
        for (List<Member> ms : byBuffer.values()) {
            ms.sort(Comparator.comparingLong(m -> m.tensor().offset()));
            for (int j = 1; j < ms.size(); j++) {
                Member a = ms.get(j - 1), b = ms.get(j);
                if (Checks.overlaps(a.tensor(), b.tensor())) {
                    throw new IllegalArgumentException(name + ": tensor " + a.group() + "'s " + roles[a.index()]
                            + " " + a.tensor().shape() + " and tensor " + b.group() + "'s " + roles[b.index()] + " "
                            + b.tensor().shape() + " share elements of one buffer");
                }
            }
        }
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

    private static void checkSgd(String name, double lr, double momentum, double weightDecay) {
        Checks.finite(name, "lr", lr);
        Checks.finite(name, "momentum", momentum);
        Checks.finite(name, "weightDecay", weightDecay);
    }

    /** Momentum (or Nesterov) needs a velocity tensor; {@code which} ends the message (the tensor of a list). */
    private static void checkVelocity(String name, Tensor velocity, double momentum, boolean nesterov, String which) {
        if (velocity == null && (momentum != 0 || nesterov)) {
            throw new IllegalArgumentException(name + ": momentum " + momentum + (nesterov ? " (nesterov)" : "")
                    + " needs a velocity tensor" + which);
        }
    }

    private static void checkAdam(String name, double lr, double beta1, double beta2, double eps, double weightDecay,
                                  long step) {
        if (step < 1) {
            throw new IllegalArgumentException(name + ": step must be ≥ 1, got " + step);
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(name + ": betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        Checks.finite(name, "lr", lr);
        Checks.finite(name, "eps", eps);
        Checks.finite(name, "weightDecay", weightDecay);
    }
}
