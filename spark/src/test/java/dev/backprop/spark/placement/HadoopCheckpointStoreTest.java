package dev.backprop.spark.placement;

import dev.backprop.io.AtomicFile;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The checkpoint store on the local Hadoop file system, with planted faults ({@link FaultyLocalFileSystem}). */
class HadoopCheckpointStoreTest {
    private static final byte[] OLD = "the checkpoint of step 5".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NEW = "another checkpoint of step 5".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path tmp;

    @AfterEach
    void removeFaults() {
        FaultyLocalFileSystem.reset();
    }

    private static Configuration conf() {
        Configuration c = new Configuration();
        c.set("fs.file.impl", FaultyLocalFileSystem.class.getName());
        c.setBoolean("fs.file.impl.disable.cache", true);
        c.set("fs." + NoReplaceFileSystem.SCHEME + ".impl", NoReplaceFileSystem.class.getName());
        c.setBoolean("fs." + NoReplaceFileSystem.SCHEME + ".impl.disable.cache", true);
        c.set("fs.AbstractFileSystem." + NoReplaceFileSystem.SCHEME + ".impl", NoReplaceFileSystem.Fs.class.getName());
        return c;
    }

    /** A prepared store in a new directory {@code name} under the test's folder. */
    private HadoopCheckpointStore store(String name) throws IOException {
        Path d = tmp.resolve(name);
        HadoopCheckpointStore.prepare(d.toString(), conf());
        return new HadoopCheckpointStore(d.toString(), conf());
    }

