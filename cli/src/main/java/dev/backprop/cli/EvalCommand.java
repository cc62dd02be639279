package dev.backprop.cli;

import dev.backprop.data.DataFormatException;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;
import dev.backprop.model.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code backprop eval --model FILE}: the model's loss and accuracy (or, for regression, its mean squared error and
 * RMSE) on the test set, with a parseable last line. The loss is the one the model was trained with (its class
 * weights and label smoothing: {@link LossOptions}). The figures depend only on the file, the data and the batch
 * size, so they repeat {@code train}'s last epoch exactly.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "dev.backprop.cli.TestData",
        description = "Scores a saved model on the test set: loss and accuracy (regression: MSE and RMSE).")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file to score.")
    Path model;

    @Mixin
    SavedModelOptions opening;

    @Mixin
    TestDataOptions testData;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + TrainingSetup.EVAL_BATCH,
            description = "Examples per forward pass (default: ${DEFAULT-VALUE}, as train evaluates).")
    int batchSize;

    @Override
    public Integer call() {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        PrintWriter o = spec.commandLine().getOut();
        try (ModelSession s = ModelSession.open(opening, model)) {
            Task t = s.task(opening.task);
            s.describe(o, t);
            DataOptions.Loaded d = s.testData(testData, t);
            // File names in the lines below are escaped: a name can hold anything that moves a terminal's cursor.
            o.printf(Locale.ROOT, "data:    %s: %d test examples%n", DataFormatException.oneLine(d.description()),
                    d.test().size());
            o.flush();
            t.check(d.test());
            Evaluation ev = Evaluator.evaluate(s.loaded().model(), LossOptions.trainedWith(s.loaded().metadata(), t,
                    model.toString()), d.test(), batchSize);
            String metric = t.scoredByAccuracy() ? "test_acc" : "test_rmse";
            o.printf(Locale.ROOT, "test_loss %.4f  %s %.4f  (%d examples)%n", ev.loss(), metric, t.metric(ev),
                    ev.examples());
            o.printf(Locale.ROOT, "eval: model=%s task=%s examples=%d test_loss=%.6f %s=%.6f%n",
                    DataFormatException.oneLine(model.toString()), t.id(),
                    ev.examples(), ev.loss(), metric, t.metric(ev));
        }
        o.flush();
        return 0;
    }
}
