package dev.backprop.fuzz;

import dev.backprop.backend.Backend;
import dev.backprop.data.DataFormatException;
import dev.backprop.io.ModelFileException;
import dev.backprop.reference.ReferenceBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the fuzz targets share: a scratch directory, a backend, and the rule for a finding. A reader may accept an
 * input or refuse it with its documented exception ({@link ModelFileException}, {@link DataFormatException})
 * carrying a non-empty one-line message; anything else (another exception, a multi-line message, an error such
 * as {@link OutOfMemoryError}, a leaked buffer) propagates, and Jazzer reports it with the input.
 */
final class FuzzSupport {
    static final Backend BACKEND = new ReferenceBackend();
    private static final Path DIR;

    static {
        try {
            // Memory-backed where there is one: a write to the disk costs milliseconds, a hundred times the read.
            Path shm = Path.of("/dev/shm");
            DIR = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "backprop-fuzz")
                    : Files.createTempDirectory("backprop-fuzz");
            DIR.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FuzzSupport() {
    }

    /** Writes {@code data} to the scratch file {@code name} (the same file each time). */
    static Path write(String name, byte[] data) throws IOException {
        Path p = DIR.resolve(name);
        Files.write(p, data);
        return p;
    }

    /** A reader's action, which may throw anything. */
    interface Action {
        void run() throws Exception;
    }

    /**
     * Runs {@code action}: its documented refusal with a one-line message passes, as does success; nothing may
     * stay allocated on the backend either way.
     */
    static void read(Action action) throws Exception {
        long live = BACKEND.memoryStats().liveBuffers();
        try {
            action.run();
        } catch (ModelFileException | DataFormatException e) {
            checkMessage(e);
        }
        if (BACKEND.memoryStats().liveBuffers() != live) {
            throw new AssertionError((BACKEND.memoryStats().liveBuffers() - live) + " buffers leaked");
        }
    }

    /** A documented refusal must explain itself on one line. */
    static void checkMessage(Exception e) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r")) {
            throw new AssertionError("not a one-line message: " + m, e);
        }
    }
}
