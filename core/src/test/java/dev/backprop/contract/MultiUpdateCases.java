package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code sgdUpdateAll} and {@code adamUpdateAll} over 1 and 20 tensors of different lengths (several of length
 * 1, one over 4096), each kind of tensor packed into one guarded buffer as a flat parameter store packs them:
 * every tensor bit for bit as the single-tensor update gives it on the backend under test, and within the
 * elementwise tolerance of the float64 reference; gradients unchanged and the gaps between tensors untouched.
 */
final class MultiUpdateCases {
    private MultiUpdateCases() {
    }

    private static final int[] LENGTHS = {1, 17, 3, 1, 255, 257, 1000, 1, 5, 64, 2, 1, 129, 31, 7, 1, 300, 9, 1, 4100};

    /** {lr, momentum, weightDecay, nesterov (0/1), velocity (0/1)}. */
    private static final double[][] SGD = {
            {0.1, 0, 0, 0, 0}, {0.05, 0, 0.01, 0, 0}, {0.1, 0.9, 0, 0, 1}, {0.01, 0.9, 5e-4, 1, 1},
    };

    /** {lr, beta1, beta2, eps, weightDecay, decoupled (0/1), step}. */
    private static final double[][] ADAM = {
            {1e-3, 0.9, 0.999, 1e-8, 0, 0, 1}, {1e-3, 0.9, 0.999, 1e-8, 0.01, 0, 7},
            {1e-2, 0.9, 0.999, 1e-8, 0.01, 1, 7},
    };

