package dev.backprop.cuda;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** The module's folders and the native tools (g++, gcc, ptxas, readelf, nm) some tests run. */
final class TestTools {
    private TestTools() {
    }

    /** The backend-cuda module folder (surefire runs tests there; {@code basedir} says so explicitly). */
    static Path moduleDir() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    }

    /** An executable {@code name}: from {@code preferred} when it exists there, else from {@code PATH}; or null. */
    static Path find(String name, String... preferred) {
        for (String p : preferred) {
            Path candidate = Path.of(p);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                    return Path.of(dir, name);
                }
            }
        }
        return null;
    }

    /**
     * The executable {@code name} (as {@link #find}) for a test that cannot run without it. When it is missing the
     * test fails where {@code CI=true}, since CI installs every tool these tests need and a missing one is a broken
     * set-up, and is skipped elsewhere; either way the message says what goes untested.
     */
    static Path require(String name, String untested, String... preferred) {
        Path found = find(name, preferred);
        if (found == null) {
            unavailable(name + " not found (looked in " + (preferred.length == 0 ? "" : String.join(", ", preferred)
                    + " and ") + "PATH): " + untested);
        }
        return found;
    }

    /** Ends a test that cannot run here, saying {@code why}: a failure where {@code CI=true}, a skip elsewhere. */
    static void unavailable(String why) {
        if (inCi()) {
            fail("CI=true, but " + why);
        }
        Assumptions.abort(why);
    }

    /** Whether this is a CI run ({@code CI=true}), where nothing may be skipped for a missing tool. */
    static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** A finished process: exit status and combined output. */
    record Result(int exit, String output) {
    }

    /**
     * Runs {@code command} in {@code dir} with extra environment {@code env}; fails after {@code seconds}. The
     * child does not inherit {@code BACKPROP_CUBLAS_LIBRARY}: a test names the cuBLAS it means in {@code env}, and
     * the caller's (gpu-verify.sh points it at the GPU machine's real cuBLAS 13) must not replace a test's fake.
     */
    static Result run(List<String> command, Path dir, Map<String, String> env, long seconds)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("backprop-cuda-test-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().remove("BACKPROP_CUBLAS_LIBRARY");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out after " + seconds + " s: " + command + "; output so far: "
                        + new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
