package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.loss.SquaredError;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.StepLR;
import dev.backprop.runtime.Backends;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Regression with the library's {@link Trainer}: a small tanh network learns
 * {@code y = 1.5·x1 - 2·x2 + 0.5·x1·x2} from 1,000 random points of {@code [-1, 1]²} (800 to train on, 200 to
 * test), then predicts one new point. The argument is the number of epochs (default 30).
 */
public final class RegressionExample {
    private RegressionExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the number of epochs, or nothing for 30
     */
    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Random rng = new Random(0);
        float[] x = new float[1000 * 2];
        float[] y = new float[1000];
        for (int i = 0; i < 1000; i++) {
            float x1 = 2 * rng.nextFloat() - 1;
            float x2 = 2 * rng.nextFloat() - 1;
            x[2 * i] = x1;
            x[2 * i + 1] = x2;
            y[i] = 1.5f * x1 - 2 * x2 + 0.5f * x1 * x2;
        }
        // Two features per example, one target: the first 800 examples train, the last 200 test.
        Dataset train = Dataset.regression(Arrays.copyOf(x, 1600), new int[] {2}, Arrays.copyOf(y, 800), 1);
        Dataset test = Dataset.regression(Arrays.copyOfRange(x, 1600, 2000), new int[] {2},
                Arrays.copyOfRange(y, 800, 1000), 1);

        try (Backend backend = Backends.create();
             Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0)
                     .dense(2, 32).tanh().dense(32, 1).build();
             Adam adam = Adam.builder(model.parameters()).lr(0.01).build()) {
            Trainer trainer = Trainer.builder(model, new SquaredError(), adam)
                    .batchSize(32)
                    .seed(0)                                         // the shuffling seed
                    .schedule(new StepLR(adam, 20, 0.5))             // halve the rate every 20 epochs
                    .build();
            List<EpochMetrics> history = trainer.fit(train, test, epochs, null);
            double mse = history.get(history.size() - 1).validation().loss();
            System.out.printf("test RMSE %.4f after %d epochs%n", Math.sqrt(mse), epochs);
            float[] prediction = new Predictor(model, Task.REGRESSION).predict(new float[] {0.5f, -0.5f}, 1);
            System.out.printf("f(0.5, -0.5) = %.3f (exact: 1.625)%n", prediction[0]);
        }
    }
}
