package dev.backprop.io;

import dev.backprop.backend.DType;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Paths an attacker who can write a directory (a shared checkpoint directory, a download folder) puts where a model
 * file is expected or written: a named pipe, a file cut short after its header was checked, a symbolic link.
 */
class UntrustedPathTest {
    /** Longer than any open of a regular file takes; bounds only how long a regression hangs the build. */
    private static final long HANG_GUARD_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void aNamedPipeWhereAModelFileShouldBeIsRefusedNotWaitedOn() throws Exception {
        Path pipe = dir.resolve("checkpoint-999.safetensors");
        assumeTrue(mkfifo(pipe), "mkfifo is not available here");
        ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pipe-reader");
            t.setDaemon(true);
            return t;
        });
        Future<Object> opened = reader.submit(() -> SavedModel.metadata(pipe));
        try {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> opened.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS));
            assertInstanceOf(ModelFileException.class, e.getCause());
            assertEquals(pipe + ": not a regular file (a pipe, socket or device cannot be a model file)",
                    e.getCause().getMessage());
        } finally {
            if (!opened.isDone()) {
                // The reader waits in open(2) for a writer: be that writer so the thread ends.
                FileChannel.open(pipe, StandardOpenOption.WRITE).close();
            }
            reader.shutdownNow();
        }
    }

    @Test
    void aFileCutShortAfterItsHeaderWasCheckedFailsTheReadWithOneLine() throws IOException {
        Path p = dir.resolve("m.safetensors");
        try (ReferenceBackend be = new ReferenceBackend();
             Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build()) {
            ModelFile.save(p, m);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                long dataStart = f.header().dataStart();
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.truncate(dataStart + 4);
                }
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> f.read("0.weight", be, DType.FLOAT32));
                assertEquals(p + ": the file ended while reading tensor '0.weight' (it changed while being read?)",
                        e.getMessage());
            }
        }
    }

    @Test
    void writingAModelThroughASymbolicLinkReplacesTheLinkNotTheFileItNames() throws IOException {
        Path victim = dir.resolve("passwd");
        Files.writeString(victim, "root:x:0:0:root:/root:/bin/bash\n");
        Path link = dir.resolve("m.safetensors");
        Files.createSymbolicLink(link, victim);
        try (ReferenceBackend be = new ReferenceBackend();
             Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build()) {
            ModelFile.save(link, m);
        }
        assertEquals("root:x:0:0:root:/root:/bin/bash\n", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(link));
        assertTrue(SavedModel.metadata(link).containsKey(ModelFile.ARCHITECTURE_KEY));
    }

    private static boolean mkfifo(Path p) throws InterruptedException {
        try {
            return new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
