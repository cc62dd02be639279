package dev.backprop.testing;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A work directory for the native-loading tests, with real shared libraries compiled there by gcc whose
 * constructor appends the path they were loaded from to the directory's marker file: planted where a binding's own
 * loader would look, they show whether that path is ever loaded. A test class registers one in a static
 * {@code @RegisterExtension} field: the directory is made before all its tests, the loads are forgotten before each
 * and the directory deleted after all. Without gcc the tests fail when the environment variable {@code CI} is
 * {@code true} (they must run there) and are skipped elsewhere.
 */
public final class PlantedLibrary implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
    private final String prefix;
    private Path gcc;
    private Path work;
    private Path marker;

    /** A work directory to be named {@code prefix...}. */
    public PlantedLibrary(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        gcc = gcc();
        work = Files.createTempDirectory(prefix).toRealPath();
        marker = work.resolve("loads.txt");
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        Files.deleteIfExists(marker);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (work != null) {
            deleteTree(work);
        }
    }

    /** The gcc to compile with: {@code /usr/bin/gcc}, else one on {@code PATH}; fails (CI) or skips without. */
    public static Path gcc() {
        Path found = Files.isExecutable(Path.of("/usr/bin/gcc")) ? Path.of("/usr/bin/gcc") : null;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (found == null && !dir.isEmpty() && Files.isExecutable(Path.of(dir, "gcc"))) {
                found = Path.of(dir, "gcc");
            }
        }
        if (found == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("gcc is needed to build the planted libraries of the native-loading tests, and CI must run them");
            }
            Assumptions.abort("gcc not found: the native-loading tests need it to build their libraries");
        }
        return found;
    }

    /** The work directory. */
    public Path work() {
        return work;
    }

    /** Compiles a library to {@code out} whose constructor appends its own path to the marker file. */
    public Path compile(Path out) throws IOException, InterruptedException {
        Path source = out.resolveSibling(out.getFileName() + ".c");
        try (InputStream in = PlantedLibrary.class.getResourceAsStream("planted.c")) {
            Files.copy(in, source);
        }
        run(gcc.toString(), "-shared", "-fPIC", "-DMARKER=\"" + marker + "\"", "-o", out.toString(), source.toString(),
                "-ldl");
        Files.delete(source);
        return out;
    }

    /**
     * A fresh directory in the work directory, to serve as a child JVM's {@code java.io.tmpdir}, with a library
     * planted under each of {@code names}, then given {@code mode} (as chmod takes it: {@code 1777} is /tmp's).
     */
    public Path tmpdir(String mode, String... names) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(work, "tmp-");
        for (String name : names) {
            compile(dir.resolve(name));
        }
        run("chmod", mode, dir.toString());
        return dir;
    }

    /** The paths the libraries were loaded from during this test, in load order. */
    public List<String> loads() throws IOException {
        return Files.exists(marker) ? Files.readAllLines(marker, StandardCharsets.UTF_8) : List.of();
    }

    /** Deletes {@code dir} and everything in it. */
    public static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The names in {@code dir}, sorted, as a list's string ({@code [a, b]}). */
    public static String names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList().toString();
        }
    }

    /**
     * The files mapped into this process (from {@code /proc/self/maps}) whose path contains {@code name}; a library
     * whose file was deleted after loading ends in {@code " (deleted)"}.
     */
    public static List<String> mapped(String name) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("/") && l.substring(l.indexOf('/')).contains(name))
                .map(l -> l.substring(l.indexOf('/'))).distinct().toList();
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " finished");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + output);
    }
}
