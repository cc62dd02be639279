package dev.backprop.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.backprop.data.DataFormatException;
import dev.backprop.train.ClassScores;
import dev.backprop.train.ConfusionMatrix;
import dev.backprop.train.EvaluationReport;
import dev.backprop.train.RegressionScores;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * {@code eval --report}'s output: scikit-learn's {@code classification_report} table and the confusion matrix (or
 * the per-target regression errors) as text, and all of it as one JSON object for {@code --report-json}. Class
 * names are the model's (else the data's, else the indices), escaped for the terminal in the text.
 */
final class EvalReport {
    /** The first member of the JSON report, by which {@code --overwrite} knows a file it may replace. */
    static final String FORMAT = "backprop-eval-report";
    /** Above this many classes the text leaves the matrix out: its rows would not fit a terminal. */
    static final int MATRIX_CLASSES = 20;
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().serializeNulls()
            .create();
    private static final int NAME_WIDTH = 16;

    private final EvaluationReport report;
    private final List<String> classNames;

    /** @param classNames names by class index, or null to use the indices */
    EvalReport(EvaluationReport report, List<String> classNames) {
        this.report = report;
        this.classNames = classNames;
    }

    /** The summary line's extra field: {@code macro_f1=...} for classification, {@code r2=...} for regression. */
    String summaryField() {
        return report.confusion().map(m -> String.format(Locale.ROOT, " macro_f1=%.6f", m.macroAverage().f1()))
                .orElseGet(() -> String.format(Locale.ROOT, " r2=%.6f", report.regression().orElseThrow().r2()));
    }

    /** Prints the table and the matrix, or the per-target errors. */
    void print(PrintWriter o) {
        report.confusion().ifPresent(m -> printClassification(o, m));
        report.regression().ifPresent(r -> printRegression(o, r));
    }

    private void printClassification(PrintWriter o, ConfusionMatrix m) {
        int width = NAME_WIDTH;
        for (int k = 0; k < m.classes(); k++) {
            width = Math.max(width, Math.min(label(k).length(), 32));
        }
        String row = "%-" + width + "s %9s %9s %9s %9s%n";
        o.printf(Locale.ROOT, row, "class", "precision", "recall", "f1", "support");
        for (int k = 0; k < m.classes(); k++) {
            scores(o, row, cut(label(k), width), m.scores(k));
        }
        o.printf(Locale.ROOT, row, "accuracy", "", "", String.format(Locale.ROOT, "%.4f", m.accuracy()), m.total());
        scores(o, row, "macro avg", m.macroAverage());
        scores(o, row, "weighted avg", m.weightedAverage());
        if (m.classes() > MATRIX_CLASSES) {
            o.printf(Locale.ROOT, "confusion matrix: left out for %d classes (over %d); --report-json FILE writes "
                    + "it%n", m.classes(), MATRIX_CLASSES);
            return;
        }
        int cell = String.valueOf(m.classes() - 1).length();
        for (int t = 0; t < m.classes(); t++) {
            for (int p = 0; p < m.classes(); p++) {
                cell = Math.max(cell, Long.toString(m.count(t, p)).length());
            }
        }
        o.println("confusion matrix (rows: true class, columns: predicted class by index):");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-" + (width + 4) + "s", ""));
        for (int p = 0; p < m.classes(); p++) {
            head.append(String.format(Locale.ROOT, " %" + cell + "d", p));
        }
        o.println(head);
        for (int t = 0; t < m.classes(); t++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%3d %-" + width + "s", t,
                    cut(label(t), width)));
            for (int p = 0; p < m.classes(); p++) {
                line.append(String.format(Locale.ROOT, " %" + cell + "d", m.count(t, p)));
            }
            o.println(line);
        }
    }

    private static void scores(PrintWriter o, String row, String label, ClassScores s) {
        o.printf(Locale.ROOT, row, label, String.format(Locale.ROOT, "%.4f", s.precision()),
                String.format(Locale.ROOT, "%.4f", s.recall()), String.format(Locale.ROOT, "%.4f", s.f1()),
                s.support());
    }

    private static void printRegression(PrintWriter o, RegressionScores r) {
        String row = "%-8s %12s %12s %12s%n";
        o.printf(Locale.ROOT, row, "target", "mse", "mae", "r2");
        for (int j = 0; j < r.targets(); j++) {
            o.printf(Locale.ROOT, row, j, number(r.mse(j)), number(r.mae(j)), number(r.r2(j)));
        }
        o.printf(Locale.ROOT, row, "average", number(r.mse()), number(r.mae()), number(r.r2()));
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    /** The class's name escaped for the terminal, or its index when none is recorded. */
    private String label(int k) {
        return classNames != null && k < classNames.size() ? DataFormatException.oneLine(classNames.get(k))
                : String.valueOf(k);
    }

    private static String cut(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "~";
    }

    /**
     * The whole report as UTF-8 JSON, names unescaped (JSON quotes them), the matrix whatever the class count, and
     * non-finite figures as null, as {@code predict --json} writes them.
     */
    byte[] json(String model, String task) {
        JsonObject root = new JsonObject();
        root.addProperty("format", FORMAT);
        root.addProperty("model", model);
        root.addProperty("task", task);
        root.addProperty("examples", report.evaluation().examples());
        root.add("loss", json(report.evaluation().loss()));
        report.confusion().ifPresent(m -> {
            root.add("accuracy", json(m.accuracy()));
            JsonArray classes = new JsonArray();
            for (int k = 0; k < m.classes(); k++) {
                JsonObject c = new JsonObject();
                c.addProperty("index", k);
                if (classNames != null && k < classNames.size()) {
                    c.addProperty("name", classNames.get(k));
                }
                scores(m.scores(k)).entrySet().forEach(e -> c.add(e.getKey(), e.getValue()));
                classes.add(c);
            }
            root.add("classes", classes);
            root.add("macro_avg", scores(m.macroAverage()));
            root.add("weighted_avg", scores(m.weightedAverage()));
            JsonArray matrix = new JsonArray();
            for (int t = 0; t < m.classes(); t++) {
                JsonArray line = new JsonArray();
                for (int p = 0; p < m.classes(); p++) {
                    line.add(m.count(t, p));
                }
                matrix.add(line);
            }
            root.add("confusion_matrix", matrix);
        });
        report.regression().ifPresent(r -> {
            JsonArray targets = new JsonArray();
            for (int j = 0; j < r.targets(); j++) {
                JsonObject t = new JsonObject();
                t.addProperty("index", j);
                t.add("mse", json(r.mse(j)));
                t.add("mae", json(r.mae(j)));
                t.add("r2", json(r.r2(j)));
                targets.add(t);
            }
            root.add("targets", targets);
            JsonObject average = new JsonObject();
            average.add("mse", json(r.mse()));
            average.add("mae", json(r.mae()));
            average.add("r2", json(r.r2()));
            root.add("average", average);
        });
        return (GSON.toJson(root) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** A figure as JSON: NaN and infinities (a model loaded with non-finite weights), which JSON lacks, as null. */
    private static JsonElement json(double x) {
        return Double.isFinite(x) ? new JsonPrimitive(x) : JsonNull.INSTANCE;
    }

    private static JsonObject scores(ClassScores s) {
        JsonObject o = new JsonObject();
        o.add("precision", json(s.precision()));
        o.add("recall", json(s.recall()));
        o.add("f1", json(s.f1()));
        o.addProperty("support", s.support());
        return o;
    }
}
