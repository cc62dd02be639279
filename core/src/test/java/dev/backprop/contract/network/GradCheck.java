package dev.backprop.contract.network;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Central finite differences in FLOAT64 against the autodiff. The function may return any shape: the check
 * back-propagates a random upstream gradient {@code R} (so {@code backward(upstream)} is exercised too) and
 * compares each leaf's gradient with {@code (f(θ+h) - f(θ-h)) / 2h} of {@code Σ R∘out}, element by element
 * (up to {@value #MAX_ELEMENTS} sampled elements per leaf). Then it takes the training path, where gradients
 * are not fresh: after another backward and {@code zeroGrad()} (the first contribution then overwrites the stale
 * tensor instead of adding to it) the gradients must equal the fresh ones, and one more backward without
 * {@code zeroGrad()} must double them.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class GradCheck {
    /** Step of the central difference. */
    static final double H = 1e-6;
    /** Allowed |analytic - numeric| is {@code TOL·(1 + |numeric|)}: truncation is ~1e-12, rounding ~1e-9. */
    static final double TOL = 1e-6;
    static final int MAX_ELEMENTS = 48;
    /**
     * Allowed difference between the training path's gradients and the fresh ones (same ops, same order: only a
     * backend that sums in another order for {@code beta = 0} could differ at all).
     */
    static final double PATH_TOL = 1e-12;
    static final double PATH_ATOL = 1e-14;

    private GradCheck() {
    }

    /** One leaf's starting values. */
    record Leaf(double[] values, int... dims) {
    }

    /** Makes FLOAT64 leaves from {@code leaves}, then checks {@code f}'s gradients for all of them. */
    static void check(Backend be, String what, long seed, Function<List<Variable>, Variable> f, Leaf... leaves) {
        try (Scope scope = Scope.open()) {
            List<Variable> vars = new ArrayList<>();
            for (Leaf l : leaves) {
                vars.add(Variable.leaf(Net.tensor(be, DType.FLOAT64, l.values(), l.dims())));
            }
            check(what, seed, f, vars);
        }
    }

    /**
     * Checks the gradients of {@code f} for the given leaves (existing parameters or leaves, FLOAT64, gradients
     * zero on entry). The leaves' values are restored afterwards; their gradients hold the analytic result.
     */
    static void check(String what, long seed, Function<List<Variable>, Variable> f, List<Variable> leaves) {
        for (Variable v : leaves) {
            assertEquals(DType.FLOAT64, v.dtype(), what + ": gradient checks run in FLOAT64");
        }
        double[] r;
        try (Tape tape = Tape.open()) {
            Variable out = f.apply(leaves);
            r = Net.uniform(seed, Math.toIntExact(out.shape().size()), -1, 1);
            Tensor upstream = Net.tensor(out.backend(), DType.FLOAT64, r, out.shape().dims());
            out.backward(upstream);
        }
        Random pick = new Random(seed + 1);
        List<double[]> fresh = new ArrayList<>();
        for (int li = 0; li < leaves.size(); li++) {
            Variable v = leaves.get(li);
            double[] analytic = v.grad().toDoubles();
            fresh.add(analytic);
            double[] values = v.value().toDoubles();
            int n = values.length;
            int samples = Math.min(n, MAX_ELEMENTS);
            double[] num = new double[samples], ana = new double[samples];
            for (int s = 0; s < samples; s++) {
                int j = n <= MAX_ELEMENTS ? s : pick.nextInt(n);
                double orig = values[j];
                values[j] = orig + H;
                Net.set(v.value(), values);
                double plus = project(f, leaves, r);
                values[j] = orig - H;
                Net.set(v.value(), values);
                double minus = project(f, leaves, r);
                values[j] = orig;
                Net.set(v.value(), values);
                num[s] = (plus - minus) / (2 * H);
                ana[s] = analytic[j];
            }
            Net.assertClose(what + ": gradient of input " + li + " " + v.shape() + " vs central differences", num,
                    ana, TOL, TOL);
        }
        trainingPath(what, seed, f, leaves, r, fresh);
    }

    /**
     * The gradients as a training step gets them: after a backward with another upstream gradient and
     * {@code zeroGrad()}, equal to {@code fresh}; after one more backward without {@code zeroGrad()}, twice that.
     */
    private static void trainingPath(String what, long seed, Function<List<Variable>, Variable> f,
                                     List<Variable> leaves, double[] r, List<double[]> fresh) {
        backward(f, leaves, Net.uniform(seed + 2, r.length, -3, 3));
        leaves.forEach(Variable::zeroGrad);
        backward(f, leaves, r);
        for (int li = 0; li < leaves.size(); li++) {
            Net.assertClose(what + ": gradient of input " + li + " " + leaves.get(li).shape() + " after a backward "
                    + "and zeroGrad() vs fresh leaves", fresh.get(li), leaves.get(li).grad().toDoubles(), PATH_ATOL,
                    PATH_TOL);
        }
        backward(f, leaves, r);
        for (int li = 0; li < leaves.size(); li++) {
            double[] twice = fresh.get(li).clone();
            for (int j = 0; j < twice.length; j++) {
                twice[j] *= 2;
            }
            Net.assertClose(what + ": gradient of input " + li + " " + leaves.get(li).shape() + " after two "
                    + "backwards without zeroGrad() vs twice the fresh one", twice, leaves.get(li).grad().toDoubles(),
                    PATH_ATOL, PATH_TOL);
        }
    }

    /** Records {@code f} and back-propagates {@code upstream} into the leaves' gradients. */
    private static void backward(Function<List<Variable>, Variable> f, List<Variable> leaves, double[] upstream) {
        try (Tape tape = Tape.open()) {
            Variable out = f.apply(leaves);
            out.backward(Net.tensor(out.backend(), DType.FLOAT64, upstream, out.shape().dims()));
        }
    }

    /** {@code Σ R∘f(leaves)}, without recording. */
    private static double project(Function<List<Variable>, Variable> f, List<Variable> leaves, double[] r) {
        try (Scope s = Scope.open()) {
            double[] out = f.apply(leaves).value().toDoubles();
            double sum = 0;
            for (int i = 0; i < out.length; i++) {
                sum += r[i] * out[i];
            }
            return sum;
        }
    }
}
