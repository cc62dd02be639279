package dev.backprop.contract.network;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Reduction;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import dev.backprop.testing.Blobs;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Evaluator;
import dev.backprop.train.Trainer;
import org.junit.jupiter.api.DynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SoftmaxCrossEntropy}'s class weights and label smoothing beyond PyTorch's vectors ({@link TorchEdgeCases})
 * and finite differences ({@link LayerGradientCases}): ε = 0 is the plain loss bit for bit, a batch of one class
 * divides by its own weight sum, the weight count is checked against the logits, bad settings are refused when
 * built, and a weighted, smoothed loss neither uploads nor transfers anything back.
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
                t.add(DynamicTest.dynamicTest(dt + " smoothing 0, unit weights: the plain loss bit for bit",
                        () -> noSmoothing(be, dt)));
                t.add(DynamicTest.dynamicTest(dt + " a batch of one class divides by its weights", () -> oneClass(be,
                        dt)));
            }
        }
        t.add(DynamicTest.dynamicTest("weight count checked against the classes", () -> weightCount(be)));
        t.add(DynamicTest.dynamicTest("bad weights and smoothing refused when built", CrossEntropyCases::badSettings));
        t.add(DynamicTest.dynamicTest("weighted smoothed step transfers nothing", () -> noDownload(be)));
        t.add(DynamicTest.dynamicTest("Trainer validates and resumes with the weighted loss",
                () -> throughTrainer(be)));
        return t.stream();
    }

    /** The loss's value and the logits' gradient. */
    private static double[][] run(Backend be, DType dt, SoftmaxCrossEntropy loss, int[] labels) {
        return run(be, dt, loss, LOGITS, labels);
    }

    private static double[][] run(Backend be, DType dt, SoftmaxCrossEntropy loss, double[] logits, int[] labels) {
        try (Scope s = Scope.open()) {
            Variable x = Variable.leaf(Net.tensor(be, dt, logits, labels.length, logits.length / labels.length));
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

    /**
     * Smoothing 0 and weights all 1 (what {@code balanced} gives on balanced classes) are the plain loss, bit for
     * bit, as in PyTorch, where unit weights take the unweighted kernel's arithmetic; with smoothing, unit weights are
     * the unweighted smoothed loss.
     */
    private static void noSmoothing(Backend be, DType dt) {
        Random random = new Random(5);
        int n = 37, k = 10;
        double[] logits = random.doubles(n * k, -4, 4).toArray();
        int[] labels = random.ints(n, 0, k).toArray();
        for (Reduction r : Reduction.values()) {
            double[][] plain = run(be, dt, new SoftmaxCrossEntropy(r), LABELS);
            double[][] zero = run(be, dt, SoftmaxCrossEntropy.builder().reduction(r).labelSmoothing(0).build(),
                    LABELS);
            assertArrayEquals(plain[0], zero[0], 0.0, r + " value");
            assertArrayEquals(plain[1], zero[1], 0.0, r + " gradient");
            double[] ones = new double[k];
            Arrays.fill(ones, 1);
            for (double eps : new double[] {0, 0.2}) {
                SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder().reduction(r).labelSmoothing(eps);
                double[][] unweighted = run(be, dt, b.build(), logits, labels);
                double[][] unit = run(be, dt, b.weights(ones).build(), logits, labels);
                assertArrayEquals(unweighted[0], unit[0], 0.0, r + " value, unit weights, smoothing " + eps);
                assertArrayEquals(unweighted[1], unit[1], 0.0, r + " gradient, unit weights, smoothing " + eps);
            }
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

    /**
     * Four epochs straight against two, a checkpoint and two more in fresh objects, with a weighted, smoothed loss:
     * the same weights and validation, which is the weighted loss's (not the plain one's).
     */
    private static void throughTrainer(Backend be) throws IOException {
        Dataset data = Blobs.blobs(40, 6);
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().weights(3, 1, 0.5).labelSmoothing(0.2).build();
        Path dir = Files.createTempDirectory("weighted-ce");
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential straight = net(be, 4); Sequential first = net(be, 4); Sequential resumed = net(be, 9);
             Adam oa = Adam.adam(straight.parameters(), 0.05); Adam ob = Adam.adam(first.parameters(), 0.05);
             Adam oc = Adam.adam(resumed.parameters(), 0.05)) {
            Trainer a = Trainer.builder(straight, loss, oa).batchSize(8).seed(3).build();
            Trainer b = Trainer.builder(first, loss, ob).batchSize(8).seed(3).build();
            Trainer c = Trainer.builder(resumed, loss, oc).batchSize(8).seed(3).build();
            List<List<EpochMetrics>> runs = TrainingCases.straightAndResumed(a, b, c, data, ckpt);
            List<EpochMetrics> all = runs.get(0), rest = runs.get(1);
            ModelFileCases.assertSameParameters(straight, resumed);
            assertEquals(all.get(3).validation(), rest.get(1).validation(), "epoch 4 validation");
            assertEquals(all.get(3).trainLoss(), rest.get(1).trainLoss(), "epoch 4 loss");
            assertEquals(a.evaluate(data), all.get(3).validation(), "Trainer.evaluate uses the same loss");
            double plain = Evaluator.evaluate(straight, new SoftmaxCrossEntropy(), data, 256).loss();
            assertNotEquals(plain, all.get(3).validation().loss(), "the validation loss is the weighted one");
        } finally {
            Files.deleteIfExists(ckpt);
            Files.delete(dir);
        }
    }

    private static Sequential net(Backend be, long seed) {
        return Sequential.builder(be, DType.FLOAT32).seed(seed).dense(2, 8).tanh().dense(8, 3).build();
    }

    /** Forward and backward on a backend that counts transfers and synchronizations: none may happen. */
    private static void noDownload(Backend be) {
        AtomicInteger transfers = new AtomicInteger();
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (List.of("upload", "download", "synchronize").contains(method.getName())) {
                        transfers.incrementAndGet();
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
            int before = transfers.get();
            // A weighted, smoothed step with no transfer at all: a backend that records whole steps can record it.
            try (Tape tape = Tape.open()) {
                loss.compute(x, y).backward();
            }
            assertEquals(before, transfers.get(), "uploads, downloads or synchronizations during the loss's step");
            assertFalse(Double.isNaN(x.grad().toDoubles()[0]));
        }
    }
}
