package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.ImageFile;
import dev.backprop.data.ImageFolder;
import dev.backprop.data.ImageTransform;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code backprop predict --model FILE}: predictions for test examples ({@code --index 3}, {@code --index 0..9},
 * {@code --index 1,5,7}, as many as asked), for one CSV row of features ({@code --row "0.5,1.2"}), for every row
 * of a CSV file of features ({@code --rows FILE}) or for image files ({@code --image FILE}, read as the model's
 * training images were): the class probabilities and the top 3 by name (classification),
 * the probability of class 1 (binary), or the values (regression); as text or, with {@code --json}, one JSON object
 * per example and line.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "dev.backprop.cli.TestData",
        description = "Predicts with a saved model: test examples by index, one CSV row of features, every row "
                + "of a CSV file of features, or image files.")
public final class PredictCommand implements Callable<Integer> {
    /** The options that choose test examples, which {@code --row} and {@code --rows} replace. */
    static final List<String> TEST_DATA_OPTIONS = List.of("--index", "--data", "--csv", "--test-csv", "--targets",
            "--label-column", "--positive-class", "--train-limit", "--test-limit", "--seed",
            SplitSeedOption.NAME, "--images", "--test-images");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true, description = "The model file.")
    Path model;

    @Option(names = "--index", paramLabel = "SPEC",
            description = "Test examples: one index (3), a range (0..9, inclusive) or a list of both (1,5,20..29) "
                    + "(default: 0).")
    String index;

    @Option(names = "--row", paramLabel = "CSV",
            description = "Predict for these comma-separated feature values instead of test examples.")
    String row;

    @Option(names = "--rows", paramLabel = "FILE",
            description = "Predict for every row of this CSV file of feature values (optional header line; no label "
                    + "column) instead of test examples.")
    Path rows;

    @Option(names = "--image", paramLabel = "FILE",
            description = "Predict for this image file instead of test examples (repeat the option for more): read "
                    + "with the model's channels (or --channels), resized and cropped as the model's images were (or "
                    + "by --resize and --center-crop), to the size it was trained on.")
    List<Path> imageFiles;

    @Option(names = "--json",
            description = "One JSON object per example and line, and nothing else: index (or row, from 0, and line), "
                    + "class and class_name with probabilities (binary: probability of class 1), or values for "
                    + "regression; label or targets when known.")
    boolean json;

    @Mixin
    SavedModelOptions opening;

    @Mixin
    TestDataOptions testData;

    @Override
    public Integer call() {
        refuseContradictions();
        testData.checkUsed();
        PrintWriter o = spec.commandLine().getOut();
        try (ModelSession s = ModelSession.open(opening, model)) {
            Task t = s.task(opening.task);
            if (!json) {
                s.describe(o, t);
            }
            if (row != null) {
                predictRow(s, t, o);
            } else if (rows != null) {
                predictRows(s, t, o);
            } else if (imageFiles != null) {
                predictImages(s, t, o);
            } else {
                predictTestExamples(s, t, o);
            }
        }
        o.flush();
        return 0;
    }

    /**
     * {@code --row}, {@code --rows} and {@code --image} bring their own examples: only one of them, no option that
     * picks test examples, and {@code --channels}, {@code --resize} and {@code --center-crop} only for images.
     */
    private void refuseContradictions() {
        List<String> owns = new java.util.ArrayList<>();
        if (row != null) {
            owns.add("--row");
        }
        if (rows != null) {
            owns.add("--rows");
        }
        if (imageFiles != null) {
            owns.add("--image");
        }
        String own = owns.isEmpty() ? null : String.join(" and ", owns);
        if (owns.size() > 1) {
            throw new ParameterException(spec.commandLine(), own + " exclude each other: give the features of one row "
                    + "with --row, a file of rows with --rows, or image files with --image");
        }
        if (own == null) {
            return;
        }
        List<String> given = TEST_DATA_OPTIONS.stream()
                .filter(n -> spec.commandLine().getParseResult().hasMatchedOption(n)).toList();
        if (!given.isEmpty()) {
            throw new ParameterException(spec.commandLine(), own + " and " + String.join(", ", given)
                    + " exclude each other: " + own + " gives the examples, and " + String.join(", ", given)
                    + (given.size() == 1 ? " picks" : " pick") + " test examples");
        }
        for (String option : List.of("--channels", "--resize", "--center-crop")) {
            if (imageFiles == null && spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new ParameterException(spec.commandLine(), own + " and " + option + " exclude each other: "
                        + option + " reads images, and " + own + " gives rows of features");
            }
        }
    }

    private void predictRow(ModelSession s, Task t, PrintWriter o) {
        float[] x;
        try {
            x = CsvData.parseRow(row);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("--row " + e.getMessage(), e);
        }
        Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH,
                s.inputShape(new int[] {x.length}, "--row has"));
        new PredictionPrinter(o, t, s.loaded().classNames(), json)
                .print(new PredictionPrinter.Example("row", "row", 0, 0, Double.NaN, null, null),
                        PredictionPrinter.predict(predictor, x, 1), 0, 1);
    }

    /**
     * Each {@code --image} file, read with {@code --channels}, else the model's channels, else its own (1 when
     * gray), resized and cropped as {@link ModelSession#imageTransform} says, to the size the model was trained on.
     */
    private void predictImages(ModelSession s, Task t, PrintWriter o) {
        Integer asked = testData.data.askedChannels();
        int[] trained = s.imageShape();
        int channels = asked != null ? asked : trained != null ? trained[0] : ImageFolder.AUTO_CHANNELS;
        ImageTransform transform = s.imageTransform(testData.data);
        PredictionPrinter printer = new PredictionPrinter(o, t, s.loaded().classNames(), json);
        for (int i = 0; i < imageFiles.size(); i++) {
            Path file = imageFiles.get(i);
            ImageFile image = transform.read(file, channels);
            int c = channels != ImageFolder.AUTO_CHANNELS ? channels : image.gray() ? 1 : 3;
            int[] shape = {c, image.height(), image.width()};
            s.checkImageShape(shape, file + " is");
            Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH,
                    s.inputShape(shape, file + " has"));
            // The name comes from whoever named the file: escaped, it cannot move the terminal's cursor.
            String name = DataFormatException.oneLine(file.toString());
            printer.print(new PredictionPrinter.Example("image " + name, "image", i, 0, Double.NaN, null,
                    file.toString()), PredictionPrinter.predict(predictor, image.toTensor(c), 1), 0, 1);
        }
    }

    private void predictRows(ModelSession s, Task t, PrintWriter o) {
        CsvData.Rows r = CsvData.readRows(rows);
        Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH,
                s.inputShape(new int[] {r.columns()}, rows + ": each row has"));
        if (!json) {
            o.printf(Locale.ROOT, "data:    %s: %d row(s) of %d features%n", DataFormatException.oneLine(
                    rows.toString()), r.rows(), r.columns());
        }
        PredictionPrinter printer = new PredictionPrinter(o, t, s.loaded().classNames(), json);
        for (int from = 0; from < r.rows(); from += Predictor.DEFAULT_BATCH) {
            int n = Math.min(Predictor.DEFAULT_BATCH, r.rows() - from);
            Predictor.Decided p = PredictionPrinter.predict(predictor, Arrays.copyOfRange(r.values(),
                    from * r.columns(), (from + n) * r.columns()), n);
            for (int i = 0; i < n; i++) {
                int number = from + i;
                printer.print(new PredictionPrinter.Example("row " + number + " (line " + r.lines()[number] + ")",
                        "row", number, r.lines()[number], Double.NaN, null, null), p, i, n);
            }
        }
    }

    private void predictTestExamples(ModelSession s, Task t, PrintWriter o) {
        DataOptions.Loaded d = s.testData(testData, t);
        Dataset test = d.test();
        Predictor predictor = new Predictor(s.loaded().model(), t, Predictor.DEFAULT_BATCH, test.featureShape());
        String spec = index != null ? index : "0";
        int[] idx = Indices.parse(spec, test.size());
        PredictionPrinter printer = new PredictionPrinter(o, t, s.classNames(d), json);
        if (!json) {
            o.printf(Locale.ROOT, "data:    %s: test examples %s of %d%n", DataFormatException.oneLine(
                    d.description()), spec, test.size());
        }
        // A batch at a time, so any number of indices needs the memory of one batch.
        float[] x = new float[Math.multiplyExact(Math.min(idx.length, Predictor.DEFAULT_BATCH), test.featureSize())];
        for (int from = 0; from < idx.length; from += Predictor.DEFAULT_BATCH) {
            int n = Math.min(Predictor.DEFAULT_BATCH, idx.length - from);
            test.gatherFeatures(idx, from, from + n, x);
            Predictor.Decided p = PredictionPrinter.predict(predictor, n == x.length / test.featureSize() ? x
                    : Arrays.copyOf(x, n * test.featureSize()), n);
            for (int i = 0; i < n; i++) {
                printer.print(example(test, t, idx[from + i]), p, i, n);
            }
        }
    }

    /** Test example {@code i} with its label or targets. */
    private static PredictionPrinter.Example example(Dataset test, Task t, int i) {
        String text = "test example " + i;
        if (test.hasLabels()) {
            return new PredictionPrinter.Example(text, "index", i, 0, test.label(i), null, null);
        }
        float[] y = new float[test.targetSize()];
        test.gatherTargets(new int[] {i}, 0, 1, y);
        return new PredictionPrinter.Example(text, "index", i, 0, t == Task.BINARY ? y[0] : Double.NaN,
                t == Task.REGRESSION ? y : null, null);
    }
}
