package dev.backprop.io;

import dev.backprop.backend.DType;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one atomic writer: modes, temporary files (failed, killed, interrupted writes), errors and durability. */
class AtomicFileTest {
    @TempDir
    Path dir;

    private static Set<PosixFilePermission> mode(Path p) throws IOException {
        return Files.getPosixFilePermissions(p);
    }

    private List<String> tempFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(AtomicFile.TEMP_SUFFIX)).toList();
        }
    }

    @Test
    void aModelFileGetsTheModeTheUmaskGivesANewFile() throws IOException {
        Path fresh = Files.createFile(dir.resolve("fresh"));
        Path model = dir.resolve("m.safetensors");
        try (ReferenceBackend b = new ReferenceBackend();
             Sequential m = Sequential.builder(b, DType.FLOAT32).seed(1).dense(3, 2).build()) {
            ModelFile.save(model, m);
        }
        assertEquals(mode(fresh), mode(model), "not the 0600 of a temporary file");
    }

    @Test
    void aReplacedFileKeepsItsMode() throws IOException {
        Path target = dir.resolve("plot.png");
        Files.writeString(target, "old");
        Set<PosixFilePermission> shared = PosixFilePermissions.fromString("rw-rw-r--");
        Files.setPosixFilePermissions(target, shared);
        AtomicFile.write(target, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(target));
        assertEquals(shared, mode(target));
    }

    @Test
    void aFailedWriteNamesTheTargetLeavesItAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("ck.safetensors");
        Files.writeString(target, "the previous checkpoint");
        FileSystemException e = assertThrows(FileSystemException.class, () -> AtomicFile.write(target, out -> {
            out.write(new byte[100_000]);
            throw new IOException("No space left on device");
        }));
        assertEquals(target + ": cannot write it: No space left on device", e.getMessage());
        assertEquals("the previous checkpoint", Files.readString(target));
        assertEquals(List.of(), tempFiles());
    }

    @Test
    void aDirectoryInTheWayOrAMissingOneIsNamedAndNothingIsCreated() {
        Path inTheWay = dir.resolve("model.safetensors");
        assertTrue(inTheWay.toFile().mkdir());
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> AtomicFile.write(inTheWay, new byte[1]));
        assertEquals(inTheWay + ": cannot write it: is a directory; give a file name", e.getMessage());

        Path missing = dir.resolve("no/such/m.safetensors");
        e = assertThrows(FileSystemException.class, () -> AtomicFile.write(missing, new byte[1]));
        assertEquals(missing + ": cannot write it: the directory " + dir.resolve("no/such")
                + " does not exist (it is not created: make it first)", e.getMessage());
        assertFalse(Files.exists(dir.resolve("no")));
    }

    @Test
    void theNextWriteDeletesTemporaryFilesOfProcessesThatAreGoneOnly() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(60, TimeUnit.SECONDS));
        String stale = ".m.safetensors." + gone.pid() + ".k3x" + AtomicFile.TEMP_SUFFIX;
        String live = ".m.safetensors." + ProcessHandle.current().pid() + ".k3y" + AtomicFile.TEMP_SUFFIX;
        String otherTarget = ".n.safetensors." + gone.pid() + ".k3z" + AtomicFile.TEMP_SUFFIX;
        for (String n : List.of(stale, live, otherTarget)) {
            Files.writeString(dir.resolve(n), "half a file");
        }
        AtomicFile.write(dir.resolve("m.safetensors"), new byte[] {1, 2});
        assertEquals(Set.of(live, otherTarget), Set.copyOf(tempFiles()),
                "a running process's file and another target's stay");
    }

    @Test
    void theDirectoryIsSyncedAfterTheRename() throws IOException {
        Path target = dir.resolve("m.bin");
        List<String> seen = new ArrayList<>();
        AtomicFile.write(target, out -> out.write(new byte[] {7}), d -> {
            seen.add(d + " " + Files.exists(target) + " " + tempFiles().size());
        });
        assertEquals(List.of(target.getParent() + " true 0"), seen);
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(target));
    }

    @Test
    void aJvmShutDownInTheMiddleOfAWriteLeavesNoTemporaryFile() throws Exception {
        Path target = dir.resolve("m.safetensors");
        Path started = dir.resolve("started");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                ChildJvm.classPath(AtomicFileTest.class), SlowWriter.class.getName(), target.toString(),
                started.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile())
                .start();
        try {
            for (int i = 0; i < 1200 && !Files.exists(started) && p.isAlive(); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(started), () -> "the child never began writing: " + log());
            assertEquals(1, tempFiles().size(), "the write is under way");
            p.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
        }
        assertEquals(List.of(), tempFiles(), this::log);
        assertFalse(Files.exists(target));
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Writes args[0], saying so by creating args[1], and never finishes (until the JVM is stopped). */
    public static final class SlowWriter {
        public static void main(String[] args) throws Exception {
            AtomicFile.write(Path.of(args[0]), out -> {
                out.write(new byte[1000]);
                out.flush();
                Files.createFile(Path.of(args[1]));
                try {
                    Thread.sleep(600_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }
}
