package dev.backprop.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the cuBLAS library to use, without loading anything.
 *
 * <p>The JCublas2 native needs {@code libcublas.so.12}. A real cuBLAS 12 wins; otherwise a cuBLAS 13
 * ({@code libcublas.so.13}) is used through the bundled forwarding shim (see {@code src/main/shim}). An
 * explicit path (system property {@code backprop.cuda.cublas}, else environment variable
 * {@code BACKPROP_CUBLAS_LIBRARY}, which the shim reads too) overrides the search. Other majors are reported,
 * never used.
 */
final class CublasLocator {
    /** Property naming the cuBLAS library file to use. */
    static final String PROPERTY = "backprop.cuda.cublas";
    /** Environment variable naming the cuBLAS library file to use (also read by the shim). */
    static final String ENV = "BACKPROP_CUBLAS_LIBRARY";

    private static final Pattern MAJOR = Pattern.compile("libcublas\\.so\\.([0-9]+)(?:\\.[0-9.]*)?$");

    /**
     * A chosen library.
     *
     * @param path    the file to load
     * @param major   its major version (12 or 13)
     * @param viaShim whether the bundled {@code libcublas.so.12} shim must forward to it
     * @param source  how it was found, for messages
     */
    record Choice(Path path, int major, boolean viaShim, String source) {
        /** E.g. {@code cuBLAS 13 at /usr/local/cuda/lib64/libcublas.so.13 via the libcublas.so.12 shim}. */
        String describe() {
            return "cuBLAS " + major + " at " + path + (viaShim ? " via the bundled libcublas.so.12 shim" : "")
                    + " (" + source + ")";
        }
    }

    /** A choice, or the reason there is none. */
    record Result(Choice choice, String reason) {
    }

    private CublasLocator() {
    }

    /** The major version in a file name such as {@code libcublas.so.13.1.0.3}, or -1. */
    static int majorOf(Path file) {
        Matcher m = MAJOR.matcher(file.getFileName().toString());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Searches with this JVM's settings: property, environment, library paths, ld.so.cache, usual places. */
    static Result locate() {
        String explicit = System.getProperty(PROPERTY);
        String source = "system property " + PROPERTY;
        if (explicit == null || explicit.isBlank()) {
            explicit = System.getenv(ENV);
            source = "environment variable " + ENV;
        }
        return locate(explicit == null || explicit.isBlank() ? null : explicit.trim(), source,
                CublasSearchPath.directories());
    }

    /**
     * Searches {@code explicitPath} when given, else {@code directories} in order.
     *
     * @param explicitPath a library file named by the user, or null
     * @param source       where {@code explicitPath} came from
     * @param directories  folders to look in, best first
     */
    static Result locate(String explicitPath, String source, List<Path> directories) {
        if (explicitPath != null) {
            return explicit(Path.of(explicitPath), source);
        }
        Map<Integer, Path> first = new TreeMap<>();
        for (Path dir : directories) {
            for (Path lib : cublasFiles(dir)) {
                first.putIfAbsent(majorOf(lib), lib);
            }
        }
        if (first.containsKey(12)) {
            return new Result(new Choice(first.get(12), 12, false, "library search"), null);
        }
        if (first.containsKey(13)) {
            return new Result(new Choice(first.get(13), 13, true, "library search"), null);
        }
        String looked = "looked for libcublas.so.12 and libcublas.so.13 in " + directories.size() + " folders ("
                + summarize(directories) + ")";
        first.remove(-1);
        if (!first.isEmpty()) {
            return new Result(null, "cuBLAS of the wrong major version: found only " + first.values()
                    + "; JCublas 12.6 needs cuBLAS 12, or cuBLAS 13 through the bundled shim (" + looked
                    + "); install cuBLAS 12 or 13, or set " + PROPERTY + "=/path/to/libcublas.so.13");
        }
        return new Result(null, "no cuBLAS found (" + looked + "); install the CUDA toolkit's cuBLAS "
                + "(12 or 13), or set " + PROPERTY + "=/path/to/libcublas.so.13, or use --backend opencl");
    }

    private static Result explicit(Path path, String source) {
        if (!Files.isRegularFile(path)) {
            return new Result(null, source + " names " + path + ", which is not a file");
        }
        int major = majorOf(path);
        if (major < 0) {
            try {
                major = majorOf(path.toRealPath());
            } catch (IOException e) {
                major = -1;
            }
        }
        if (major == 12 || major == 13) {
            return new Result(new Choice(path, major, major == 13, source), null);
        }
        return new Result(null, source + " names " + path + ", which is "
                + (major < 0 ? "not recognisably libcublas.so.<major>" : "cuBLAS " + major)
                + "; JCublas 12.6 needs libcublas.so.12, or libcublas.so.13 through the bundled shim");
    }

    /** Files named {@code libcublas.so.<N>...} in {@code dir}, sorted so {@code .so.N} precedes {@code .so.N.x}. */
    static List<Path> cublasFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "libcublas.so.*")) {
            for (Path p : ds) {
                if (majorOf(p) >= 0 && Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        } catch (IOException | SecurityException e) {
            return out;
        }
        out.sort((a, b) -> a.getFileName().toString().length() - b.getFileName().toString().length());
        return out;
    }

    /**
     * Absolute paths of cuBLAS libraries listed in an {@code ld.so.cache} file (its string table holds the
     * full paths as NUL-terminated strings), or none when it cannot be read.
     */
    static List<Path> fromLdCache(Path cache) {
        Set<Path> out = new LinkedHashSet<>();
        try {
            byte[] bytes = Files.readAllBytes(cache);
            int start = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == 0) {
                    if (i - start > 1 && bytes[start] == '/') {
                        String s = new String(bytes, start, i - start, StandardCharsets.ISO_8859_1);
                        if (s.contains("/libcublas.so.")) {
                            out.add(Path.of(s));
                        }
                    }
                    start = i + 1;
                }
            }
        } catch (IOException | SecurityException | java.nio.file.InvalidPathException e) {
            return List.of();
        }
        return List.copyOf(out);
    }

    private static String summarize(List<Path> dirs) {
        List<String> names = dirs.stream().limit(6).map(Path::toString).toList();
        return String.join(", ", names) + (dirs.size() > 6 ? ", ..." : "");
    }
}
