package dev.backprop.data;

import dev.backprop.testing.ChildJvm;
import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IDX sizes checked before anything is inflated or allocated: against the limit, against the file (exactly for a
 * plain file, against deflate's largest expansion for a gzipped one) and against the heap, in a child JVM with a
 * small heap where the old reader ran out of memory.
 */
class IdxBoundsTest {
    @TempDir
    Path dir;

    private String refused(byte[] bytes) throws IOException {
        Path p = dir.resolve("f.idx");
        Files.write(p, bytes);
        return assertThrows(DataFormatException.class, () -> IdxFile.read(p)).getMessage();
    }

    @Test
    void declaredSizesPastTheLimitOrTheFileAreRefusedBeforeReading() throws IOException {
        String m = refused(FileBytes.idx(new int[] {1 << 16, 1 << 15}, new byte[10]));
        assertTrue(m.contains("more than the limit of 1073741824 elements"), m);
        m = refused(FileBytes.idx(new int[] {0x7c000000, 0}, new byte[0]));
        assertTrue(m.contains("[2080374784, 0], more than the limit"), "no data, but a count too large: " + m);
        m = refused(FileBytes.idx(new int[] {0, 768, 1 << 25}, new byte[0]));
        assertTrue(m.contains("[0, 768, 33554432], more than the limit"), "no items, but items too large: " + m);
        m = refused(FileBytes.idx(new int[] {100, 28, 28}, new byte[78_399]));
        assertTrue(m.contains("truncated: header [100, 28, 28] needs 78400 data bytes, the file has 78399"), m);
        m = refused(FileBytes.idx(new int[] {100}, new byte[101]));
        assertTrue(m.contains("trailing bytes: header [100] needs 100 data bytes, the file has 101"), m);
        m = refused(FileBytes.idx(new int[] {-5}, new byte[0]));
        assertTrue(m.contains("dimension 0 of the IDX header is 4294967291"), m);
    }

    @Test
    void aGzipHeaderDeclaringMoreThanDeflateCanExpandToIsABomb() throws IOException {
        // 300,000 images declared, a few hundred bytes of gzip: deflate expands at most 1032 times.
        byte[] bomb = FileBytes.gzip(FileBytes.idx(new int[] {300_000, 28, 28}, new byte[1000]));
        String m = refused(bomb);
        assertTrue(m.contains("more than the " + bomb.length + " gzipped bytes of the file can inflate to"), m);
    }

    @Test
    void aFileTooLargeForTheHeapIsRefusedWithoutRunningOutOfMemory() throws Exception {
        // 60,000 zero images really inflate to 47 MB (within deflate's bound), which a 40 MB heap cannot hold.
        Path p = dir.resolve("big-images-idx3-ubyte.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(FileBytes.idx(new int[] {60_000, 28, 28}, new byte[0]));
            byte[] zeros = new byte[1 << 20];
            for (long left = 60_000L * 784; left > 0; left -= zeros.length) {
                o.write(zeros, 0, (int) Math.min(left, zeros.length));
            }
        }
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx40m", "-cp", ChildJvm.classPath(IdxBoundsTest.class), ReadIdx.class.getName(), p.toString())
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(3, child.waitFor(), out);
        assertTrue(out.contains("declares 44.9 MiB of data, which needs 44.9 MiB, the Java heap has"), out);
        assertTrue(out.contains("(raise -Xmx)"), out);
    }

    /** Reads one IDX file: exit 0 when it loads, 3 with the message on a {@link DataFormatException}. */
    public static final class ReadIdx {
        private ReadIdx() {
        }

        public static void main(String[] args) {
            try {
                System.out.println("read " + IdxFile.read(Path.of(args[0])).count() + " items");
            } catch (DataFormatException e) {
                System.out.println(e.getMessage());
                System.exit(3);
            }
        }
    }
}
