package dev.backprop.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.backprop.model.Predictor;
import dev.backprop.model.Task;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Prints {@code predict}'s output for one example: every class probability and the top 3 by name
 * (classification), the probability of class 1 and the decision (binary), or the values (regression); with the
 * true label or target when known. As text, or with {@code --json} as one JSON object per line (Gson writes it, so
 * class names are escaped as JSON requires).
 */
final class PredictionPrinter {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final PrintWriter out;
    private final Task task;
    private final List<String> classNames;
    private final boolean json;

    /**
     * One example.
     *
     * @param text    how text output names it ({@code test example 3}, {@code row})
     * @param key     the JSON field that numbers it: {@code index} (a test example), {@code row} or {@code image}
     * @param number  its test-set index, or its row or image number from 0
     * @param line    its line in a {@code --rows} file, or 0
     * @param truth   the true class (classification, binary), or NaN when unknown
     * @param targets the true values (regression), or null
     * @param file    the image file it was read from, or null
     */
    record Example(String text, String key, int number, int line, double truth, float[] targets, String file) {
    }

    /** @param classNames names by class index, or null to print the indices */
    PredictionPrinter(PrintWriter out, Task task, List<String> classNames, boolean json) {
        this.out = out;
        this.task = task;
        this.classNames = classNames;
        this.json = json;
    }

    /**
     * Prints example {@code i} of a batch of {@code rows} as {@code e}: its outputs (probabilities, or values) and
     * its class as {@link Predictor#classify} decides it.
     *
     * @param batch the batch's predictions, with classes unless the task is regression
     */
    void print(Example e, Predictor.Decided batch, int i, int rows) {
        int k = batch.outputs().length / rows;
        print(e, Arrays.copyOfRange(batch.outputs(), i * k, (i + 1) * k), batch.classes() == null ? -1
                : batch.classes()[i]);
    }

    /**
     * The predictions of {@code rows} examples and, when {@code predictor}'s task classifies, their classes, from
     * one forward pass.
     */
    static Predictor.Decided predict(Predictor predictor, float[] features, int rows) {
        return predictor.task().scoredByAccuracy() ? predictor.decide(features, rows)
                : new Predictor.Decided(predictor.predict(features, rows), null);
    }

    private void print(Example e, float[] outputs, int decided) {
        if (json) {
            out.println(GSON.toJson(json(e, outputs, decided)));
            return;
        }
        switch (task) {
            case CLASSIFICATION -> classification(e.text(), outputs, decided, e.truth());
            case BINARY -> binary(e.text(), outputs[0], decided, e.truth());
            case REGRESSION -> out.printf(Locale.ROOT, "%s: value %s%s%n", e.text(), values(outputs),
                    e.targets() == null ? "" : " (target " + values(e.targets()) + ")");
        }
    }

    private JsonObject json(Example e, float[] outputs, int decided) {
        JsonObject o = new JsonObject();
        o.addProperty(e.key(), e.number());
        if (e.line() > 0) {
            o.addProperty("line", e.line());
        }
        if (e.file() != null) {
            o.addProperty("file", e.file());
        }
        boolean known = !Double.isNaN(e.truth());
        switch (task) {
            case CLASSIFICATION -> {
                addClass(o, "class", decided);
                o.add("probabilities", numbers(outputs));
            }
            case BINARY -> {
                addClass(o, "class", decided);
                o.add("probability", number(outputs[0]));
            }
            case REGRESSION -> {
                o.add("values", numbers(outputs));
                if (e.targets() != null) {
                    o.add("targets", numbers(e.targets()));
                }
            }
        }
        if (known) {
            addClass(o, "label", (int) e.truth());
        }
        return o;
    }

    /** {@code field: c} and, when the class has a name, {@code field_name: name}. */
    private void addClass(JsonObject o, String field, int c) {
        o.addProperty(field, c);
        if (classNames != null && c < classNames.size()) {
            o.addProperty(field + "_name", classNames.get(c));
        }
    }

    private static JsonArray numbers(float[] v) {
        JsonArray a = new JsonArray(v.length);
        for (float x : v) {
            a.add(number(x));
        }
        return a;
    }

    /** A float as the shortest decimal that reads back to it; NaN and infinities, which JSON lacks, as null. */
    private static com.google.gson.JsonElement number(float x) {
        return Float.isFinite(x) ? new JsonPrimitive(x) : JsonNull.INSTANCE;
    }

    /**
     * Class indices with the decided class first (two probabilities can round to one value although the logits
     * differ), then by falling probability, ties by index.
     */
    private static Integer[] order(float[] p, int decided) {
        Integer[] order = IntStream.range(0, p.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer c) -> c == decided ? 0 : 1)
                .thenComparingDouble(c -> -p[c]).thenComparingInt(c -> c));
        return order;
    }

    private void classification(String what, float[] p, int decided, double truth) {
        boolean known = !Double.isNaN(truth);
        out.println(what + (known ? " (label: " + name((int) truth) + ")" : ""));
        StringBuilder all = new StringBuilder("  probabilities:");
        for (int c = 0; c < p.length; c++) {
            all.append(String.format(Locale.ROOT, "  %s %.4f", name(c), p[c]));
        }
        out.println(all);
        Integer[] order = order(p, decided);
        StringBuilder top = new StringBuilder("  top 3:");
        for (int i = 0; i < Math.min(3, order.length); i++) {
            top.append(String.format(Locale.ROOT, "  %d. %s %.4f", i + 1, name(order[i]), p[order[i]]));
        }
        if (known) {
            top.append(order[0] == (int) truth ? "   (correct)" : "   (wrong)");
        }
        out.println(top);
    }

    private void binary(String what, float p1, int decision, double truth) {
        boolean known = !Double.isNaN(truth);
        out.printf(Locale.ROOT, "%s%s: P(%s) = %.4f -> %s%s%n", what,
                known ? " (label: " + name((int) truth) + ")" : "", name(1), p1, name(decision),
                known ? (decision == (int) truth ? "   (correct)" : "   (wrong)") : "");
    }

    private String name(int c) {
        return classNames != null && c < classNames.size() ? classNames.get(c) : "class " + c;
    }

    private static String values(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (float x : v) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", x));
        }
        return v.length == 1 ? sb.toString() : "[" + sb + "]";
    }
}
