package dev.backprop.examples;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.EpochOrder;
import dev.backprop.io.Checkpoint;
import dev.backprop.loss.Loss;
import dev.backprop.loss.SquaredError;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.StepLR;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.EarlyStopping;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;
import dev.backprop.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * A training loop written out with the lower-level API, doing by hand what {@link Trainer}'s options do: each
 * epoch's batches in the trainer's order ({@link EpochOrder}, the last partial batch kept), one {@link Tape} per
 * step, gradient clipping, a learning rate halved every 2 epochs ({@link StepLR}), early stopping when the
 * validation loss has not improved for 3 epochs, and a {@link Checkpoint} after every epoch. The run is interrupted
 * half-way and resumed from its checkpoint by a fresh model and optimizer; {@code Trainer.fit} with the same
 * settings then ends with the very same weights. The model learns {@code y = sin(x1) + x2² + noise}. The arguments
 * are the number of epochs (default 30) and the checkpoint file (default {@code loop.checkpoint}).
 */
public final class TrainingLoopExample {
    private static final int BATCH = 32;
    private static final long SEED = 0;       // the weights' and the shuffles' seed
    private static final double CLIP = 1.0;   // the largest global gradient norm
    private static final int PATIENCE = 3;    // epochs without a better validation loss before stopping

    private TrainingLoopExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the number of epochs and the checkpoint file, or nothing for 30 and {@code loop.checkpoint}
     */
    public static void main(String[] args) throws IOException {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Path checkpoint = Path.of(args.length > 1 ? args[1] : "loop.checkpoint");
        Dataset[] data = data(1000, 250);
        Dataset train = data[0];
        Dataset validation = data[1];

        try (Backend backend = Backends.create()) {
            float[] byHand;
            try (Sequential model = model(backend); Adam adam = Adam.builder(model.parameters()).lr(0.05).build()) {
                Patience stop = new Patience();
                trainByHand(model, adam, new StepLR(adam, 10, 0.5), stop, 0, epochs / 2, train, validation,
                        checkpoint);
            }                                                  // the program stops here: everything is freed
            System.out.println("interrupted; resuming from " + checkpoint);
            try (Sequential model = model(backend); Adam adam = Adam.builder(model.parameters()).lr(0.05).build()) {
                StepLR schedule = new StepLR(adam, 10, 0.5);
                Map<String, Long> progress = Checkpoint.restore(checkpoint, model, adam, schedule);
                Patience stop = new Patience(progress.get("bad_epochs").intValue(),
                        Double.parseDouble(SavedModel.metadata(checkpoint).get("best_loss")));
                trainByHand(model, adam, schedule, stop, progress.get("epoch").intValue(), epochs, train,
                        validation, checkpoint);
                byHand = weights(model);
            }

            float[] byTrainer;
            try (Sequential model = model(backend); Adam adam = Adam.builder(model.parameters()).lr(0.05).build()) {
                Trainer trainer = Trainer.builder(model, new SquaredError(), adam)
                        .batchSize(BATCH).seed(SEED).clipGradNorm(CLIP).schedule(new StepLR(adam, 10, 0.5)).build();
                // The library's early stopping judges as the loop by hand does: fit returns after the epoch that
                // exhausts the patience.
                trainer.fit(train, validation, epochs,
                        new EarlyStopping(trainer, EarlyStopping.Monitor.LOSS, PATIENCE, 0, false));
                System.out.println("Trainer.fit stopped after epoch " + trainer.epoch());
                byTrainer = weights(model);
            }
            System.out.println("the loop by hand ends with Trainer's weights: " + Arrays.equals(byHand, byTrainer));
        }
    }

