package dev.backprop.contract.network;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DType;
import dev.backprop.data.Augmentation;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.runtime.Backends;
import dev.backprop.train.BatchResult;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-backend consistency, shared by every accelerator backend: the same seeded network (20-64-32-10 ReLU MLP,
 * host-side initialization and shuffling) trained for 200 mini-batch steps on {@code cpu} and on the backend
 * under test, in FLOAT32. Every step's loss agrees within 1e-3 relative, and every final parameter tensor within
 * 1e-3 of its norm. Run with SGD+momentum and with Adam, so both fused optimizer kernels are compared as well as
 * the forward and backward ops. A small CNN with both batch norms and two dropouts, 50 Adam steps, is held to the
 * same bounds against {@code cpu} and against the float64 reference backend (in FLOAT64), and a dropout draw is the
 * same bits on all three. The CNN, augmented on the host, is held to the same bounds against {@code cpu}.
 *
 * <p>A subclass supplies the backend under test ({@link #createCandidate}, which may skip the test when the
 * backend cannot run here); the {@code cpu} reference comes from the registry, so the module's tests need
 * backend-cpu on their class path.
 */
public abstract class CrossBackendTrainingTest {
    private static final int STEPS = 200;
    private static final int BATCH = 32;
    private static final int CNN_STEPS = 50;
    private static final int CNN_BATCH = 16;

    /** A fresh backend under test; the test closes it. May skip the calling test (JUnit assumptions). */
    protected abstract Backend createCandidate();

    @Test
    void sgdMomentumTrainingAgreesWithCpu() {
        compare(params -> Sgd.builder(params).lr(0.05).momentum(0.9).weightDecay(1e-4).build());
    }

    @Test
    void adamTrainingAgreesWithCpu() {
        compare(params -> Adam.adam(params, 2e-3));
    }

    private void compare(Function<Map<String, Variable>, Optimizer> optimizer) {
        Dataset data = blobs(STEPS * BATCH / 4, 20, 10, 11);
        Run other;
        String name;
        try (Backend be = createCandidate()) {
            name = be.name();
            other = train(be, data, optimizer);
        }
        Run cpu;
        try (Backend be = Backends.create("cpu", BackendOptions.defaults())) {
            cpu = train(be, data, optimizer);
        }
        assertEquals(STEPS, cpu.losses.size(), "steps on cpu");
        assertEquals(STEPS, other.losses.size(), "steps on " + name);
        for (int i = 0; i < STEPS; i++) {
            double a = cpu.losses.get(i), b = other.losses.get(i);
            assertTrue(Math.abs(a - b) <= 1e-3 * Math.abs(a), "step " + (i + 1) + ": loss cpu " + a + ", " + name
                    + " " + b);
        }
        assertTrue(cpu.losses.get(STEPS - 1) < 0.5 * cpu.losses.get(0), "the network learned something: "
                + cpu.losses.get(0) + " -> " + cpu.losses.get(STEPS - 1));
        assertEquals(cpu.weights.keySet(), other.weights.keySet());
        for (String param : cpu.weights.keySet()) {
            float[] a = cpu.weights.get(param), b = other.weights.get(param);
            double diff = 0, norm = 0;
            for (int i = 0; i < a.length; i++) {
                diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
                norm += a[i] * (double) a[i];
            }
            assertTrue(Math.sqrt(diff) <= 1e-3 * Math.sqrt(norm), param + ": |cpu - " + name + "| = "
                    + Math.sqrt(diff) + ", |cpu| = " + Math.sqrt(norm));
        }
    }

    /**
     * 50 Adam steps of a CNN with BatchNorm2d, BatchNorm1d and two dropouts (host-side initialization, shuffling and
     * Philox masks): the candidate and {@code cpu} in FLOAT32 and the reference in FLOAT64 agree step by step and in
     * the final weights and batch-norm buffers; the losses must also fall (by 30% from the first ten steps to the last
     * ten, single steps being noisy with dropout), so the runs are not trivially equal. Batches of 16: with 8, a
     * batch norm over so few rows turns float32 rounding into visibly different paths (1e-4 to 3e-3 apart after 50
     * steps, where 16 stay within 2e-6).
     */
    @Test
    void cnnWithBatchNormAndDropoutAgreesWithCpuAndTheFloat64Reference() {
        Dataset data = TrainingCases.images(CNN_STEPS * CNN_BATCH, 31);
        Run other;
        String name;
        try (Backend be = createCandidate()) {
            name = be.name();
            other = trainCnn(be, DType.FLOAT32, data);
        }
        Run cpu;
        try (Backend be = Backends.create("cpu", BackendOptions.defaults())) {
            cpu = trainCnn(be, DType.FLOAT32, data);
        }
        Run exact;
        try (Backend be = new dev.backprop.reference.ReferenceBackend()) {
            exact = trainCnn(be, DType.FLOAT64, data);
        }
        double first = exact.losses.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = exact.losses.subList(CNN_STEPS - 10, CNN_STEPS).stream().mapToDouble(Double::doubleValue)
                .average().orElseThrow();
        assertTrue(last < 0.7 * first, "the CNN learned something: mean loss of the first 10 steps " + first
                + ", of the last 10 " + last);
        agree(CNN_STEPS, "float64 reference", exact, name, other);
        agree(CNN_STEPS, "float64 reference", exact, "cpu", cpu);
        agree(CNN_STEPS, "cpu", cpu, name, other);
    }

    /**
     * The CNN case with {@code crop:2,hflip} augmentation (drawn on the host, so the same batches everywhere): the
     * candidate and {@code cpu} agree to the same bounds as without it, and the augmentation does change the run.
     */
    @Test
    void augmentedCnnTrainingAgreesWithCpu() {
        Dataset data = TrainingCases.images(CNN_STEPS * CNN_BATCH, 31);
        Augmentation augment = Augmentation.parse("crop:2,hflip");
        Run other;
        String name;
        try (Backend be = createCandidate()) {
            name = be.name();
            other = trainCnn(be, DType.FLOAT32, data, augment);
        }
        Run cpu, plain;
        try (Backend be = Backends.create("cpu", BackendOptions.defaults())) {
            cpu = trainCnn(be, DType.FLOAT32, data, augment);
            plain = trainCnn(be, DType.FLOAT32, data, Augmentation.NONE);
        }
        agree(CNN_STEPS, "cpu", cpu, name, other);
        assertTrue(!cpu.losses.equals(plain.losses), "the augmentation changes the losses");
    }

    /** One dropout draw of 4099 ones: the same bits from the candidate, {@code cpu} and the reference. */
    @Test
    void dropoutMasksAreTheSameBitsOnEveryBackend() {
        float[] ones = new float[4099];
        java.util.Arrays.fill(ones, 1f);
        float[] candidate;
        try (Backend be = createCandidate()) {
            candidate = drop(be, ones);
        }
        try (Backend be = Backends.create("cpu", BackendOptions.defaults())) {
            assertArrayEquals(drop(be, ones), candidate, "cpu and the candidate");
        }
        try (Backend be = new dev.backprop.reference.ReferenceBackend()) {
            assertArrayEquals(drop(be, ones), candidate, "the reference and the candidate");
        }
        long zeros = IntStream.range(0, ones.length).filter(i -> candidate[i] == 0).count();
        assertTrue(Math.abs(zeros - 0.3 * ones.length) < 100, zeros + " of 4099 dropped at p = 0.3");
    }

    private static float[] drop(Backend be, float[] values) {
        try (dev.backprop.tensor.Tensor x = dev.backprop.tensor.Tensor.of(be, values, values.length);
             dev.backprop.tensor.Tensor y = dev.backprop.tensor.Tensor.empty(be, DType.FLOAT32, values.length)) {
            dev.backprop.tensor.Regularization.dropout(x, 0.3, 0x5EED, 12_345, y);
            return y.toFloatArray();
        }
    }

    private static void agree(int steps, String aName, Run a, String bName, Run b) {
        assertEquals(steps, a.losses.size(), "steps on " + aName);
        assertEquals(steps, b.losses.size(), "steps on " + bName);
        double worstLoss = 0, worstWeight = 0;
        for (int i = 0; i < steps; i++) {
            double x = a.losses.get(i), y = b.losses.get(i);
            assertTrue(Math.abs(x - y) <= 1e-3 * Math.abs(x), "step " + (i + 1) + ": loss " + aName + " " + x + ", "
                    + bName + " " + y);
            worstLoss = Math.max(worstLoss, Math.abs(x - y) / Math.abs(x));
        }
        assertEquals(a.weights.keySet(), b.weights.keySet());
        for (String param : a.weights.keySet()) {
            float[] x = a.weights.get(param), y = b.weights.get(param);
            double diff = 0, norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (x[i] - y[i]) * (double) (x[i] - y[i]);
                norm += x[i] * (double) x[i];
            }
            assertTrue(Math.sqrt(diff) <= 1e-3 * Math.sqrt(norm), param + ": |" + aName + " - " + bName + "| = "
                    + Math.sqrt(diff) + ", |" + aName + "| = " + Math.sqrt(norm));
            worstWeight = Math.max(worstWeight, Math.sqrt(diff) / Math.sqrt(norm));
        }
        System.out.printf(java.util.Locale.ROOT, "CNN %d steps, %s against %s: largest loss difference %.2e "
                + "(relative), largest tensor difference %.2e (of its norm)%n", steps, bName, aName, worstLoss,
                worstWeight);
    }

    private static Run trainCnn(Backend be, DType dt, Dataset data) {
        return trainCnn(be, dt, data, Augmentation.NONE);
    }

    private static Run trainCnn(Backend be, DType dt, Dataset data, Augmentation augmentation) {
        List<Double> losses = new ArrayList<>();
        Map<String, float[]> weights = new TreeMap<>();
        try (Sequential model = TrainingCases.imageNet(be, dt, 32);
             Optimizer opt = Adam.adam(model.parameters(), 0.01)) {
            Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), opt).batchSize(CNN_BATCH).seed(33)
                    .augmentation(augmentation).build();
            trainer.fit(data, null, 1, new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onBatch(BatchResult batch) {
                    losses.add(batch.loss());
                }
            });
            model.parameters().forEach((param, v) -> weights.put(param, floats(v.value().toDoubles())));
            model.buffers().forEach((buffer, t) -> weights.put(buffer, floats(t.toDoubles())));
        }
        return new Run(losses, weights);
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private record Run(List<Double> losses, Map<String, float[]> weights) {
    }

    private static Run train(Backend be, Dataset data, Function<Map<String, Variable>, Optimizer> optimizer) {
        List<Double> losses = new ArrayList<>();
        Map<String, float[]> weights = new TreeMap<>();
        try (Sequential model = Sequential.builder(be, DType.FLOAT32).seed(7).dense(20, 64).relu().dense(64, 32).relu()
                .dense(32, 10).build();
             Optimizer opt = optimizer.apply(model.parameters())) {
            Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), opt).batchSize(BATCH).seed(3).build();
            trainer.fit(data, null, STEPS * BATCH / data.size(), new EpochListener() {
                @Override
                public void onEpoch(EpochMetrics metrics) {
                }

                @Override
                public void onBatch(BatchResult batch) {
                    losses.add(batch.loss());
                }
            });
            model.parameters().forEach((param, v) -> weights.put(param, v.value().toFloatArray()));
        }
        return new Run(losses, weights);
    }

    /** Ten Gaussian blobs in {@code dims} dimensions, seeded. */
    private static Dataset blobs(int n, int dims, int classes, long seed) {
        Random rnd = new Random(seed);
        float[][] centers = new float[classes][dims];
        for (float[] c : centers) {
            for (int d = 0; d < dims; d++) {
                c[d] = (float) rnd.nextGaussian() * 2;
            }
        }
        float[] x = new float[n * dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(classes);
            for (int d = 0; d < dims; d++) {
                x[i * dims + d] = centers[y[i]][d] + (float) rnd.nextGaussian() * 1.5f;
            }
        }
        return Dataset.classification(x, new int[] {dims}, y, classes, null);
    }
}
