package dev.backprop.cli;

import dev.backprop.io.AtomicFile;
import dev.backprop.io.ModelFile;
import dev.backprop.model.SavedModel;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The checks a command makes of the files it will write, before it does any work: each can be written (its
 * directory exists and is writable, it is not a directory), no two are the same file, and an existing one is only
 * replaced when it is what the command writes there and {@code --overwrite} was given. Writing itself is
 * {@link AtomicFile}'s.
 */
final class OutputFiles {
    /** What a command writes to a file, which is also what it may replace there. */
    enum Kind {
        /** A Backprop model file or checkpoint (a safetensors file with Backprop's metadata). */
        MODEL("a Backprop model or checkpoint"),
        /** A PNG image. */
        PNG("a PNG image"),
        /** An ONNX model that Backprop exported. */
        ONNX("an ONNX model exported by Backprop"),
        /** An evaluation report, JSON that {@code eval --report-json} wrote. */
        REPORT("an evaluation report written by Backprop");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        /** Whether the existing regular file {@code p} is of this kind. */
        boolean describes(Path p) {
            return switch (this) {
                case MODEL -> isModel(p);
                case PNG -> Arrays.equals(head(p, 8), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
                case ONNX -> isBackpropOnnx(head(p, 64));
                case REPORT -> new String(head(p, 64), StandardCharsets.UTF_8).replaceAll("\\s", "")
                        .startsWith("{\"format\":\"" + EvalReport.FORMAT + "\"");
            };
        }
    }

    /**
     * A file the command will write.
     *
     * @param option    the option that names it, e.g. {@code --out}
     * @param path      the file
     * @param kind      what is written there
     * @param continued true for the checkpoint a run resumes from and writes again: it may be that input, and is
     *                  replaced without {@code --overwrite}
     */
    record Target(String option, Path path, Kind kind, boolean continued) {
        Target(String option, Path path, Kind kind) {
            this(option, path, kind, false);
        }
    }

    private OutputFiles() {
    }

    /**
     * Checks {@code targets} (null paths are left out) against each other, the files they would replace and
     * {@code inputs} (files the run reads, which no target may be).
     *
     * @throws IllegalArgumentException naming the option, the file and what is wrong
     */
    static void check(List<Target> targets, List<Target> inputs, boolean overwrite) {
        List<Target> given = targets.stream().filter(t -> t.path() != null).toList();
        for (Target t : given) {
            try {
                AtomicFile.checkWritable(t.path());
            } catch (FileSystemException e) {
                throw new IllegalArgumentException(t.option() + " " + e.getMessage(), e);
            }
        }
        for (int i = 0; i < given.size(); i++) {
            for (int j = i + 1; j < given.size(); j++) {
                refuseSame(given.get(i), given.get(j), "both would be written there", given.get(j));
            }
            for (Target in : inputs) {
                if (in.path() != null && !given.get(i).continued()) {
                    refuseSame(given.get(i), in, "the run reads it and would replace it", given.get(i));
                }
            }
        }
        for (Target t : given) {
            checkExisting(t, overwrite);
        }
    }

    private static void refuseSame(Target a, Target b, String why, Target rename) {
        if (canonical(a.path()).equals(canonical(b.path()))) {
            throw new IllegalArgumentException(a.option() + " " + a.path() + " and " + b.option() + " " + b.path()
                    + " are the same file: " + why + "; give " + rename.option() + " another name");
        }
    }

    private static void checkExisting(Target t, boolean overwrite) {
        Path p = t.path();
        if (!Files.exists(p)) {
            return;
        }
        if (!Files.isRegularFile(p) || !t.kind().describes(p)) {
            throw new IllegalArgumentException(t.option() + " " + p + " exists and is not " + t.kind().words
                    + ": not replacing it; give another name");
        }
        if (!overwrite && !t.continued()) {
            throw new IllegalArgumentException(t.option() + " " + p + " exists (" + t.kind().words + "); give "
                    + "--overwrite to replace it, or another name");
        }
    }

    /**
     * The file a path names, with links and {@code ..} resolved as far as the file system has them (the directory
     * exists once checked; the file may not yet).
     */
    static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return Files.exists(abs) ? abs.toRealPath() : abs.getParent().toRealPath().resolve(abs.getFileName());
        } catch (IOException | RuntimeException e) {
            return abs;
        }
    }

    private static boolean isModel(Path p) {
        try {
            return SavedModel.metadata(p).containsKey(ModelFile.VERSION_KEY);
        } catch (IOException e) {
            return false;
        }
    }

    /** An ONNX model starts with its IR version (field 1) and, in Backprop's exports, producer "backprop" (2). */
    private static boolean isBackpropOnnx(byte[] h) {
        byte[] producer = "backprop".getBytes(StandardCharsets.US_ASCII);
        int i = 0;
        if (h.length < 2 || h[i++] != 0x08) {
            return false;
        }
        while (i < h.length && (h[i] & 0x80) != 0) {
            i++;
        }
        i++;
        return i + 2 + producer.length <= h.length && h[i] == 0x12 && h[i + 1] == producer.length
                && Arrays.equals(Arrays.copyOfRange(h, i + 2, i + 2 + producer.length), producer);
    }

    /** The first {@code n} bytes of a file (fewer when it is shorter or cannot be read). */
    private static byte[] head(Path p, int n) {
        try (InputStream in = Files.newInputStream(p)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /**
     * Checks Spark's {@code --checkpoint-dir} where this machine sees what the ranks will see (a local master and a
     * local path): an existing one must be a writable directory; a new one is created by the run, but not its parent.
     *
     * @throws IllegalArgumentException naming the directory and what is wrong
     */
    static void checkSparkCheckpointDir(String master, String dir) {
        if (dir == null || !master.startsWith("local")) {
            return;
        }
        Path p;
        try {
            URI uri = new URI(dir);
            if (uri.getScheme() != null && !uri.getScheme().equals("file")) {
                return;
            }
            p = uri.getScheme() == null ? Path.of(dir) : Path.of(uri);
        } catch (URISyntaxException | IllegalArgumentException e) {
            p = Path.of(dir);
        }
        Path abs = p.toAbsolutePath();
        String problem = null;
        if (Files.exists(abs)) {
            problem = !Files.isDirectory(abs) ? "exists and is not a directory"
                    : !Files.isWritable(abs) ? "is not writable" : null;
        } else if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
            problem = "the directory " + abs.getParent() + " does not exist (it is not created: make it first)";
        } else if (!Files.isWritable(abs.getParent())) {
            problem = "the directory " + abs.getParent() + " is not writable";
        }
        if (problem != null) {
            throw new IllegalArgumentException("--checkpoint-dir " + dir + ": " + problem);
        }
    }
}
