package dev.backprop.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real shared libraries, compiled with gcc at test time, whose constructor appends the path they were loaded
 * from to a marker file: planted where a binding's own loader would look, they show whether that path is ever
 * loaded. Without gcc a test fails when the environment variable {@code CI} is {@code true} (these tests must run
 * there) and is skipped elsewhere.
 */
public final class PlantedLibrary {
    private PlantedLibrary() {
    }

    /** The gcc to compile with: {@code /usr/bin/gcc}, else one on {@code PATH}; fails (CI) or skips without. */
    public static Path gcc() {
        Path gcc = Path.of("/usr/bin/gcc");
        if (!Files.isExecutable(gcc)) {
            gcc = null;
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "gcc"))) {
                    gcc = Path.of(dir, "gcc");
                    break;
                }
            }
        }
        if (gcc == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("gcc is needed to build the planted libraries of the native-loading tests, and CI must run them");
            }
            Assumptions.abort("gcc not found: the native-loading tests need it to build their libraries");
        }
        return gcc;
    }

    /** Compiles the library to {@code out}; its constructor appends its own path to {@code marker}. */
    public static Path compile(Path gcc, Path out, Path marker) throws IOException, InterruptedException {
        Path source = out.resolveSibling(out.getFileName() + ".c");
        try (InputStream in = PlantedLibrary.class.getResourceAsStream("planted.c")) {
            Files.copy(in, source);
        }
        Process p = new ProcessBuilder(gcc.toString(), "-shared", "-fPIC", "-DMARKER=\"" + marker + "\"", "-o",
                out.toString(), source.toString(), "-ldl").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gcc finished");
        assertEquals(0, p.exitValue(), "gcc failed:\n" + output);
        Files.delete(source);
        return out;
    }

    /** The paths the libraries reporting to {@code marker} were loaded from, in load order; empty when none. */
    public static List<String> loads(Path marker) throws IOException {
        return Files.exists(marker) ? Files.readAllLines(marker, StandardCharsets.UTF_8) : List.of();
    }

    /**
     * The mappings of this process (from {@code /proc/self/maps}) whose file name contains {@code name}, one path
     * each; a library whose file was deleted after loading ends in {@code " (deleted)"}.
     */
    public static List<String> mapped(String name) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("/") && l.substring(l.indexOf('/')).contains(name))
                .map(l -> l.substring(l.indexOf('/'))).distinct().toList();
    }
}
