package dev.backprop.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** The small CSV the quick CLI tests use: rows of four features, three classes by the signs of the first two. */
final class ThreeClassCsv {
    private ThreeClassCsv() {
    }

    /** Writes 300 rows as {@code three.csv} in {@code dir}; returns its path. */
    static Path write(Path dir) throws IOException {
        return write(dir.resolve("three.csv"), 300);
    }

    /** Writes {@code rows} rows to {@code csv}; returns it. */
    static Path write(Path csv, int rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        Random r = new Random(3);
        for (int i = 0; i < rows; i++) {
            double[] x = {r.nextGaussian(), r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            int label = x[0] > 0 ? (x[1] > 0 ? 2 : 1) : 0;
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%.5f,%.5f,%d%n", x[0], x[1], x[2], x[3], label));
        }
        Files.writeString(csv, sb);
        return csv;
    }

    /**
     * The options of a quick Adam run on {@code csv} (cpu, 4-16-3, batch 16, lr 0.05, {@code epochs} epochs) saving
     * to {@code out}, for {@link CliRun#train(Map, String...)} to override.
     */
    static Map<String, String> adamRun(Path csv, int epochs, Path out) {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("--backend", "cpu");
        opts.put("--csv", csv.toString());
        opts.put("--layers", "4-16-3");
        opts.put("--batch-size", "16");
        opts.put("--optimizer", "adam");
        opts.put("--lr", "0.05");
        opts.put("--epochs", Integer.toString(epochs));
        opts.put("--out", out.toString());
        return opts;
    }
}