    private static Path checkpoint(Path dir, long step) {
        return dir.resolve(String.format("checkpoint-%012d.safetensors", step));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFailedRenameKeepsTheStoredCheckpointAndItsTemporaryIsDeleted() throws IOException {
        HadoopCheckpointStore store = store("ckpt");
        store.save(5, OLD);
        FaultyLocalFileSystem.beforeRename = (src, dst) -> {
            throw new IOException("Read-only file system (planted)");
        };
        IOException e = assertThrows(IOException.class, () -> store.save(5, NEW));
        assertTrue(e.getMessage().contains("Read-only file system (planted)"), e.getMessage());
        Path dir = tmp.resolve("ckpt");
        assertArrayEquals(OLD, Files.readAllBytes(checkpoint(dir, 5)), "the step's checkpoint is still there");
        assertEquals(List.of(checkpoint(dir, 5).getFileName().toString()), names(dir), "no temporary file left");
    }

    @Test
    void aFailedWriteLeavesNoTemporaryFile() throws IOException {
        HadoopCheckpointStore store = store("ckpt");
        store.save(4, OLD);
        FaultyLocalFileSystem.failWrites = true;
        IOException e = assertThrows(IOException.class, () -> store.save(5, NEW));
        assertTrue(e.getMessage().contains("No space left on device (planted)"), e.getMessage());
        Path dir = tmp.resolve("ckpt");
        assertEquals(List.of(checkpoint(dir, 4).getFileName().toString()), names(dir));
    }

    /**
     * A restarted rank 0 and a zombie one write the same step: the first has written its file and is about to
     * rename it when the second writes and renames its own. Both succeed and the step's file is one whole copy.
     */
    @Test
    void twoWritersOfOneStepEachLeaveAWholeFile() throws Exception {
        HadoopCheckpointStore first = store("ckpt");
        HadoopCheckpointStore second = new HadoopCheckpointStore(tmp.resolve("ckpt").toString(), conf());
        CountDownLatch firstWaits = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        AtomicInteger renames = new AtomicInteger();
        FaultyLocalFileSystem.beforeRename = (src, dst) -> {
            if (renames.getAndIncrement() == 0) {
                firstWaits.countDown();
                try {
                    assertTrue(secondDone.await(30, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> a = pool.submit(() -> {
                first.save(5, OLD);
                return null;
            });
            assertTrue(firstWaits.await(30, TimeUnit.SECONDS));
            try {
                second.save(5, NEW);
            } finally {
                secondDone.countDown();
            }
            a.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        Path dir = tmp.resolve("ckpt");
        assertArrayEquals(OLD, Files.readAllBytes(checkpoint(dir, 5)), "the last rename wins, whole");
        assertEquals(List.of(checkpoint(dir, 5).getFileName().toString()), names(dir));
    }

    @Test
    void temporaryFilesLeftByACrashAreDeletedOnceStale() throws IOException {
        HadoopCheckpointStore store = store("ckpt");
        Path dir = tmp.resolve("ckpt");
        String suffix = AtomicFile.TEMP_SUFFIX;
        Path crashed = dir.resolve(".checkpoint-000000000003.safetensors.k2x9q" + suffix);
        Path writing = dir.resolve(".checkpoint-000000000004.safetensors.7hd1w" + suffix);
        Path notOurs = dir.resolve(".notes.txt" + suffix);
        for (Path p : List.of(crashed, writing, notOurs)) {
            Files.writeString(p, "partial");
        }
        long stale = System.currentTimeMillis() - HadoopCheckpointStore.STALE_AFTER_MILLIS - 60_000;
        Files.setLastModifiedTime(crashed, FileTime.fromMillis(stale));
        Files.setLastModifiedTime(notOurs, FileTime.fromMillis(stale));
        store.save(4, OLD);
        assertFalse(Files.exists(crashed), "left by a crash an hour ago");
        assertTrue(Files.exists(writing), "another writer may still be writing it");
        assertTrue(Files.exists(notOurs), "not a file of this store");
    }

    @Test
    void theTwoNewestAreKeptAndTheNewestIsRead() throws IOException {
        HadoopCheckpointStore store = store("ckpt");
        assertTrue(store.latest().isEmpty());
        for (long step = 1; step <= 4; step++) {
            store.save(step * 10, ("step " + step * 10).getBytes(StandardCharsets.US_ASCII));
        }
        Path dir = tmp.resolve("ckpt");
        assertEquals(List.of(checkpoint(dir, 30).getFileName().toString(),
                checkpoint(dir, 40).getFileName().toString()), names(dir));
        var latest = store.latest().orElseThrow();
        assertEquals(40, latest.step());
        assertEquals("step 40", new String(latest.bytes(), StandardCharsets.US_ASCII));
    }

    /** As a corrupt checkpoint fails the resume naming it, so does one that cannot be read: no silent fallback. */
    @Test
    void aNamedPipePlantedAsTheNewestCheckpointIsRefusedNotWaitedOn() throws Exception {
        HadoopCheckpointStore store = store("ckpt");
        store.save(10, OLD);
        Path pipe = checkpoint(tmp.resolve("ckpt"), 99);
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", pipe.toString()).inheritIO().start();
        } catch (IOException e) {
            mkfifo = null;
        }
        assumeTrue(mkfifo != null && mkfifo.waitFor() == 0, "mkfifo is not available here");
        ExecutorService rank0 = Executors.newSingleThreadExecutor();
        Future<?> resumed = rank0.submit(store::latest);
        try {
            ExecutionException e = assertThrows(ExecutionException.class, () -> resumed.get(60, TimeUnit.SECONDS));
            assertEquals("cannot read the newest checkpoint " + pipe + ": not a regular file (a pipe, socket or "
                    + "device cannot be a checkpoint) (delete it to resume from " + checkpoint(tmp.resolve("ckpt"), 10)
                    + ", or use a new checkpoint directory)", e.getCause().getMessage());
        } finally {
            if (!resumed.isDone()) {
                // Rank 0 waits in open(2) for a writer: be that writer so the thread ends.
                Files.newOutputStream(pipe).close();
            }
            rank0.shutdownNow();
        }
    }

    @Test
    void aNewestCheckpointThatCannotBeReadIsNamed() throws IOException {
        HadoopCheckpointStore store = store("ckpt");
        store.save(10, OLD);
        store.save(20, NEW);
        FaultyLocalFileSystem.failOpen = checkpoint(tmp, 20).getFileName().toString();
        IOException e = assertThrows(IOException.class, store::latest);
        Path dir = tmp.resolve("ckpt");
        assertEquals("cannot read the newest checkpoint " + checkpoint(dir, 20) + ": Input/output error (planted) "
                + "(delete it to resume from " + checkpoint(dir, 10) + ", or use a new checkpoint directory)",
                e.getMessage());
    }

    @Test
    void onlyTheLastLevelOfTheDirectoryIsCreatedAndOnlyAtStart() throws IOException {
        Path typo = tmp.resolve("no/such/ckpt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HadoopCheckpointStore.prepare(typo.toString(), conf()));
        assertEquals("checkpoint directory " + typo + ": the directory " + tmp.resolve("no/such") + " does not "
                + "exist (it is not created: make it first)", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("no")));

        Path file = tmp.resolve("notes.txt");
        Files.writeString(file, "notes");
        assertEquals("checkpoint directory " + file + ": exists and is not a directory", assertThrows(
                IllegalArgumentException.class, () -> HadoopCheckpointStore.prepare(file.toString(), conf()))
                .getMessage());

        HadoopCheckpointStore store = store("ckpt");
        assertTrue(Files.isDirectory(tmp.resolve("ckpt")));
        assertEquals(List.of(), names(tmp.resolve("ckpt")), "the probe file is gone");
        Files.delete(tmp.resolve("ckpt"));
        IOException gone = assertThrows(IOException.class, () -> store.save(1, OLD));
        assertEquals("checkpoint directory " + tmp.resolve("ckpt") + " is gone: checkpoints are written only into "
                + "the directory the run checked at start", gone.getMessage());
        assertFalse(Files.exists(tmp.resolve("ckpt")), "not created again behind the run's back");
    }

    /** Where a rename cannot replace a file atomically, a step stored by another writer stays as it is. */
    @Test
    void aStoredStepIsKeptWhereRenameCannotReplaceIt() throws IOException {
        Path dir = tmp.resolve("ckpt");
        String uri = NoReplaceFileSystem.SCHEME + ":" + dir;
        HadoopCheckpointStore.prepare(uri, conf());
        HadoopCheckpointStore store = new HadoopCheckpointStore(uri, conf());
        store.save(5, OLD);
        store.save(5, NEW);
        assertArrayEquals(OLD, Files.readAllBytes(checkpoint(dir, 5)));
        store.save(6, NEW);
        assertArrayEquals(NEW, Files.readAllBytes(checkpoint(dir, 6)));
        assertEquals(List.of(checkpoint(dir, 5).getFileName().toString(),
                checkpoint(dir, 6).getFileName().toString()), names(dir), "no temporary file left");
        assertEquals(6, store.latest().orElseThrow().step());
    }
}
