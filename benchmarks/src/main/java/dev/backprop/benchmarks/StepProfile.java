package dev.backprop.benchmarks;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.data.BatchLoader;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Sgd;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Where a training step's time goes on a backend: the main job's step (784-256-128-10 ReLU MLP, batch 128, SGD,
 * softmax cross-entropy, batches from {@link BatchLoader.Placement#AUTO}, the loss copied to a device vector read
 * every 32 steps, as {@code train} does) on synthetic data, run for epochs of 469 steps:
 * <ul>
 *   <li>the wall time of an epoch and the part of it the host spent queuing (the rest is waiting for the device
 *       at the end): queuing ≈ wall means the host's cost per launch decides (launch-bound);</li>
 *   <li>then, through a proxy that times every SPI call, the calls per step and the host time per call of each
 *       SPI method (on a GPU: the cost of a launch through JCuda, plus the proxy's own ~0.1 µs).</li>
 * </ul>
 * Run by {@code gpu-verify.sh} on the GPU; usable on any backend: {@code StepProfile [backend] [epochs]}.
 */
public final class StepProfile {
    private static final int BATCH = 128;
    private static final int STEPS = 469;
    private static final int READ_EVERY = 32;

    private StepProfile() {
    }

    public static void main(String[] args) {
        String name = args.length > 0 ? args[0] : "cuda";
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Dataset data = synthetic(8192);
        try (Backend real = Backends.create(name, BackendOptions.defaults())) {
            System.out.println("step profile on " + real.name() + ": " + real.device().describe());
            double[] wall = new double[epochs], queue = new double[epochs];
            run(real, data);
            for (int e = 0; e < epochs; e++) {
                double[] t = run(real, data);
                wall[e] = t[0];
                queue[e] = t[1];
            }
            Arrays.sort(wall);
            Arrays.sort(queue);
            System.out.printf(Locale.ROOT, "epoch of %d steps: median wall %.1f ms, host queuing %.1f ms (%.0f%%); "
                            + "%.1f us per step%n", STEPS, wall[epochs / 2] * 1e3, queue[epochs / 2] * 1e3,
                    100 * queue[epochs / 2] / wall[epochs / 2], wall[epochs / 2] / STEPS * 1e6);

            Map<String, long[]> calls = new TreeMap<>();
            Backend timed = timing(real, calls);
            run(timed, data);
            calls.clear();
            double[] t = run(timed, data);
            System.out.printf(Locale.ROOT, "through the timing proxy: wall %.1f ms, host %.1f ms%n", t[0] * 1e3,
                    t[1] * 1e3);
            printCalls(calls, STEPS);
        }
    }

    /**
     * One line per SPI call of {@code calls} ({@link #timing}): calls, host time per call and per step, and the
     * calling thread's CPU time per step.
     */
    static void printCalls(Map<String, long[]> calls, int steps) {
        System.out.printf(Locale.ROOT, "%-32s %10s %12s %14s %14s%n", "SPI call", "per step", "host us/call",
                "host us/step", "cpu us/step");
        double perStep = 0, cpuPerStep = 0;
        for (Map.Entry<String, long[]> c : calls.entrySet()) {
            long[] v = c.getValue();
            double n = v[0] / (double) steps, us = v[1] / 1e3 / v[0], cpu = v[2] / 1e3 / steps;
            perStep += n * us;
            cpuPerStep += cpu;
            System.out.printf(Locale.ROOT, "%-32s %10.2f %12.2f %14.1f %14.1f%n", c.getKey(), n, us, n * us, cpu);
        }
        System.out.printf(Locale.ROOT, "%-32s %10s %12s %14.1f %14.1f%n", "all SPI calls", "", "", perStep,
                cpuPerStep);
    }

    /** One epoch of the step; returns {wall seconds, seconds until the host had queued everything}. */
    @SuppressWarnings("try")
    private static double[] run(Backend be, Dataset data) {
        try (Sequential model = Sequential.builder(be, DType.FLOAT32).seed(0).dense(784, 256).relu().dense(256, 128)
                .relu().dense(128, 10).build();
             Sgd sgd = new Sgd(model.parameters(), 0.1);
             BatchLoader loader = new BatchLoader(data, be, BATCH, BatchLoader.Placement.AUTO);
             Tensor losses = Tensor.zeros(be, DType.FLOAT32, STEPS)) {
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            int[] order = data.identityOrder();
            Dataset.shuffle(order, new Random(1));
            be.synchronize();
            long start = System.nanoTime();
            float[] host = new float[STEPS];
            for (int s = 0; s < STEPS; s++) {
                int from = (s * BATCH) % (data.size() - BATCH);
                sgd.zeroGrad();
                try (Tape tape = Tape.open()) {
                    BatchLoader.Batch b = loader.load(order, from, from + BATCH);
                    Variable l = loss.compute(model.forward(Variable.constant(b.features())), b.targets());
                    l.backward();
                    Elementwise.copy(l.value().reshape(1), losses.rows(s, s + 1));
                }
                sgd.step();
                if ((s + 1) % READ_EVERY == 0) {
                    be.download(losses.buffer(), losses.offset() + s + 1 - READ_EVERY, host, s + 1 - READ_EVERY,
                            READ_EVERY);
                }
            }
            long queued = System.nanoTime();
            be.synchronize();
            long end = System.nanoTime();
            return new double[] {(end - start) / 1e9, (queued - start) / 1e9};
        }
    }

    /**
     * {@code real} behind a proxy adding each call's host time to {@code calls} (name -> {count, nanos, nanos of
     * the calling thread's CPU time}). On a backend computing on the host with one thread, the CPU time is the
     * call's own work whatever else the machine runs.
     */
    static Backend timing(Backend real, Map<String, long[]> calls) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, a) -> {
                    long c0 = cpu.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                    try {
                        return method.invoke(real, a);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long dt = System.nanoTime() - t0, dc = cpu.getCurrentThreadCpuTime() - c0;
                        String key = method.getName() + (a != null && a.length > 0 && a[0] instanceof Enum<?> op
                                ? " " + op.name().toLowerCase(Locale.ROOT) : "");
                        long[] c = calls.computeIfAbsent(key, k -> new long[3]);
                        c[0]++;
                        c[1] += dt;
                        c[2] += dc;
                    }
                });
    }

    /** {@code n} random 784-feature examples in 10 classes (the timing does not depend on the values). */
    private static Dataset synthetic(int n) {
        Random r = new Random(0);
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(10);
        }
        return Dataset.classification(x, new int[] {784}, y, 10, null);
    }
}
