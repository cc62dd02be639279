package dev.backprop.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Random;

/**
 * The data of the README's regression example, {@code plane.csv} ({@code bin/plane-csv} runs this): 1,000 rows
 * {@code x1,x2,y} with x1, x2 uniform in [-1, 1) from a seeded generator and {@code y = 1.5·x1 − 2·x2 + 0.5·x1·x2},
 * written with six decimals after a header line, the same bytes on every machine and JDK.
 */
public final class PlaneCsv {
    /** Rows written. */
    static final int ROWS = 1000;

    private PlaneCsv() {
    }

    /** The file's text. */
    static String text() {
        StringBuilder sb = new StringBuilder("x1,x2,y\n");
        Random r = new Random(1);
        for (int i = 0; i < ROWS; i++) {
            double a = r.nextDouble() * 2 - 1;
            double b = r.nextDouble() * 2 - 1;
            sb.append(String.format(Locale.ROOT, "%.6f,%.6f,%.6f%n", a, b, 1.5 * a - 2 * b + 0.5 * a * b));
        }
        return sb.toString();
    }

    /**
     * Writes the file at {@code file}, which must not exist yet (an existing file is left as it is).
     *
     * @throws IOException naming the file, when it exists or cannot be written
     */
    static void write(Path file) throws IOException {
        try {
            Files.writeString(file, text(), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(file + " exists already; remove it or name another file", e);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": the directory " + file.toAbsolutePath().getParent() + " does not exist",
                    e);
        }
    }

    /**
     * Writes {@code args[0]} (default {@code plane.csv}); exits with 1 and one line on stderr when that fails.
     */
    public static void main(String[] args) {
        Path file = Path.of(args.length > 0 ? args[0] : "plane.csv");
        try {
            write(file);
            System.out.println("wrote " + file + ": " + ROWS + " rows x1,x2,y with y = 1.5*x1 - 2*x2 + 0.5*x1*x2");
        } catch (IOException e) {
            System.err.println("plane-csv: " + (e.getMessage() != null ? e.getMessage() : e));
            System.exit(Main.EXIT_ERROR);
        }
    }
}
