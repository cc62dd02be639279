package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Init;
import dev.backprop.nn.Layers;
import dev.backprop.nn.ParameterFactory;
import dev.backprop.nn.Sequential;
import dev.backprop.random.TorchGenerator;
import dev.backprop.tensor.Tensor;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Trains the reference CNN of {@code cnn_fashion.py} on Fashion-MNIST and prints its epoch times the way
 * {@code backprop train} does, without the command line, for profiling the step on its own
 * ({@code benchmarks/pytorch/side_by_side.sh} with {@code ARCH=cnn} sets {@code train} itself beside PyTorch):
 * Conv2d(1,32,3,p1) ReLU MaxPool2d(2) Conv2d(32,64,3,p1) ReLU MaxPool2d(2) Flatten Linear(3136,128) ReLU
 * Linear(128,10), built and seeded as {@code train --arch cnn --seed S} builds it (default seed 0), Adam 1e-3, batch
 * 128 over the whole training set (469 steps), images as {@code [B, 1, 28, 28]}. With {@code --dtype float64} it
 * trains in double precision from the same float32 initial weights widened, as PyTorch's {@code model.double()} does
 * ({@code DTYPE=float64 SEED=S cnn_fashion.py adam N}): with rounding errors near 1e-16 instead of 1e-7 on both
 * sides, the two trajectories show whether a float32 difference between them is rounding or a different
 * computation. The timed span of an epoch is the trainer's ({@link EpochMetrics#trainSeconds()}:
 * shuffle, batch gather, forward, loss, backward, step); the summary's median is over epochs 2..N.
 *
 * <p>With {@code --profile STEPS} it instead runs one untimed epoch of that many steps, then one more through a
 * proxy that times every SPI call ({@link StepProfile#timing}), and prints each call's count and time per step.
 *
 * <pre>
 * CnnEpochs [EPOCHS] [THREADS] [--backend NAME] [--seed S] [--dtype float32|float64] [--profile STEPS]
 *           [--data DIR]
 * </pre>
 */
public final class CnnEpochs {
    private static final int BATCH = 128;

    private CnnEpochs() {
    }

    public static void main(String[] args) {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        String backendName = option(rest, "--backend", "cpu");
        long seed = Long.parseLong(option(rest, "--seed", "0"));
        DType dtype = DType.valueOf(option(rest, "--dtype", "float32").toUpperCase(Locale.ROOT));
        int profileSteps = Integer.parseInt(option(rest, "--profile", "0"));
        Path dir = Path.of(option(rest, "--data", FashionMnist.defaultDir().toString()));
        int epochs = rest.size() > 0 ? Integer.parseInt(rest.get(0)) : 3;
        String threads = rest.size() > 1 ? rest.get(1) : "2";
        FashionMnist.Splits data = FashionMnist.load(dir);
        Dataset train = images(data.train()), test = images(data.test());
        try (Backend real = Backends.create(backendName, BackendOptions.of(Map.of("threads", threads)))) {
            System.out.println("backend: " + real.name() + " on " + real.device().describe() + "; seed " + seed
                    + ", " + dtype);
            if (profileSteps > 0) {
                profile(real, train, profileSteps, dtype, seed);
            } else {
                epochs(real, train, test, epochs, dtype, seed);
            }
        }
    }

    /** Removes {@code name VALUE} from {@code args} and returns the value, or {@code fallback} when absent. */
    private static String option(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        if (i < 0) {
            return fallback;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        String v = args.get(i + 1);
        args.subList(i, i + 2).clear();
        return v;
    }

    /** The same examples with per-example shape {@code [1, 28, 28]}, the convolution's NCHW input. */
    static Dataset images(Dataset flat) {
        int n = flat.size(), f = flat.featureSize();
        float[] x = new float[n * f];
        int[] y = new int[n];
        int[] order = flat.identityOrder();
        flat.gatherFeatures(order, 0, n, x);
        flat.gatherLabels(order, 0, n, y);
        return Dataset.classification(x, new int[] {1, 28, 28}, y, flat.numClasses(), flat.classNames());
    }

    /**
     * The network {@code train --arch cnn --seed seed} trains; in FLOAT64, its float32 initial weights widened
     * (the same draws, each rounded to float first).
     */
    static Sequential model(Backend be, DType dtype, long seed) {
        Cnn cnn = Cnn.fashionMnist(Init.PYTORCH_DEFAULT, seed);
        if (dtype == DType.FLOAT32) {
            return cnn.build(be);
        }
        Random rng = new TorchGenerator(seed);
        ParameterFactory widened = (name, shape, role, fanIn, fanOut) -> {
            int n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
            double[] v = Init.PYTORCH_DEFAULT.sample(role, n, fanIn, fanOut, rng);
            for (int i = 0; i < n; i++) {
                v[i] = (float) v[i];
            }
            return Tensor.of(be, v, shape);
        };
        return (Sequential) Layers.create(cnn.spec(), widened);
    }

    private static void epochs(Backend be, Dataset train, Dataset test, int epochs, DType dtype, long seed) {
        try (Sequential model = model(be, dtype, seed); Adam adam = Adam.adam(model.parameters(), 1e-3)) {
            Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), adam).batchSize(BATCH).seed(seed)
                    .evaluationBatchSize(1000).trackAccuracy(false).build();
            System.out.printf(Locale.ROOT, "%5s %8s %10s %10s %9s %9s%n", "epoch", "time_s", "samples/s",
                    "train_loss", "test_loss", "test_acc");
            List<EpochMetrics> done = trainer.fit(train, test, epochs, m -> System.out.printf(Locale.ROOT,
                    "%5d %8.3f %10.0f %10.4f %9.4f %9.4f%n", m.epoch(), m.trainSeconds(),
                    m.examples() / m.trainSeconds(), m.trainLoss(), m.validation().loss(),
                    m.validation().accuracy()));
            double[] t = done.stream().skip(done.size() > 1 ? 1 : 0).mapToDouble(EpochMetrics::trainSeconds)
                    .sorted().toArray();
            double median = t.length % 2 == 1 ? t[t.length / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
            EpochMetrics last = done.get(done.size() - 1);
            System.out.printf(Locale.ROOT, "summary: impl=backprop backend=%s arch=cnn optimizer=adam epochs=%d "
                            + "epochs_timed=%d..%d median_epoch_s=%.4f median_samples_per_s=%.0f test_acc=%.4f%n",
                    be.name(), done.size(), done.size() > 1 ? 2 : 1, done.size(), median,
                    last.examples() / median, last.validation().accuracy());
        }
    }

    /** Where a step's time goes: per SPI call, over one epoch of {@code steps} steps after a warm-up epoch. */
    private static void profile(Backend real, Dataset train, int steps, DType dtype, long seed) {
        Map<String, long[]> calls = new TreeMap<>();
        Backend timed = StepProfile.timing(real, calls);
        try (Sequential model = model(timed, dtype, seed); Adam adam = Adam.adam(model.parameters(), 1e-3)) {
            Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), adam).batchSize(BATCH).seed(seed)
                    .stepsPerEpoch(steps).trackAccuracy(false).build();
            trainer.fit(train, null, 1, null);
            calls.clear();
            EpochMetrics m = trainer.fit(train, null, 1, null).get(0);
            System.out.printf(Locale.ROOT, "%d steps through the timing proxy: %.3f s, %.1f ms per step%n", steps,
                    m.trainSeconds(), m.trainSeconds() / steps * 1e3);
            StepProfile.printCalls(calls, steps);
        }
    }
}
