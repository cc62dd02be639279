package dev.backprop.model;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Loss;
import dev.backprop.nn.Layer;
import dev.backprop.tensor.Scope;

import java.util.OptionalLong;

/**
 * Scores a network on a data set, in batches, without recording a graph: the task's loss (mean over the data set,
 * as PyTorch computes it on the whole set at once) and its metric (accuracy, or RMSE for regression). The result
 * depends only on the model, the data and the batch size, so the same file evaluated twice gives the same figures.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * The figures of one evaluation.
     *
     * @param task     what was evaluated
     * @param examples how many examples were scored
     * @param loss     the task's loss, averaged like PyTorch's mean reduction over the whole set
     * @param metric   accuracy in [0, 1] for classification and binary classification; RMSE for regression
     */
    public record Evaluation(Task task, long examples, double loss, double metric) {
        /** The metric's name: {@code accuracy} or {@code rmse}. */
        public String metricName() {
            return task.metricName();
        }
    }

    /**
     * Evaluates {@code model} on all of {@code data} in batches of {@code batchSize}.
     *
     * @throws IllegalArgumentException when the data does not suit the task, or is empty
     */
    public static Evaluation evaluate(Layer model, Task task, Dataset data, int batchSize) {
        task.check(data);
        if (data.size() == 0) {
            throw new IllegalArgumentException("evaluate: the data set is empty");
        }
        Loss loss = task.loss();
        int[] order = data.identityOrder();
        double lossSum = 0;
        long correct = 0;
        try (BatchLoader loader = new BatchLoader(data, Predictor.backendOf(model), batchSize);
             NoGrad off = NoGrad.open()) {
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                try (Scope scope = Scope.open()) {
                    BatchLoader.Batch b = loader.load(order, from, to);
                    Variable out = model.forward(Variable.constant(b.features()));
                    // Mean losses weighted by batch rows add up to the mean over the set (every row has the
                    // same number of outputs, so this holds for the element-wise means too).
                    lossSum += loss.compute(out, b.targets()).value().item() * b.rows();
                    if (task.scoredByAccuracy()) {
                        OptionalLong ok = loss.countCorrect(out.value(), b.targets());
                        correct += ok.orElseThrow();
                    }
                }
            }
        }
        double meanLoss = lossSum / data.size();
        double metric = task.scoredByAccuracy() ? (double) correct / data.size() : Math.sqrt(meanLoss);
        return new Evaluation(task, data.size(), meanLoss, metric);
    }
}