    static Stream<DynamicTest> sgdUpdateAll(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (double[] c : SGD) {
                for (int count : new int[] {1, 20}) {
                    String name = String.format("sgdUpdateAll %s %d tensors lr=%s momentum=%s wd=%s%s", dt, count,
                            c[0], c[1], c[2], c[3] == 1 ? " nesterov" : "");
                    tests.add(dynamicTest(name, () -> sgdCase(o, dt, lengths(count), c, name)));
                }
            }
        }
        return tests.stream();
    }

    static Stream<DynamicTest> adamUpdateAll(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (double[] c : ADAM) {
                for (int count : new int[] {1, 20}) {
                    String name = String.format("adamUpdateAll %s %d tensors lr=%s wd=%s%s step=%d", dt, count, c[0],
                            c[4], c[5] == 1 ? " decoupled" : "", (long) c[6]);
                    tests.add(dynamicTest(name, () -> adamCase(o, dt, lengths(count), c, name)));
                }
            }
        }
        return tests.stream();
    }

    private static int[] lengths(int count) {
        return count == 1 ? new int[] {257} : LENGTHS;
    }

    private static void sgdCase(Oracle o, DType dt, int[] lens, double[] c, String name) {
        boolean withVelocity = c[4] == 1;
        double[][] theta = values(lens, 71, -2, 2, dt), grad = values(lens, 73, -1, 1, dt);
        double[][] vel = values(lens, 79, -0.5, 0.5, dt);
        try (Scope scope = Scope.open()) {
            Packed p = new Packed(o.backend(), dt, theta), g = new Packed(o.backend(), dt, grad);
            Packed v = withVelocity ? new Packed(o.backend(), dt, vel) : null;
            List<Updates.SgdTensors> all = new ArrayList<>();
            for (int i = 0; i < lens.length; i++) {
                all.add(new Updates.SgdTensors(p.views[i], g.views[i], v == null ? null : v.views[i]));
            }
            Updates.sgdUpdateAll(all, c[0], c[1], c[2], c[3] == 1);

            List<Updates.SgdTensors> truth = new ArrayList<>();
            for (int i = 0; i < lens.length; i++) {
                int n = lens[i];
                String what = name + " tensor " + i + " (n=" + n + ")";
                Tensor ap = o.actual(dt, theta[i], n), av = withVelocity ? o.actual(dt, vel[i], n) : null;
                Updates.sgdUpdate(ap, o.actual(dt, grad[i], n), av, c[0], c[1], c[2], c[3] == 1);
                FusedCases.sameBits(what + " param vs sgdUpdate", ap.toDoubles(), p.read(name, i));
                if (withVelocity) {
                    FusedCases.sameBits(what + " velocity vs sgdUpdate", av.toDoubles(), v.read(name, i));
                }
                Tolerance.exact(what + " grad unchanged", grad[i], g.read(name, i));
                truth.add(new Updates.SgdTensors(o.truth(dt, theta[i], n), o.truth(dt, grad[i], n),
                        withVelocity ? o.truth(dt, vel[i], n) : null));
            }
            Updates.sgdUpdateAll(truth, c[0], c[1], c[2], c[3] == 1);
            for (int i = 0; i < lens.length; i++) {
                String what = name + " tensor " + i + " (n=" + lens[i] + ")";
                Tolerance.elementwise(what + " param", dt, truth.get(i).param().toDoubles(), p.read(name, i));
                if (withVelocity) {
                    Tolerance.elementwise(what + " velocity", dt, truth.get(i).velocity().toDoubles(),
                            v.read(name, i));
                }
            }
        }
    }

    private static void adamCase(Oracle o, DType dt, int[] lens, double[] c, String name) {
        long step = (long) c[6];
        double[][] theta = values(lens, 83, -2, 2, dt), grad = values(lens, 89, -1, 1, dt);
        double[][] m = step == 1 ? zeros(lens) : values(lens, 97, -0.3, 0.3, dt);
        double[][] v = step == 1 ? zeros(lens) : values(lens, 101, 0, 0.2, dt);
        try (Scope scope = Scope.open()) {
            Packed pp = new Packed(o.backend(), dt, theta), pg = new Packed(o.backend(), dt, grad);
            Packed pm = new Packed(o.backend(), dt, m), pv = new Packed(o.backend(), dt, v);
            List<Updates.AdamTensors> all = new ArrayList<>();
            for (int i = 0; i < lens.length; i++) {
                all.add(new Updates.AdamTensors(pp.views[i], pg.views[i], pm.views[i], pv.views[i]));
            }
            Updates.adamUpdateAll(all, c[0], c[1], c[2], c[3], c[4], c[5] == 1, step);

            List<Updates.AdamTensors> truth = new ArrayList<>();
            for (int i = 0; i < lens.length; i++) {
                int n = lens[i];
                String what = name + " tensor " + i + " (n=" + n + ")";
                Tensor ap = o.actual(dt, theta[i], n), am = o.actual(dt, m[i], n), av = o.actual(dt, v[i], n);
                Updates.adamUpdate(ap, o.actual(dt, grad[i], n), am, av, c[0], c[1], c[2], c[3], c[4], c[5] == 1,
                        step);
                FusedCases.sameBits(what + " param vs adamUpdate", ap.toDoubles(), pp.read(name, i));
                FusedCases.sameBits(what + " m vs adamUpdate", am.toDoubles(), pm.read(name, i));
                FusedCases.sameBits(what + " v vs adamUpdate", av.toDoubles(), pv.read(name, i));
                Tolerance.exact(what + " grad unchanged", grad[i], pg.read(name, i));
                truth.add(new Updates.AdamTensors(o.truth(dt, theta[i], n), o.truth(dt, grad[i], n),
                        o.truth(dt, m[i], n), o.truth(dt, v[i], n)));
            }
            Updates.adamUpdateAll(truth, c[0], c[1], c[2], c[3], c[4], c[5] == 1, step);
            for (int i = 0; i < lens.length; i++) {
                String what = name + " tensor " + i + " (n=" + lens[i] + ")";
                Tolerance.elementwise(what + " param", dt, truth.get(i).param().toDoubles(), pp.read(name, i));
                Tolerance.elementwise(what + " m", dt, truth.get(i).m().toDoubles(), pm.read(name, i));
                Tolerance.elementwise(what + " v", dt, truth.get(i).v().toDoubles(), pv.read(name, i));
            }
        }
    }

    private static double[][] values(int[] lens, long seed, double lo, double hi, DType dt) {
        double[][] out = new double[lens.length][];
        for (int i = 0; i < lens.length; i++) {
            out[i] = Inputs.uniform(seed * 1000 + i, lens[i], lo, hi, dt);
        }
        return out;
    }

    private static double[][] zeros(int[] lens) {
        double[][] out = new double[lens.length][];
        for (int i = 0; i < lens.length; i++) {
            out[i] = new double[lens[i]];
        }
        return out;
    }

    /**
     * Tensors laid out one after another in one buffer, each preceded by a {@link Oracle#SENTINEL} gap (and one
     * after the last), so a stray write past a tensor's end shows.
     */
    private static final class Packed {
        final Tensor whole;
        final Tensor[] views;
        final int[] starts;

        Packed(Backend be, DType dt, double[][] tensors) {
            int total = 1;
            for (double[] t : tensors) {
                total += t.length + 1;
            }
            double[] all = new double[total];
            Arrays.fill(all, Oracle.SENTINEL);
            starts = new int[tensors.length];
            int at = 1;
            for (int i = 0; i < tensors.length; i++) {
                starts[i] = at;
                System.arraycopy(tensors[i], 0, all, at, tensors[i].length);
                at += tensors[i].length + 1;
            }
            whole = Oracle.put(be, dt, all, total);
            views = new Tensor[tensors.length];
            for (int i = 0; i < tensors.length; i++) {
                views[i] = whole.rows(starts[i], starts[i] + tensors[i].length);
            }
        }

        /** Tensor {@code i}'s elements, after checking every gap still holds the sentinel. */
        double[] read(String what, int i) {
            double[] all = whole.toDoubles();
            for (int k = 0; k <= starts.length; k++) {
                int gap = k == 0 ? 0 : starts[k - 1] + (int) views[k - 1].size();
                if (all[gap] != Oracle.SENTINEL) {
                    fail(what + ": element " + gap + " of the packed buffer, between tensors, was overwritten with "
                            + all[gap]);
                }
            }
            return Arrays.copyOfRange(all, starts[i], starts[i] + (int) views[i].size());
        }
    }
}