    /** Epochs {@code done + 1 .. last} (or fewer, when the validation loss stops improving). */
    static void trainByHand(Layer model, Adam adam, StepLR schedule, Patience stop, int done, int last,
                            Dataset train, Dataset validation, Path checkpoint) throws IOException {
        Backend backend = model.parameters().values().iterator().next().backend();
        Loss loss = new SquaredError();
        int n = train.size();
        int features = train.featureSize();
        for (int epoch = done + 1; epoch <= last && !stop.exhausted(); epoch++) {
            int[] order = EpochOrder.of(n, SEED, epoch - 1, true);   // the order Trainer.fit uses with this seed
            double lossSum = 0;
            for (int from = 0; from < n; from += BATCH) {
                int rows = Math.min(BATCH, n - from);                 // the last batch holds what is left
                float[] x = new float[rows * features];
                float[] y = new float[rows];
                train.gatherFeatures(order, from, from + rows, x);
                train.gatherTargets(order, from, from + rows, y);
                adam.zeroGrad();
                try (Tape tape = Tape.open()) {
                    Variable prediction = model.forward(Variable.constant(Tensor.of(backend, x, rows, features)));
                    Variable l = loss.compute(prediction, Tensor.of(backend, y, rows, 1));
                    l.backward();
                    lossSum += l.value().item() * rows;
                }
                GradientClipping.clipByGlobalNorm(model.parameters().values(), CLIP);
                adam.step();
            }
            Evaluation val = Evaluator.evaluate(model, loss, validation, 256);   // Trainer's evaluation batch
            double lr = adam.learningRate();
            schedule.step();                                          // the rate of the next epoch
            stop.record(val.loss());
            Checkpoint.save(checkpoint, model, adam, schedule, Map.of("epoch", (long) epoch, "bad_epochs",
                    (long) stop.badEpochs), Map.of("best_loss", Double.toString(stop.best)));
            System.out.printf("epoch %d: train loss %.5f, validation loss %.5f, lr %s%n", epoch, lossSum / n,
                    val.loss(), lr);
            if (stop.exhausted()) {
                System.out.println("stopped early after epoch " + epoch);
            }
        }
    }

    /**
     * Stops after {@link #PATIENCE} epochs in a row without a validation loss below the best so far: what the
     * library's {@link EarlyStopping} does with a min delta of 0, written out for the loop by hand.
     */
    static final class Patience {
        private int badEpochs;
        private double best;

        Patience() {
            this(0, Double.POSITIVE_INFINITY);
        }

        Patience(int badEpochs, double best) {
            this.badEpochs = badEpochs;
            this.best = best;
        }

        void record(double validationLoss) {
            if (validationLoss < best) {
                best = validationLoss;
                badEpochs = 0;
            } else {
                badEpochs++;
            }
        }

        boolean exhausted() {
            return badEpochs >= PATIENCE;
        }
    }

    static Sequential model(Backend backend) {
        return Sequential.builder(backend, DType.FLOAT32).seed(SEED).dense(2, 32).tanh().dense(32, 1).build();
    }

    /** Every parameter's values, one after the other. */
    static float[] weights(Layer model) {
        return model.parameters().values().stream().map(p -> p.value().toFloatArray())
                .reduce(new float[0], (a, b) -> {
                    float[] c = Arrays.copyOf(a, a.length + b.length);
                    System.arraycopy(b, 0, c, a.length, b.length);
                    return c;
                });
    }

    /**
     * {@code train} and {@code validation} examples of {@code y = sin(x1) + x2² + noise}, x1 in [-2, 2), x2 in
     * [-1, 1).
     */
    static Dataset[] data(int train, int validation) {
        Random rng = new Random(1);
        int n = train + validation;
        float[] x = new float[2 * n];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = rng.nextFloat() * 4 - 2;
            x[2 * i + 1] = rng.nextFloat() * 2 - 1;
            y[i] = (float) (Math.sin(x[2 * i]) + x[2 * i + 1] * x[2 * i + 1] + 0.05 * rng.nextGaussian());
        }
        return new Dataset[] {
            Dataset.regression(Arrays.copyOf(x, 2 * train), new int[] {2}, Arrays.copyOf(y, train), 1),
            Dataset.regression(Arrays.copyOfRange(x, 2 * train, 2 * n), new int[] {2},
                    Arrays.copyOfRange(y, train, n), 1)};
    }
}
