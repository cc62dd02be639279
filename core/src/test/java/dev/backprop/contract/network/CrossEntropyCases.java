package dev.backprop.contract.network;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.Reduction;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SoftmaxCrossEntropy}'s class weights and label smoothing beyond PyTorch's vectors ({@link TorchEdgeCases})
 * and finite differences ({@link LayerGradientCases}): ε = 0 is the plain loss bit for bit, a batch of one class
 * divides by its own weight sum, the weight count is checked against the logits, bad settings are refused when
 * built, and a weighted, smoothed loss reads nothing back from the device.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class CrossEntropyCases {
    private static final double[] LOGITS = {1.5, -0.5, 0.25, 2.0, 0.1, 0.2, -1.0, 0.3, -2.0, 3.0, 0.5, 0.0};
    private static final int[] LABELS = {0, 3, 1};

    private CrossEntropyCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<DynamicTest> t = new ArrayList<>();
        for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            if (dt == DType.FLOAT32 || be.capabilities().float64()) {
                t.add(DynamicTest.dynamicTest(dt + " smoothing 0 is the plain loss bit for bit", () -> noSmoothing(be,
                        dt)));
                t.add(DynamicTest.dynamicTest(dt + " a batch of one class divides by its weights", () -> oneClass(be,
                        dt)));
            }
        }
        t.add(DynamicTest.dynamicTest("weight count checked against the classes", () -> weightCount(be)));
        t.add(DynamicTest.dynamicTest("bad weights and smoothing refused when built", CrossEntropyCases::badSettings));
        t.add(DynamicTest.dynamicTest("weighted smoothed step reads nothing back", () -> noDownload(be)));
        return t.stream();
    }

    /** The loss's value and the logits' gradient. */
    private static double[][] run(Backend be, DType dt, SoftmaxCrossEntropy loss, int[] labels) {
        try (Scope s = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(be, dt, LOGITS, 3, 4));
            Tensor y = Tensor.of(be, labels, labels.length);
            double[] value;
            try (Tape tape = Tape.open()) {
                Variable l = loss.compute(x, y);
                l.backward();
                value = l.value().toDoubles();
            }
            return new double[][] {value, x.grad().toDoubles()};
        }
    }

    private static void noSmoothing(Backend be, DType dt) {
        for (Reduction r : Reduction.values()) {
            double[][] plain = run(be, dt, new SoftmaxCrossEntropy(r), LABELS);
            double[][] zero = run(be, dt, SoftmaxCrossEntropy.builder().reduction(r).labelSmoothing(0).build(),
                    LABELS);
            assertArrayEquals(plain[0], zero[0], 0.0, r + " value");
            assertArrayEquals(plain[1], zero[1], 0.0, r + " gradient");
        }
    }

    /** All labels 2: Σ w[y]·loss / Σ w[y] is the plain mean whatever w[2] is, gradient included. */
    private static void oneClass(Backend be, DType dt) {
        int[] same = {2, 2, 2};
        double[][] plain = run(be, dt, new SoftmaxCrossEntropy(), same);
        double[][] weighted = run(be, dt, SoftmaxCrossEntropy.builder().weights(1, 1, 7.5, 1).build(), same);
        double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-14;
        Net.assertClose("one-class weighted mean", plain[0], weighted[0], tol, tol);
        Net.assertClose("one-class weighted gradient", plain[1], weighted[1], tol, tol);
        double[][] sum = run(be, dt, SoftmaxCrossEntropy.builder().weights(1, 1, 7.5, 1).reduction(Reduction.SUM)
                .build(), same);
        assertEquals(7.5 * 3 * plain[0][0], sum[0][0], 7.5 * 3 * plain[0][0] * tol, "the sum is not normalized");
    }

    private static void weightCount(Backend be) {
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().weights(1, 2, 3).build();
        try (Scope s = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(be, DType.FLOAT32, LOGITS, 3, 4));
            Tensor y = Tensor.of(be, LABELS, 3);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> loss.compute(x, y));
            assertTrue(e.getMessage().contains("3 class weights") && e.getMessage().contains("4 classes")
                    && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    private static void badSettings() {
        for (double w : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SoftmaxCrossEntropy.builder().weights(1, w, 2));
            assertTrue(e.getMessage().contains("weight " + w + " for class 1"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.builder().weights());
        for (double eps : new double[] {-0.1, 1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SoftmaxCrossEntropy.builder().labelSmoothing(eps));
            assertTrue(e.getMessage().contains("label smoothing") && e.getMessage().contains(String.valueOf(eps)),
                    e.getMessage());
        }
        double[] w = {1, 2, 3};
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().weights(w).build();
        w[0] = 100;
        assertEquals(1.0, loss.weights()[0], "the builder copies the weights");
    }

    /** Forward and backward on a backend that counts downloads and synchronizations: none may happen. */
    private static void noDownload(Backend be) {
        AtomicInteger reads = new AtomicInteger();
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("download") || method.getName().equals("synchronize")) {
                        reads.incrementAndGet();
                    }
                    try {
                        return method.invoke(be, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().weights(0.5, 2, 1, 3).labelSmoothing(0.1).build();
        try (Scope s = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(counting, DType.FLOAT32, LOGITS, 3, 4));
            Tensor y = Tensor.of(counting, LABELS, 3);
            int before = reads.get();
            try (Tape tape = Tape.open()) {
                loss.compute(x, y).backward();
            }
            assertEquals(before, reads.get(), "downloads or synchronizations during the loss's step");
            assertFalse(Double.isNaN(x.grad().toDoubles()[0]));
        }
    }
}
