package dev.backprop.spark.engine;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.loss.Loss;
import dev.backprop.nn.Layer;
import dev.backprop.optim.Optimizer;
import dev.backprop.spark.EpochResult;
import dev.backprop.spark.TrainingSpec;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;

import org.junit.jupiter.api.Assertions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Synthetic data and the single-JVM runs the distributed ones are compared with. */
public final class TrainingFixtures {
    private TrainingFixtures() {
    }

    /** {@code n} examples of {@code features} features in {@code classes} Gaussian clusters. */
    public static Dataset clusters(int n, int features, int classes, long seed) {
        Random rng = new Random(seed);
        float[][] centres = new float[classes][features];
        for (float[] c : centres) {
            for (int j = 0; j < features; j++) {
                c[j] = (float) rng.nextGaussian();
            }
        }
        float[] x = new float[n * features];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(classes);
            for (int j = 0; j < features; j++) {
                x[i * features + j] = centres[y[i]][j] + (float) (0.8 * rng.nextGaussian());
            }
        }
        return Dataset.classification(x, new int[] {features}, y, classes, null);
    }

    /** The examples of {@code d} ordered by label (stable), so that consecutive shards hold different classes. */
    public static Dataset sortedByLabel(Dataset d) {
        Integer[] order = new Integer[d.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingInt(d::label));
        int f = d.featureSize();
        float[] x = new float[d.size() * f];
        int[] y = new int[d.size()];
        for (int i = 0; i < order.length; i++) {
            System.arraycopy(d.features(order[i]), 0, x, i * f, f);
            y[i] = d.label(order[i]);
        }
        return Dataset.classification(x, new int[] {f}, y, d.numClasses(), null);
    }

    /** Examples {@code [from, to)} of {@code d}. */
    public static Dataset slice(Dataset d, int from, int to) {
        int f = d.featureSize();
        float[] x = new float[(to - from) * f];
        int[] y = new int[to - from];
        for (int i = from; i < to; i++) {
            System.arraycopy(d.features(i), 0, x, (i - from) * f, f);
            y[i - from] = d.label(i);
        }
        return Dataset.classification(x, new int[] {f}, y, d.numClasses(), null);
    }

    /** {@code d} with the features of examples {@code [from, size)} multiplied by {@code factor}. */
    public static Dataset scaledFrom(Dataset d, int from, float factor) {
        int f = d.featureSize();
        float[] x = new float[d.size() * f];
        int[] y = new int[d.size()];
        for (int i = 0; i < d.size(); i++) {
            float[] row = d.features(i);
            for (int j = 0; j < f; j++) {
                x[i * f + j] = i < from ? row[j] : row[j] * factor;
            }
            y[i] = d.label(i);
        }
        return Dataset.classification(x, new int[] {f}, y, d.numClasses(), null);
    }

    /** {@code d} cut into consecutive shards of the given sizes. */
    public static List<Dataset> shards(Dataset d, int... sizes) {
        List<Dataset> out = new ArrayList<>();
        int at = 0;
        for (int s : sizes) {
            out.add(slice(d, at, at + s));
            at += s;
        }
        return out;
    }

    /**
     * Data-parallel training simulated in one thread on one model: for every step, each shard's gradient of its
     * mean batch loss in turn, combined as {@code Σ_r (n_r/N)·g_r} in double in rank order, then one optimizer
     * step (and the schedule's step after each epoch). Written against core alone, as the reference for the
     * distributed runs. With class weights this is the combination of per-rank weighted means, which the global
     * batch's weighted mean is not.
     *
     * @return the final model as model-file bytes
     */
    public static byte[] oneJvmDataParallel(TrainingSpec spec, List<Dataset> shards, Backend backend)
            throws Exception {
        ShardPlan plan = new ShardPlan(shards.stream().mapToInt(Dataset::size).toArray(), spec.batchSize());
        try (Layer model = spec.model().create(backend);
             Optimizer opt = spec.optimizer().create(model.parameters())) {
            Loss loss = spec.loss();
            dev.backprop.optim.LearningRateSchedule schedule = spec.optimizer().schedule(opt, spec.epochs());
            List<Variable> params = new ArrayList<>(model.parameters().values());
            int s = plan.stepsPerEpoch();
            for (long g = 0; g < (long) spec.epochs() * s; g++) {
                int epoch = (int) (g / s);
                int step = (int) (g % s);
                double[][] combined = new double[params.size()][];
                for (int r = 0; r < shards.size(); r++) {
                    int[] order = plan.order(spec.seed(), r, epoch);
                    int from = step * spec.batchSize();
                    int count = plan.count(r, step);
                    double w = (double) count / plan.globalCount(step);
                    opt.zeroGrad();
                    try (BatchLoader loader = new BatchLoader(shards.get(r), backend, count);
                         Tape tape = Tape.open()) {
                        BatchLoader.Batch b = loader.load(order, from, from + count);
                        loss.compute(model.forward(Variable.constant(b.features())), b.targets()).backward();
                    }
                    for (int p = 0; p < params.size(); p++) {
                        float[] gr = params.get(p).grad().toFloatArray();
                        if (combined[p] == null) {
                            combined[p] = new double[gr.length];
                        }
                        for (int i = 0; i < gr.length; i++) {
                            combined[p][i] += w * gr[i];
                        }
                    }
                }
                for (int p = 0; p < params.size(); p++) {
                    float[] f = new float[combined[p].length];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) combined[p][i];
                    }
                    var grad = params.get(p).grad();
                    backend.upload(f, 0, grad.buffer(), grad.offset(), f.length);
                }
                opt.step();
                if (schedule != null && step == s - 1) {
                    schedule.step();
                }
            }
            return modelFile(model);
        }
    }

    /** Plain full-batch training on all the data: one step per epoch over every example. */
    public static Map<String, float[]> fullBatch(TrainingSpec spec, Dataset all, Backend backend) throws Exception {
        try (Layer model = spec.model().create(backend);
             Optimizer opt = spec.optimizer().create(model.parameters())) {
            Loss loss = spec.loss();
            int[] order = all.identityOrder();
            for (int e = 0; e < spec.epochs(); e++) {
                opt.zeroGrad();
                try (BatchLoader loader = new BatchLoader(all, backend, all.size()); Tape tape = Tape.open()) {
                    BatchLoader.Batch b = loader.load(order, 0, all.size());
                    loss.compute(model.forward(Variable.constant(b.features())), b.targets()).backward();
                }
                opt.step();
            }
            return values(model);
        }
    }

    /**
     * Local training's per-epoch losses ({@link EpochMetrics#trainLoss}) for {@code spec} on {@code data}: a
     * {@link Trainer} with its batch size, shuffled as a Spark run's only rank shuffles its shard, on one cpu thread.
     */
    public static double[] localEpochLosses(TrainingSpec spec, Dataset data) throws Exception {
        try (Backend b = ThreadedRanks.cpu(1); Layer model = spec.model().create(b);
             Optimizer opt = spec.optimizer().create(model.parameters())) {
            Trainer t = Trainer.builder(model, spec.loss(), opt).batchSize(spec.batchSize())
                    .schedule(spec.optimizer().schedule(opt, spec.epochs()))
                    .seed(ShardPlan.rankSeed(spec.seed(), 0)).syncEvery(1).build();
            return t.fit(data, null, spec.epochs(), null).stream().mapToDouble(EpochMetrics::trainLoss).toArray();
        }
    }

    /** Asserts a Spark run's per-epoch losses are {@code expected} within 1e-5 relative. */
    public static void assertLosses(double[] expected, List<EpochResult> actual, String what) {
        Assertions.assertEquals(expected.length, actual.size(), what);
        for (int e = 0; e < expected.length; e++) {
            Assertions.assertEquals(expected[e], actual.get(e).loss(), 1e-5 * expected[e],
                    what + ", epoch " + (e + 1));
        }
    }

    /** The parameters of a model file, by name. */
    public static Map<String, float[]> values(byte[] modelFile, Backend backend) throws Exception {
        Path p = Files.createTempFile("model", ".safetensors");
        try {
            Files.write(p, modelFile);
            try (Layer m = ModelFile.load(p, backend)) {
                return values(m);
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }

    private static Map<String, float[]> values(Layer model) {
        Map<String, float[]> m = new java.util.LinkedHashMap<>();
        model.parameters().forEach((k, v) -> m.put(k, v.value().toFloatArray()));
        return m;
    }

    /** {@code model} as the bytes of a model file. */
    public static byte[] modelFile(Layer model) throws Exception {
        Path p = Files.createTempFile("model", ".safetensors");
        try {
            ModelFile.save(p, model);
            return Files.readAllBytes(p);
        } finally {
            Files.deleteIfExists(p);
        }
    }

    /**
     * The largest relative difference of a parameter tensor: {@code max_i |a_i - b_i| / max_i |b_i|} per tensor
     * (the max norm, so that parameters near zero are compared at their tensor's scale), the worst tensor's.
     */
    public static double maxRelativeDifference(Map<String, float[]> a, Map<String, float[]> b) {
        double worst = 0;
        for (Map.Entry<String, float[]> e : b.entrySet()) {
            float[] x = a.get(e.getKey());
            float[] y = e.getValue();
            double diff = 0;
            double scale = 0;
            for (int i = 0; i < y.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(y[i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }
}
