package dev.backprop.train;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** The cases {@code core/src/test/python/report_fixtures.py} wrote with scikit-learn ({@code report-fixtures.txt}). */
final class ReportFixtures {
    private static final String FILE = "/dev/backprop/train/report-fixtures.txt";

    private ReportFixtures() {
    }

    /** A classification case: labels, predictions and sklearn's matrix and report. */
    record Classification(String label, int classes, int[] truth, int[] predicted, long[] matrix,
                          List<double[]> perClass, double[] macro, double[] weighted, double accuracy) {
    }

    /** A regression case, row-major {@code [samples][targets]}, and sklearn's per-target and averaged scores. */
    record Regression(String label, double[][] truth, double[][] predicted, List<double[]> perTarget,
                      double[] average) {
    }

    static List<Classification> classification() throws IOException {
        List<Classification> out = new ArrayList<>();
        for (List<String[]> c : cases("classification")) {
            String[] head = c.get(0);
            List<double[]> perClass = new ArrayList<>();
            for (String[] line : c) {
                if (line[0].equals("class")) {
                    perClass.add(doubles(line, 2));
                }
            }
            out.add(new Classification(head[1], Integer.parseInt(head[2]), ints(c.get(1)), ints(c.get(2)),
                    Arrays.stream(c.get(3)).skip(1).mapToLong(Long::parseLong).toArray(), perClass,
                    doubles(find(c, "macro"), 1), doubles(find(c, "weighted"), 1),
                    Double.parseDouble(find(c, "accuracy")[1])));
        }
        return out;
    }

    static List<Regression> regression() throws IOException {
        List<Regression> out = new ArrayList<>();
        for (List<String[]> c : cases("regression")) {
            String[] head = c.get(0);
            int targets = Integer.parseInt(head[3]);
            List<double[]> perTarget = new ArrayList<>();
            for (String[] line : c) {
                if (line[0].equals("target")) {
                    perTarget.add(doubles(line, 2));
                }
            }
            out.add(new Regression(head[1], rows(doubles(c.get(1), 1), targets), rows(doubles(c.get(2), 1), targets),
                    perTarget, doubles(find(c, "average"), 1)));
        }
        return out;
    }

    /** The records of each case of one kind, its header line first. */
    private static List<List<String[]>> cases(String kind) throws IOException {
        List<List<String[]>> out = new ArrayList<>();
        try (InputStream in = ReportFixtures.class.getResourceAsStream(FILE)) {
            assertNotNull(in, FILE);
            List<String[]> current = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "classification", "regression" -> {
                        current = f[0].equals(kind) ? new ArrayList<>() : null;
                        if (current != null) {
                            out.add(current);
                        }
                    }
                    case "truth", "predicted", "matrix", "class", "macro", "weighted", "accuracy", "target",
                         "average" -> {
                        // belongs to the case above
                    }
                    default -> fail("unexpected line in " + FILE + ": " + line);
                }
                if (current != null) {
                    current.add(f);
                }
            }
        }
        return out;
    }

    private static String[] find(List<String[]> c, String key) {
        return c.stream().filter(l -> l[0].equals(key)).findFirst().orElseThrow();
    }

    private static int[] ints(String[] f) {
        return Arrays.stream(f).skip(1).mapToInt(Integer::parseInt).toArray();
    }

    private static double[] doubles(String[] f, int from) {
        return Arrays.stream(f).skip(from).mapToDouble(Double::parseDouble).toArray();
    }

    private static double[][] rows(double[] flat, int width) {
        double[][] out = new double[flat.length / width][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(flat, i * width, (i + 1) * width);
        }
        return out;
    }
}
