package dev.backprop.contract.network;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Scope;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GradientListener}: every leaf announced once, after its last contribution and in completion order;
 * weight gradients computed in row blocks when asked, each block complete when announced; the gradients the same
 * as without a listener (within FLOAT32 rounding on any backend; the spark module checks the bits on cpu).
 */
@SuppressWarnings("try") // the scope frees memory on close; the body needs no reference
final class GradientListenerCases {
    private GradientListenerCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        return Stream.of(DynamicTest.dynamicTest("a gradient listener hears each leaf once, rows in blocks",
                () -> listener(be)));
    }

    /** Records events, and a copy of each announced block of rows as it was at that moment. */
    private static final class Recorder implements GradientListener {
        final List<String> events = new ArrayList<>();
        final Map<Variable, String> names;
        final Map<Variable, double[]> seen = new IdentityHashMap<>();

        Recorder(Map<Variable, String> names) {
            this.names = names;
        }

        @Override
        public void gradientReady(Variable leaf) {
            events.add("ready " + names.get(leaf));
            seen.put(leaf, leaf.grad().toDoubles());
        }

        @Override
        public void rowsReady(Variable leaf, int from, int to) {
            events.add("rows " + names.get(leaf) + " " + from + "-" + to);
            double[] all = leaf.grad().toDoubles();
            int cols = leaf.shape().dim(1);
            double[] kept = seen.computeIfAbsent(leaf, k -> new double[all.length]);
            System.arraycopy(all, from * cols, kept, from * cols, (to - from) * cols);
        }

        @Override
        public int gemmRowBlock(Variable leaf) {
            return 2;
        }
    }

    private static void listener(Backend be) {
        try (Scope s = Scope.open()) {
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, Net.uniform(1, 20, -1, 1), 5, 4));
            Variable c = Variable.constant(Net.tensor(be, DType.FLOAT32, Net.uniform(2, 18, -1, 1), 3, 6));
            Variable w1 = Variable.leaf(Net.tensor(be, DType.FLOAT32, Net.uniform(3, 24, -1, 1), 6, 4));
            Variable b1 = Variable.leaf(Net.tensor(be, DType.FLOAT32, Net.uniform(4, 6, -1, 1), 6));
            Variable w2 = Variable.leaf(Net.tensor(be, DType.FLOAT32, Net.uniform(5, 18, -1, 1), 3, 6));
            Variable unused = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1}, 1));
            Map<Variable, String> names = new IdentityHashMap<>(Map.of(w1, "w1", b1, "b1", w2, "w2",
                    unused, "unused"));
            List<double[]> plain = run(null, x, c, w1, b1, w2);
            Recorder r = new Recorder(names);
            List<double[]> heard = run(r, x, c, w1, b1, w2);
            // w2 is used twice; its last contribution (the linear op, recorded first) completes it.
            assertEquals(List.of("rows w2 0-2", "rows w2 2-3", "ready w2", "rows w1 0-2", "rows w1 2-4",
                    "rows w1 4-6", "ready w1", "ready b1"), r.events);
            Variable[] leaves = {w1, b1, w2};
            for (int i = 0; i < leaves.length; i++) {
                assertArrayEquals(heard.get(i), r.seen.get(leaves[i]), 0.0,
                        names.get(leaves[i]) + ": nothing changed the gradient after it was announced");
                for (int k = 0; k < plain.get(i).length; k++) {
                    double want = plain.get(i)[k];
                    assertTrue(Math.abs(heard.get(i)[k] - want) <= 1e-6 * (1 + Math.abs(want)),
                            names.get(leaves[i]) + "[" + k + "]: " + Arrays.toString(heard.get(i)) + " vs "
                                    + Arrays.toString(plain.get(i)));
                }
            }
        }
    }

    /** loss = Σ (relu(x·w1ᵀ + b1)·w2ᵀ)² + Σ w2 ⊙ c; returns the gradients of w1, b1, w2. */
    private static List<double[]> run(GradientListener l, Variable x, Variable c, Variable w1, Variable b1,
                                      Variable w2) {
        for (Variable v : new Variable[] {w1, b1, w2}) {
            v.zeroGrad();
        }
        try (Tape tape = Tape.open()) {
            tape.listen(l);
            Variable z = Ops.linear(Ops.relu(Ops.linear(x, w1, b1)), w2, null);
            Ops.add(Ops.sum(Ops.mul(z, z)), Ops.sum(Ops.mul(w2, c))).backward();
        }
        return List.of(w1.grad().toDoubles(), b1.grad().toDoubles(), w2.grad().toDoubles());
    }
}
