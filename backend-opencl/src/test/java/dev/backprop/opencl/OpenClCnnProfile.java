package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.Window2d;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.Trainer;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Where the reference CNN's training step goes (Conv2d(1,32,3,p1) ReLU MaxPool2d(2) Conv2d(32,64,3,p1) ReLU
 * MaxPool2d(2) Flatten Linear(3136,128) ReLU Linear(128,10); Adam 1e-3, batch 128, Fashion-MNIST as [B, 1, 28, 28]):
 * <ol>
 *   <li>the wall time of {@code steps} training steps and the epoch of 469 steps it implies;</li>
 *   <li>every SPI call of those steps timed to completion (a proxy waits for the device before and after each
 *       call; the convolutions are timed whole and also split into the calls they make);</li>
 *   <li>each convolution's forward and backward pass in GFLOP/s beside the GEMM it runs on, best of 10.</li>
 * </ol>
 * A measuring tool, not a test: {@code OpenClCnnProfile [steps] [backend]} (defaults 50, opencl).
 */
public final class OpenClCnnProfile {
    private static final int BATCH = 128;
    private static final int EPOCH_STEPS = 469;

    private OpenClCnnProfile() {
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        String name = args.length > 1 ? args[1] : "opencl";
        Dataset data = images(FashionMnist.split(FashionMnist.defaultDir(), "train"));
        try (Backend real = Backends.create(name, BackendOptions.defaults())) {
            System.out.println(real.name() + ": " + real.device().describe());
            double wall = train(real, data, steps, null);
            System.out.printf(Locale.ROOT, "%d steps: %.1f ms per step, epoch of %d steps %.1f s%n", steps,
                    wall / steps * 1e3, EPOCH_STEPS, wall / steps * EPOCH_STEPS);

            Map<String, double[]> calls = new TreeMap<>();
            train(timing(real, calls), data, steps, calls);
            System.out.printf(Locale.ROOT, "%-72s %7s %9s %9s%n", "SPI call (timed to completion)", "n/step",
                    "ms/call", "ms/step");
            calls.forEach((call, v) -> System.out.printf(Locale.ROOT, "%-72s %7.2f %9.3f %9.2f%n", call,
                    v[0] / steps, v[1] / 1e6 / v[0], v[1] / 1e6 / steps));

            convolutions(real);
        }
    }

    /** The data set with its images seen as [1, 28, 28]. */
    private static Dataset images(Dataset raw) {
        float[] f = new float[raw.size() * raw.featureSize()];
        raw.gatherFeatures(raw.identityOrder(), 0, raw.size(), f);
        int[] labels = new int[raw.size()];
        raw.gatherLabels(raw.identityOrder(), 0, raw.size(), labels);
        return Dataset.classification(f, new int[] {1, 28, 28}, labels, 10, raw.classNames());
    }

