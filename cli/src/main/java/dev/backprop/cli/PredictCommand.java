package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code backprop predict --model FILE}: predictions for test examples ({@code --index 3}, {@code --index 0..9},
 * {@code --index 1,5,7}) or for one CSV row of features ({@code --row "0.5,1.2"}): the class probabilities and the
 * top 3 by name (classification), the probability of class 1 (binary), or the values (regression).
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Predicts with a saved model: test examples by index, or one CSV row of features.")
public final class PredictCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file.")
    Path model;

    @Option(names = "--index", paramLabel = "SPEC", defaultValue = "0",
            description = "Test examples: one index (3), a range (0..9, inclusive) or a list (1,5,7) (default: "
                    + "${DEFAULT-VALUE}).")
    String index;

    @Option(names = "--row", paramLabel = "CSV",
            description = "Predict for these comma-separated feature values instead of test examples.")
    String row;

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

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        try (ModelSession s = ModelSession.open(selection, threads, model, allowNonFinite, architecture)) {
            Task t = s.task(task);
            s.describe(o, t);
            if (row != null) {
                float[] x;
                try {
                    x = CsvData.parseRow(row);
                } catch (DataFormatException e) {
                    throw new IllegalArgumentException("--row " + e.getMessage(), e);
                }
                Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH,
                        s.inputShape(new int[] {x.length}, "--row has"));
                PredictionPrinter p = new PredictionPrinter(o, t, s.loaded().classNames());
                p.print("row", predictor.predict(x, 1), Double.NaN, null);
            } else {
                predictTestExamples(s, t, o);
            }
        }
        o.flush();
        return 0;
    }

    private void predictTestExamples(ModelSession s, Task t, PrintWriter o) {
        DataOptions.Loaded d = s.testData(data, t, seed);
        Dataset test = d.test();
        Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH, test.featureShape());
        int[] idx = Indices.parse(index, test.size());
        float[] x = new float[Math.multiplyExact(idx.length, test.featureSize())];
        test.gatherFeatures(idx, 0, idx.length, x);
        float[] p = predictor.predict(x, idx.length);
        int k = p.length / idx.length;
        List<String> names = s.classNames(d);
        PredictionPrinter printer = new PredictionPrinter(o, t, names);
        o.printf(Locale.ROOT, "data:    %s: test examples %s of %d%n", d.description(), index, test.size());
        for (int i = 0; i < idx.length; i++) {
            float[] pi = java.util.Arrays.copyOfRange(p, i * k, (i + 1) * k);
            String label = "test example " + idx[i];
            if (test.hasLabels()) {
                printer.print(label, pi, test.label(idx[i]), null);
            } else {
                float[] y = new float[test.targetSize()];
                test.gatherTargets(new int[] {idx[i]}, 0, 1, y);
                printer.print(label, pi, t == Task.BINARY ? y[0] : Double.NaN, t == Task.REGRESSION ? y : null);
            }
        }
    }
}
