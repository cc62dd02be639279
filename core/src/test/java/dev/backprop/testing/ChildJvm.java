package dev.backprop.testing;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** For tests that start a child JVM on their own classes. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * This JVM's class path as a child needs it: {@code java.class.path} (all of it under Surefire) plus the URLs
     * of the loader that loaded {@code anchor} (JUnit's console launcher, as the GPU verification runs it, loads
     * the tests from its {@code --class-path} through a URLClassLoader, and {@code java.class.path} holds only the
     * launcher).
     */
    public static String classPath(Class<?> anchor) {
        Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path")
                .split(File.pathSeparator)));
        if (anchor.getClassLoader() instanceof URLClassLoader loader) {
            for (URL url : loader.getURLs()) {
                try {
                    entries.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    throw new IllegalStateException("class path entry " + url + " is not a file", e);
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * What a finished child JVM printed, stdout and stderr together, and its exit status.
     *
     * @param exit   the exit status
     * @param output everything it printed
     */
    public record Result(int exit, String output) {
        /** The {@code key=value} lines of {@link #output}, in order (a later line wins). */
        public Map<String, String> values() {
            Map<String, String> out = new LinkedHashMap<>();
            for (String line : output.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    out.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return out;
        }

        /** Fails with the output unless the exit status is 0; else {@link #values()} plus {@code output}. */
        public Map<String, String> succeeded() {
            if (exit != 0) {
                throw new AssertionError("child JVM exit status " + exit + "; output:\n" + output);
            }
            Map<String, String> out = values();
            out.put("output", output);
            return out;
        }
    }

    /**
     * Runs {@code main} with {@code args} in a child JVM of this JVM's Java on {@link #classPath} (plus
     * {@code extraClassPath}, ahead of it), with {@code jvmOptions} and native access enabled; kills it after 120 s.
     */
    public static Result run(Class<?> main, List<String> jvmOptions, List<Path> extraClassPath, String... args)
            throws IOException, InterruptedException {
        List<String> cp = new ArrayList<>();
        extraClassPath.forEach(p -> cp.add(p.toString()));
        cp.add(classPath(main));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), main.getName()));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("backprop-child-", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IOException("child JVM timed out after 120 s: " + cmd + "\n" + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
