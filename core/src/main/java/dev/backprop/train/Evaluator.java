package dev.backprop.train;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Classified;
import dev.backprop.loss.Loss;
import dev.backprop.loss.Reduction;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * Scores a network on a data set, in batches, in evaluation mode ({@link Layer#train(boolean)}: running
 * statistics, no dropout; each layer's mode is restored afterwards) and without recording a graph: the mean loss
 * over the whole set (as PyTorch computes it on the whole set at once) and, for a loss that classifies, the
 * accuracy. The result depends only on the model, the data and the batch size, so the same model evaluated twice
 * gives the same figures; the trainer's validation, {@code backprop eval} and the Spark driver all score through
 * here. {@link #report} adds the confusion matrix or the regression scores from the same pass; {@link #evaluate}
 * does none of that work. Evaluations and {@link dev.backprop.model.Predictor} passes on one model take turns,
 * whatever thread runs them.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * Evaluates {@code model} with {@code task}'s loss on all of {@code data} in batches of {@code batchSize}.
     *
     * @throws IllegalArgumentException when the data does not suit the task, or is empty
     */
    public static Evaluation evaluate(Layer model, Task task, Dataset data, int batchSize) {
        task.check(data);
        return evaluate(model, task.loss(), data, batchSize);
    }

    /**
     * Evaluates {@code model} with {@code loss} on all of {@code data} in batches of {@code batchSize}, on the
     * backend and in the dtype of the model's parameters.
     *
     * @throws IllegalArgumentException when the data set is empty, the batch size below 1, the model has no
     *                                  parameters (nothing says where it runs) or fewer outputs than the data has
     *                                  classes
     */
    public static Evaluation evaluate(Layer model, Loss loss, Dataset data, int batchSize) {
        return run(model, loss, data, batchSize, null);
    }

    /**
     * Evaluates as {@link #evaluate(Layer, Loss, Dataset, int)} does, giving the same figures, and in the same pass
     * tallies the confusion matrix (a loss that classifies, over the model's outputs as classes) or the
     * per-target regression scores (one that does not). The scores add up sample by sample in long counts or
     * double sums, so they do not depend on the batch size.
     *
     * @throws IllegalArgumentException as {@link #evaluate(Layer, Loss, Dataset, int)} does, and for a loss that
     *                                  overrides {@link Loss#countCorrect} without {@link Loss#classify}, whose
     *                                  report would otherwise be taken for a regression's
     */
    public static EvaluationReport report(Layer model, Loss loss, Dataset data, int batchSize) {
        Scores scores = new Scores();
        Evaluation evaluation = run(model, loss, data, batchSize, scores);
        return scores.classes != null
                ? new EvaluationReport(evaluation, Optional.of(scores.classes.matrix()), Optional.empty())
                : new EvaluationReport(evaluation, Optional.empty(), Optional.of(scores.regression.scores()));
    }

    private static Evaluation run(Layer model, Loss loss, Dataset data, int batchSize, Scores scores) {
        if (data.size() == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty data set");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("evaluation batch size must be at least 1, got " + batchSize);
        }
        Variable first = model.parameters().values().stream().findFirst().orElseThrow(() ->
                new IllegalArgumentException("cannot evaluate a model without parameters: they say where it runs"));
        Backend backend = first.backend();
        DType dtype = first.dtype();
        synchronized (model) {   // another pass on the model (a Predictor's) would switch its mode meanwhile
            return evaluate(model, loss, data, batchSize, backend, dtype, scores);
        }
    }

    @SuppressWarnings("try") // the scope frees each batch's temporaries; it needs no reference
    private static Evaluation evaluate(Layer model, Loss loss, Dataset data, int batchSize, Backend backend,
                                       DType dtype, Scores scores) {
        int[] order = data.identityOrder();
        double lossSum = 0;
        double denominator = 0;
        long correct = 0;
        long decisions = 0;
        boolean classifies = false;
        try (BatchLoader loader = new BatchLoader(data, backend, dtype, Math.min(batchSize, data.size()),
                BatchLoader.Placement.HOST); NoGrad off = NoGrad.open();
             ModeSwitch eval = ModeSwitch.to(model, false)) {
            for (int from = 0; from < data.size(); from += batchSize) {
                int to = Math.min(data.size(), from + batchSize);
                try (Scope scope = Scope.open()) {
                    BatchLoader.Batch b = loader.load(order, from, to);
                    Variable out = model.forward(Variable.constant(b.features()));
                    checkOutputs(out.value(), data);
                    // Batch means weighted by their denominators add up to the mean over the set (a weighted
                    // cross-entropy's Σ w[y]·l / Σ w[y]); sums add up, over the rows, to the mean per example.
                    double value = loss.compute(out, b.targets()).value().item();
                    double d = loss.reduction() == Reduction.MEAN ? loss.meanDenominator(b.targets()) : 1;
                    lossSum += value * d;
                    denominator += loss.reduction() == Reduction.MEAN ? d : b.rows();
                    OptionalLong c = scores == null ? loss.countCorrect(out.value(), b.targets())
                            : scores.add(loss, out.value(), b.targets());
                    classifies = c.isPresent();
                    correct += c.orElse(0);
                    decisions += loss.countDecisions(out.value(), b.targets());
                }
            }
        }
        return new Evaluation(lossSum / denominator, classifies ? (double) correct / decisions : Double.NaN,
                data.size());
    }

    /**
     * Refuses a model whose outputs cannot score {@code data}'s class labels: a label at or past the output width
     * makes the loss NaN, which would otherwise be blamed on the learning rate. Runs on the host, on shapes only.
     *
     * @param out the model's output for a batch, {@code [rows, outputs]}
     * @throws IllegalArgumentException when the data has more classes than the model has outputs
     */
    static void checkOutputs(Tensor out, Dataset data) {
        if (data.hasLabels() && out.shape().rank() == 2 && out.shape().dim(1) < data.numClasses()) {
            throw new IllegalArgumentException("the model gives " + out.shape().dim(1) + " output(s) per example, "
                    + "but the data has " + data.numClasses() + " classes (labels in [0, " + data.numClasses()
                    + ")): its last layer needs " + data.numClasses() + " outputs, one per class");
        }
    }

    /** The report's tallies, made on the first batch once it says whether the loss classifies. */
    private static final class Scores {
        private ConfusionMatrix.Tally classes;
        private RegressionScores.Tally regression;

        /** Tallies a batch's decisions or errors; returns its correct count as {@link Loss#countCorrect} would. */
        OptionalLong add(Loss loss, Tensor out, Tensor targets) {
            Optional<Classified> decided = loss.classify(out, targets);
            if (decided.isEmpty() && loss.countCorrect(out, targets).isPresent()) {
                throw new IllegalArgumentException("loss " + loss.name() + " counts correct samples (countCorrect) "
                        + "but does not say their classes (classify), which a report tallies: implement "
                        + "Loss.classify");
            }
            if (decided.isPresent()) {
                if (classes == null) {
                    classes = new ConfusionMatrix.Tally(decided.get().classes());
                }
                classes.add(decided.get());
                return OptionalLong.of(decided.get().correct());
            }
            int rows = out.shape().dim(0);
            int width = (int) (out.size() / Math.max(rows, 1));
            double[] y = targets.toDoubles();
            double[] p = out.toDoubles();
            if (y.length != p.length) {
                throw new IllegalArgumentException("regression scores: the model gives " + out.shape()
                        + " but the targets are " + targets.shape());
            }
            if (regression == null) {
                regression = new RegressionScores.Tally(width);
            }
            for (int i = 0; i < rows; i++) {
                regression.add(y, p, i * width);
            }
            return OptionalLong.empty();
        }
    }

    /** How a training batch's loss value is weighted in the epoch's mean: by its size under a mean reduction. */
    static double weight(Loss loss, int rows) {
        return loss.reduction() == Reduction.MEAN ? rows : 1;
    }
}
