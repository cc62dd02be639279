package dev.backprop.cli;

import dev.backprop.backend.BackpropException;
import dev.backprop.data.DataFormatException;
import dev.backprop.io.AtomicFile;
import dev.backprop.io.IoErrors;
import dev.backprop.loss.Loss;
import dev.backprop.train.Evaluation;
import dev.backprop.train.EvaluationReport;
import dev.backprop.train.Evaluator;
import dev.backprop.model.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code backprop eval --model FILE}: the model's loss and accuracy (or, for regression, its mean squared error and
 * RMSE) on the test set, with a parseable last line. The loss is the one the model was trained with (its class
 * weights and label smoothing: {@link LossOptions}). The figures depend only on the file, the data and the batch
 * size, so they repeat {@code train}'s last epoch exactly. {@code --report} adds, from the same pass, the
 * per-class precision, recall, F1 and the confusion matrix (regression: per-target MSE, MAE and R²), and
 * {@code --report-json} writes them as JSON ({@link EvalReport}).
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

    @Option(names = "--report", descriptionKey = "report")
    boolean report;

    @Option(names = "--report-json", paramLabel = "FILE", descriptionKey = "report-json")
    Path reportJson;

    @Option(names = "--overwrite", descriptionKey = "overwrite")
    boolean overwrite;

    @Override
    public Integer call() {
        testData.checkUsed();
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (overwrite && reportJson == null) {
            throw new IllegalArgumentException("--overwrite applies only to --report-json FILE, and there is no "
                    + "report file: leave it out or give --report-json");
        }
        OutputFiles.check(List.of(new OutputFiles.Target("--report-json", reportJson, OutputFiles.Kind.REPORT)),
                List.of(new OutputFiles.Target("--model", model, OutputFiles.Kind.MODEL)), overwrite);
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
            Loss loss = LossOptions.trainedWith(s.loaded().metadata(), t, model.toString());
            boolean scores = report || reportJson != null;
            EvaluationReport r = scores ? Evaluator.report(s.loaded().model(), loss, d.test(), batchSize) : null;
            Evaluation ev = scores ? r.evaluation() : Evaluator.evaluate(s.loaded().model(), loss, d.test(), batchSize);
            EvalReport printed = scores ? new EvalReport(r, s.classNames(d)) : null;
            String metric = t.scoredByAccuracy() ? "test_acc" : "test_rmse";
            o.printf(Locale.ROOT, "test_loss %.4f  %s %.4f  (%d examples)%n", ev.loss(), metric, t.metric(ev),
                    ev.examples());
            if (report) {
                printed.print(o);
            }
            if (reportJson != null) {
                write(printed.json(model.toString(), t.id()));
                o.printf("report:  %s%n", DataFormatException.oneLine(reportJson.toString()));
            }
            o.printf(Locale.ROOT, "eval: model=%s task=%s examples=%d test_loss=%.6f %s=%.6f%s%n",
                    DataFormatException.oneLine(model.toString()), t.id(),
                    ev.examples(), ev.loss(), metric, t.metric(ev), report ? printed.summaryField() : "");
        }
        o.flush();
        return 0;
    }

    private void write(byte[] json) {
        try {
            AtomicFile.write(reportJson, json);
        } catch (IOException e) {
            throw new BackpropException(IoErrors.message(e), e);
        }
    }
}
