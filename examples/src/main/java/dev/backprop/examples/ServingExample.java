package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.MemoryStats;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A binary classifier served from several threads. The network ends with one output, the logit: {@link Task#BINARY}
 * trains it with binary cross-entropy on logits, scores it by accuracy at probability 0.5 and turns it into the
 * probability of class 1 when predicting (so no sigmoid layer at the end). It learns whether a point lies inside a
 * circle; the saved model is then loaded once, as a service would, and 4 threads send it single-row requests at the
 * same time ({@link Predictor}s of one model take turns on it); the backend's {@code memoryStats()} show that the
 * requests leave nothing allocated. The arguments are the number of epochs (default 20), the requests per thread
 * (default 200) and the model file (default {@code circle.safetensors}).
 */
public final class ServingExample {
    private static final int THREADS = 4;

    private ServingExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the epochs, the requests per thread and the model file, or nothing for 20, 200 and
     *             {@code circle.safetensors}
     */
    public static void main(String[] args) throws Exception {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path file = Path.of(args.length > 2 ? args[2] : "circle.safetensors");
        Dataset[] parts = HoldOut.split(circle(1000), 0.2, 0);     // {train, test}

        try (Backend backend = Backends.create()) {
            try (Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0)
                         .dense(2, 16).relu().dense(16, 1).build();      // one logit, no sigmoid
                 Adam adam = Adam.builder(model.parameters()).lr(0.02).build()) {
                Trainer trainer = Trainer.builder(model, Task.BINARY.loss(), adam).batchSize(32).seed(0).build();
                List<EpochMetrics> history = trainer.fit(parts[0], parts[1], epochs, null);
                EpochMetrics last = history.get(history.size() - 1);
                System.out.printf("epoch %d: test loss %.4f, test accuracy %.4f%n", last.epoch(),
                        last.validation().loss(), last.validation().accuracy());
                SavedModel.save(file, model, Task.BINARY, List.of("outside", "inside"), Map.of());
            }

            try (SavedModel.Loaded saved = SavedModel.load(file, backend)) {   // once, for every request
                Predictor predictor = new Predictor(saved.model(), saved.task());
                float[] centre = predictor.predict(new float[] {0, 0}, 1);
                System.out.printf("P(%s | 0, 0) = %.3f%n", saved.classNames().get(1), centre[0]);
                float[][] rows = rows(parts[1]);
                float[] expected = new float[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    expected[i] = predictor.predict(rows[i], 1)[0];
                }
                long before = backend.memoryStats().liveBuffers();
                int differing = serve(saved, rows, expected, requests);
                System.out.println(THREADS + " threads x " + requests + " requests, predictions that differ from "
                        + "one thread's: " + differing);
                System.out.println("live buffers before the requests: " + before + ", after: "
                        + backend.memoryStats().liveBuffers());
            }
            MemoryStats memory = backend.memoryStats();
            System.out.println("live buffers after closing the model: " + memory.liveBuffers());
        }
    }

    /** Sends {@code requests} single-row requests from each of {@link #THREADS} threads; counts wrong answers. */
    static int serve(SavedModel.Loaded saved, float[][] rows, float[] expected, int requests) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int first = t;
                results.add(pool.submit(() -> {
                    Predictor predictor = new Predictor(saved.model(), saved.task());
                    int differing = 0;
                    for (int r = 0; r < requests; r++) {
                        int i = (first + r * THREADS) % rows.length;
                        differing += predictor.predict(rows[i], 1)[0] == expected[i] ? 0 : 1;
                    }
                    return differing;
                }));
            }
            int differing = 0;
            for (Future<Integer> f : results) {
                differing += f.get();
            }
            return differing;
        } finally {
            pool.shutdown();
        }
    }

    /** Each example of {@code data} as a row of its own. */
    static float[][] rows(Dataset data) {
        float[][] rows = new float[data.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = data.features(i);
        }
        return rows;
    }

    /** {@code n} points of {@code [-1, 1)²}, target 1 inside the circle of radius 0.7 around the origin. */
    static Dataset circle(int n) {
        Random rng = new Random(1);
        float[] x = new float[2 * n];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = rng.nextFloat() * 2 - 1;
            x[2 * i + 1] = rng.nextFloat() * 2 - 1;
            y[i] = x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1] < 0.49f ? 1 : 0;
        }
        return Dataset.regression(x, new int[] {2}, y, 1);          // one 0/1 target per example
    }
}
