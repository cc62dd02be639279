package dev.backprop.contract;

import dev.backprop.backend.DType;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * {@code sgdUpdate} (plain, weight decay, momentum, Nesterov) and {@code adamUpdate} (Adam and AdamW, fresh
 * state at step 1 and a used state at step 7), checking the parameter and every state tensor with the
 * elementwise tolerance and the gradient exactly unchanged. Hyper-parameters are passed as doubles: a FLOAT32
 * kernel should form {@code 1 - beta2} in double before narrowing (as PyTorch does), since
 * {@code 1 - (float) 0.999} is off by 1.3e-5 relative.
 */
final class UpdateCases {
    private UpdateCases() {
    }

    /** {lr, momentum, weightDecay, nesterov (0/1), velocity (0/1)}. */
    private static final double[][] SGD = {
            {0.1, 0, 0, 0, 0}, {0.05, 0, 0.01, 0, 0}, {0.1, 0.9, 0, 0, 1}, {0.01, 0.9, 5e-4, 1, 1}, {0.3, 0, 0.1, 0, 1},
    };

    static Stream<DynamicTest> sgdUpdate(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (double[] c : SGD) {
                String name = String.format("sgdUpdate %s lr=%s momentum=%s wd=%s%s%s", dt, c[0], c[1], c[2],
                        c[3] == 1 ? " nesterov" : "", c[4] == 1 ? "" : " no velocity");
                tests.add(dynamicTest(name, () -> sgdCase(o, dt, name, c)));
            }
        }
        return tests.stream();
    }

    private static void sgdCase(Oracle o, DType dt, String name, double[] c) {
        boolean withVelocity = c[4] == 1;
        for (int s = 0; s < UnaryCases.SIZES.length; s++) {
            int n = UnaryCases.SIZES[s];
            String what = name + " n=" + n;
            double[] theta = Inputs.uniform(71L * n, n, -2, 2, dt);
            double[] grad = Inputs.uniform(73L * n, n, -1, 1, dt);
            double[] vel = Inputs.uniform(79L * n, n, -0.5, 0.5, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed p = o.placed(dt, theta, s % 3, n), g = o.placed(dt, grad, (s + 1) % 3, n);
                Oracle.Placed v = withVelocity ? o.placed(dt, vel, (s + 2) % 3, n) : null;
                Updates.sgdUpdate(p.view(), g.view(), v == null ? null : v.view(), c[0], c[1], c[2], c[3] == 1);
                Tensor rp = o.truth(dt, theta, n), rg = o.truth(dt, grad, n);
                Tensor rv = withVelocity ? o.truth(dt, vel, n) : null;
                Updates.sgdUpdate(rp, rg, rv, c[0], c[1], c[2], c[3] == 1);
                Tolerance.elementwise(what + " param", dt, rp.toDoubles(), p.read(what + " param"));
                Tolerance.exact(what + " grad unchanged", grad, g.read(what + " grad"));
                if (withVelocity) {
                    Tolerance.elementwise(what + " velocity", dt, rv.toDoubles(), v.read(what + " velocity"));
                }
            }
        }
    }

    /** {lr, beta1, beta2, eps, weightDecay, decoupled (0/1), step}. */
    private static final double[][] ADAM = {
            {1e-3, 0.9, 0.999, 1e-8, 0, 0, 1}, {1e-3, 0.9, 0.999, 1e-8, 0.01, 0, 7}, {3e-4, 0.8, 0.99, 1e-6, 0.1, 1, 1},
            {1e-2, 0.9, 0.999, 1e-8, 0.01, 1, 7}, {1e-3, 0, 0.5, 1e-3, 0, 0, 3},
    };

    static Stream<DynamicTest> adamUpdate(Oracle o) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dt : o.floating()) {
            for (double[] c : ADAM) {
                String name = String.format("adamUpdate %s lr=%s betas=(%s, %s) eps=%s wd=%s%s step=%d", dt, c[0],
                        c[1], c[2], c[3], c[4], c[5] == 1 ? " decoupled" : "", (long) c[6]);
                tests.add(dynamicTest(name, () -> adamCase(o, dt, name, c)));
            }
        }
        return tests.stream();
    }

    private static void adamCase(Oracle o, DType dt, String name, double[] c) {
        long step = (long) c[6];
        for (int s = 0; s < UnaryCases.SIZES.length; s++) {
            int n = UnaryCases.SIZES[s];
            String what = name + " n=" + n;
            double[] theta = Inputs.uniform(83L * n, n, -2, 2, dt);
            double[] grad = Inputs.uniform(89L * n, n, -1, 1, dt);
            // Step 1 starts from zero state; later steps from a state of the right magnitude (v >= 0).
            double[] m = step == 1 ? new double[n] : Inputs.uniform(97L * n, n, -0.3, 0.3, dt);
            double[] v = step == 1 ? new double[n] : Inputs.uniform(101L * n, n, 0, 0.2, dt);
            try (Scope scope = Scope.open()) {
                Oracle.Placed pp = o.placed(dt, theta, s % 3, n), pg = o.placed(dt, grad, (s + 1) % 3, n);
                Oracle.Placed pm = o.placed(dt, m, (s + 2) % 3, n), pv = o.placed(dt, v, 1, n);
                Updates.adamUpdate(pp.view(), pg.view(), pm.view(), pv.view(), c[0], c[1], c[2], c[3], c[4], c[5] == 1,
                        step);
                Tensor rp = o.truth(dt, theta, n), rm = o.truth(dt, m, n), rv = o.truth(dt, v, n);
                Updates.adamUpdate(rp, o.truth(dt, grad, n), rm, rv, c[0], c[1], c[2], c[3], c[4], c[5] == 1, step);
                Tolerance.elementwise(what + " param", dt, rp.toDoubles(), pp.read(what + " param"));
                Tolerance.elementwise(what + " m", dt, rm.toDoubles(), pm.read(what + " m"));
                Tolerance.elementwise(what + " v", dt, rv.toDoubles(), pv.read(what + " v"));
                Tolerance.exact(what + " grad unchanged", grad, pg.read(what + " grad"));
            }
        }
    }
}
