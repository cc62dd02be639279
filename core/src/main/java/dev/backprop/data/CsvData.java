package dev.backprop.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads numeric CSV files: comma-separated numbers, an optional header line (detected when the first line
 * does not parse as numbers), blank lines ignored. The last {@code targetColumns} columns are the targets
 * (or, for {@link #readClassification}, the single last column is an integer class label); the others are
 * the features.
 */
public final class CsvData {
    private CsvData() {
    }

    /** Regression (or binary 0/1) data: the last {@code targetColumns} columns are float targets. */
    public static Dataset readRegression(Path path, int targetColumns) {
        Table t = read(path);
        if (targetColumns < 1 || targetColumns >= t.cols) {
            throw new DataFormatException(path + ": " + t.cols + " columns cannot hold " + targetColumns
                    + " target column(s) and at least one feature");
        }
        int nf = t.cols - targetColumns;
        float[] f = new float[t.rows.size() * nf];
        float[] y = new float[t.rows.size() * targetColumns];
        for (int r = 0; r < t.rows.size(); r++) {
            double[] row = t.rows.get(r);
            for (int c = 0; c < nf; c++) {
                f[r * nf + c] = (float) row[c];
            }
            for (int c = 0; c < targetColumns; c++) {
                y[r * targetColumns + c] = (float) row[nf + c];
            }
        }
        return Dataset.regression(f, new int[] {nf}, y, targetColumns);
    }

    /** Classification data: the last column is an integer label in {@code [0, numClasses)}. */
    public static Dataset readClassification(Path path, int numClasses) {
        Table t = read(path);
        if (t.cols < 2) {
            throw new DataFormatException(path + ": needs at least one feature column and a label column");
        }
        int nf = t.cols - 1;
        float[] f = new float[t.rows.size() * nf];
        int[] l = new int[t.rows.size()];
        for (int r = 0; r < t.rows.size(); r++) {
            double[] row = t.rows.get(r);
            for (int c = 0; c < nf; c++) {
                f[r * nf + c] = (float) row[c];
            }
            double v = row[nf];
            if (v != Math.rint(v) || v < 0 || v >= numClasses) {
                throw new DataFormatException(path + ": line " + t.lines.get(r) + ": label " + v
                        + " is not a class in [0, " + numClasses + ")");
            }
            l[r] = (int) v;
        }
        return Dataset.classification(f, new int[] {nf}, l, numClasses, null);
    }

    /** Parses one CSV line of numbers (for {@code predict} on a single row). */
    public static float[] parseRow(String line) {
        String[] parts = line.trim().split(",", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new DataFormatException("column " + (i + 1) + ": '" + parts[i].trim() + "' is not a number");
            }
        }
        return out;
    }

    private record Table(int cols, List<double[]> rows, List<Integer> lines) {
    }

    private static Table read(Path path) {
        List<double[]> rows = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        int cols = -1;
        try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = in.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",", -1);
                double[] row = new double[parts.length];
                boolean numeric = true;
                for (int i = 0; i < parts.length && numeric; i++) {
                    try {
                        row[i] = Double.parseDouble(parts[i].trim());
                    } catch (NumberFormatException e) {
                        numeric = false;
                        if (cols >= 0 || !rows.isEmpty()) {
                            throw new DataFormatException(path + ": line " + no + ", column " + (i + 1) + ": '"
                                    + parts[i].trim() + "' is not a number");
                        }
                    }
                }
                if (!numeric) {
                    cols = parts.length; // header line
                    continue;
                }
                if (cols >= 0 && parts.length != cols) {
                    throw new DataFormatException(path + ": line " + no + " has " + parts.length + " columns, expected "
                            + cols);
                }
                cols = parts.length;
                rows.add(row);
                lines.add(no);
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(path + ": file not found");
        } catch (IOException e) {
            throw new DataFormatException(path + ": cannot read (" + e + ")", e);
        }
        if (rows.isEmpty()) {
            throw new DataFormatException(path + ": no data rows");
        }
        for (double[] r : rows) {
            for (double v : r) {
                if (!Double.isFinite(v)) {
                    throw new DataFormatException(path + ": non-finite value " + v + " in " + Arrays.toString(r));
                }
            }
        }
        return new Table(cols, rows, lines);
    }
}
