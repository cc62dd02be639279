package dev.backprop.contract.network;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DType;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-backend consistency, shared by every accelerator backend: the same seeded network (20-64-32-10 ReLU MLP,
 * host-side initialization and shuffling) trained for 200 mini-batch steps on {@code cpu} and on the backend
 * under test, in FLOAT32. Every step's loss agrees within 1e-3 relative, and every final parameter tensor within
 * 1e-3 of its norm. Run with SGD+momentum and with Adam, so both fused optimizer kernels are compared as well as
 * the forward and backward ops.
 *
 * <p>A subclass supplies the backend under test ({@link #createCandidate}, which may skip the test when the
 * backend cannot run here); the {@code cpu} reference comes from the registry, so the module's tests need
 * backend-cpu on their class path.
 */
public abstract class CrossBackendTrainingTest {
    private static final int STEPS = 200;
    private static final int BATCH = 32;

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
