package dev.backprop.cli;

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
 * RMSE) on the test set, with a parseable last line. The figures depend only on the file, the data and the batch
 * size, so they repeat {@code train}'s last epoch exactly.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Scores a saved model on the test set: loss and accuracy (regression: MSE and RMSE).")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file to score.")
    Path model;

    @Mixin
    BackendSelectionOption selection;

    @Mixin
    ArchitectureOptions architecture;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads of the cpu backend.")
    Integer threads;

    @Option(names = "--allow-non-finite",
            description = "Load a model whose weights hold NaN or infinities (with a warning) instead of refusing it.")
    boolean allowNonFinite;

    @Option(names = "--task", paramLabel = "TASK",
            description = "Override the task stored in the file: classification, binary or regression.")
    String task;

    @Mixin
    DataOptions data;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "The seed train used, for the same hold-out split of a single --csv (default: "
                    + "${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + TrainingSetup.EVAL_BATCH,
            description = "Examples per forward pass (default: ${DEFAULT-VALUE}, as train evaluates).")
    int batchSize;

    @Override
    public Integer call() {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        PrintWriter o = spec.commandLine().getOut();
        try (ModelSession s = ModelSession.open(selection, threads, model, allowNonFinite, architecture)) {
            Task t = s.task(task);
            s.describe(o, t);
            DataOptions.Loaded d = s.testData(data, t, seed);
            o.printf(Locale.ROOT, "data:    %s: %d test examples%n", d.description(), d.test().size());
            o.flush();
            Evaluation ev = Evaluator.evaluate(s.loaded().model(), t, d.test(), batchSize);
            String metric = t.scoredByAccuracy() ? "test_acc" : "test_rmse";
            o.printf(Locale.ROOT, "test_loss %.4f  %s %.4f  (%d examples)%n", ev.loss(), metric, t.metric(ev),
                    ev.examples());
            o.printf(Locale.ROOT, "eval: model=%s task=%s examples=%d test_loss=%.6f %s=%.6f%n", model, t.id(),
                    ev.examples(), ev.loss(), metric, t.metric(ev));
        }
        o.flush();
        return 0;
    }
}