    /**
     * Seconds for {@code steps} steps, after 5 to warm up (with the data set already placed by the loader);
     * {@code calls}, if given, is cleared after the warm-up.
     */
    private static double train(Backend be, Dataset data, int steps, Map<String, double[]> calls) {
        Sequential model = Sequential.builder(be, DType.FLOAT32).seed(0)
                .conv2d(Conv2d.options(1, 32, 3).padding(1)).relu().maxPool2d(2)
                .conv2d(Conv2d.options(32, 64, 3).padding(1)).relu().maxPool2d(2)
                .flatten().dense(3136, 128).relu().dense(128, 10).build();
        Trainer t = Trainer.builder(model, new SoftmaxCrossEntropy(), Adam.adam(model.parameters(), 1e-3))
                .batchSize(BATCH).seed(0).stepsPerEpoch(5).build();
        try (BatchLoader loader = new BatchLoader(data, be, DType.FLOAT32, BATCH, BatchLoader.Placement.AUTO)) {
            t.fit(loader, null, 1, null);
            be.synchronize();
            if (calls != null) {
                calls.clear();
            }
            t = Trainer.builder(model, new SoftmaxCrossEntropy(), Adam.adam(model.parameters(), 1e-3))
                    .batchSize(BATCH).seed(1).stepsPerEpoch(steps).build();
            long t0 = System.nanoTime();
            t.fit(loader, null, 1, null);
            be.synchronize();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** A proxy that waits for {@code real} around every op and adds its time to {@code calls} by name and shape. */
    private static Backend timing(Backend real, Map<String, double[]> calls) {
        InvocationHandler h = (proxy, m, a) -> {
            String n = m.getName();
            boolean op = a != null && a.length > 2 && !n.equals("allocate") && !n.equals("release");
            if (op) {
                real.synchronize();
            }
            long t0 = System.nanoTime();
            try {
                Object r = m.isDefault() && n.startsWith("conv2d") ? InvocationHandler.invokeDefault(proxy, m, a)
                        : m.invoke(real, a);
                if (op) {
                    real.synchronize();
                    double[] v = calls.computeIfAbsent(key(n, a), k -> new double[2]);
                    v[0]++;
                    v[1] += System.nanoTime() - t0;
                }
                return r;
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    private static String key(String n, Object[] a) {
        if (a[0] instanceof Window2d w) {
            return n + " " + w;
        }
        if (n.equals("gemm")) {
            return String.format(Locale.ROOT, "gemm %s%s %dx%dx%d", (Boolean) a[0] ? "T" : "N",
                    (Boolean) a[1] ? "T" : "N", (Integer) a[2], (Integer) a[3], (Integer) a[4]);
        }
        return switch (n) {
            case "copyStrided" -> n + " " + Arrays.toString((int[]) a[0]);
            case "binary" -> n + " " + a[0] + " " + a[1] + "x" + a[2] + " " + a[5] + "/" + a[8];
            case "reduce" -> n + " " + a[0] + " " + a[1] + " " + a[2] + "x" + a[3];
            default -> n;
        };
    }

    /** Each layer's convolution (forward; backward as training runs it) and its forward GEMM, in GFLOP/s. */
    private static void convolutions(Backend be) {
        Window2d[] layers = {Window2d.of(BATCH, 1, 28, 28, 3, 3, 1, 1, 1, 1),
                Window2d.of(BATCH, 32, 14, 14, 3, 3, 1, 1, 1, 1)};
        int[] outs = {32, 64};
        for (int l = 0; l < layers.length; l++) {
            Window2d w = layers[l];
            int o = outs[l], p = w.patchSize(), q = w.columns();
            boolean first = l == 0; // the input layer needs no dx
            Buffer x = random(be, w.inputSize()), wt = random(be, (long) o * p), bias = random(be, o);
            Buffer y = random(be, (long) o * q), dx = be.allocate(DType.FLOAT32, w.inputSize());
            Buffer dw = be.allocate(DType.FLOAT32, (long) o * p), db = be.allocate(DType.FLOAT32, o);
            Buffer cols = random(be, (long) p * q);
            double flops = 2.0 * o * p * q;
            System.out.printf(Locale.ROOT, "conv %s -> %d: forward %.1f GFLOP/s, backward (%s) %.1f GFLOP/s, "
                            + "its forward GEMM %dx%dx%d alone %.1f GFLOP/s%n", w, o,
                    flops / best(be, () -> be.conv2d(w, o, x, 0, wt, 0, bias, 0, y, 0)) / 1e9,
                    first ? "dweight, dbias" : "dx, dweight, dbias", (first ? 1 : 2) * flops / best(be,
                            () -> be.conv2dBackward(w, o, x, 0, wt, 0, y, 0, first ? null : dx, 0, dw, 0, db, 0))
                            / 1e9, o, q, p,
                    flops / best(be, () -> be.gemm(false, false, o, q, p, 1, wt, 0, p, cols, 0, q, 0, y, 0, q, 1, 0,
                            0, 0)) / 1e9);
            for (Buffer b : new Buffer[] {x, wt, bias, y, dx, dw, db, cols}) {
                be.release(b);
            }
        }
    }

    private static Buffer random(Backend be, long n) {
        float[] v = new float[(int) n];
        Random r = new Random(n);
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat() - 0.5f;
        }
        Buffer b = be.allocate(DType.FLOAT32, n);
        be.upload(v, 0, b, 0, v.length);
        return b;
    }

    /** The best of 10 timed calls (after 2 untimed), in seconds. */
    private static double best(Backend be, Runnable call) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 12; i++) {
            be.synchronize();
            long t0 = System.nanoTime();
            call.run();
            be.synchronize();
            if (i >= 2) {
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
        }
        return best;
    }
}
