package dev.backprop.cli;

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
 * true label or target when known.
 */
final class PredictionPrinter {
    private final PrintWriter out;
    private final Task task;
    private final List<String> classNames;

    /** @param classNames names by class index, or null to print the indices */
    PredictionPrinter(PrintWriter out, Task task, List<String> classNames) {
        this.out = out;
        this.task = task;
        this.classNames = classNames;
    }

    /**
     * @param what    the example ({@code test example 3})
     * @param outputs the predictor's outputs for it (probabilities, or values)
     * @param truth   the true class (classification, binary), or NaN when unknown
     * @param targets the true values (regression), or null
     */
    void print(String what, float[] outputs, double truth, float[] targets) {
        switch (task) {
            case CLASSIFICATION -> classification(what, outputs, truth);
            case BINARY -> binary(what, outputs[0], truth);
            case REGRESSION -> out.printf(Locale.ROOT, "%s: value %s%s%n", what, values(outputs),
                    targets == null ? "" : " (target " + values(targets) + ")");
        }
    }

    private void classification(String what, float[] p, double truth) {
        boolean known = !Double.isNaN(truth);
        out.println(what + (known ? " (label: " + name((int) truth) + ")" : ""));
        StringBuilder all = new StringBuilder("  probabilities:");
        for (int c = 0; c < p.length; c++) {
            all.append(String.format(Locale.ROOT, "  %s %.4f", name(c), p[c]));
        }
        out.println(all);
        Integer[] order = IntStream.range(0, p.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer c) -> -p[c]).thenComparingInt(c -> c));
        StringBuilder top = new StringBuilder("  top 3:");
        for (int i = 0; i < Math.min(3, order.length); i++) {
            top.append(String.format(Locale.ROOT, "  %d. %s %.4f", i + 1, name(order[i]), p[order[i]]));
        }
        if (known) {
            top.append(order[0] == (int) truth ? "   (correct)" : "   (wrong)");
        }
        out.println(top);
    }

    private void binary(String what, float p1, double truth) {
        boolean known = !Double.isNaN(truth);
        int decision = p1 >= 0.5f ? 1 : 0;
        out.printf(Locale.ROOT, "%s%s: P(%s) = %.4f -> %s%s%n", what, known ? " (label: " + name((int) truth) + ")" : "",
                name(1), p1, name(decision), known ? (decision == (int) truth ? "   (correct)" : "   (wrong)") : "");
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
