package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFolder} against a folder handed over by someone else: bombs by the thousand, names that would write to
 * the terminal, pipes and devices where images should be. Each is refused in one line naming the folder or file.
 */
class HostileImageFolderTest {
    @TempDir
    Path root;

    private DataFormatException refused() {
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.read(root));
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\u001b"), e.getMessage());
        return e;
    }

    /**
     * {@code n} images in class folder {@code a}: the first a {@code side × side} bomb of a few kilobytes, the others
     * links to one with the same header whose data is cut off, so that decoding any but the first fails.
     */
    private void bombs(int n, int side) throws IOException {
        Path a = Files.createDirectories(root.resolve("a"));
        Files.write(a.resolve("0000.png"), HostilePng.flat(side, side, null, null));
        Path cut = Files.write(root.resolve(".cut.png"), HostilePng.png(side, side, new byte[] {0}));
        for (int i = 1; i < n; i++) {
            Files.createSymbolicLink(a.resolve(String.format("%04d.png", i)), cut);
        }
    }

    @Test
    void aThousandBombsAreRefusedForTheirTotalBeforeTheSecondIsDecoded() throws IOException {
        bombs(1000, 8192);
        assertEquals(root + ": 1000 images of 1x8192x8192 are 67108864000 values, more than one array holds",
                refused().getMessage());
    }

    @Test
    void bombsThatOneArrayHoldsButTheHeapDoesNotAreRefusedBeforeTheSecondIsDecoded() throws IOException {
        int n = (int) Math.min(120, Runtime.getRuntime().maxMemory() / (4L << 24) + 2);
        bombs(n, 4096);
        String message = refused().getMessage();
        assertTrue(message.startsWith(root + ": " + n + " images of 1x4096x4096 as floats (and " + (n - 1) * (1L << 24)
                + " bytes of pixels while they are read) needs "), message);
    }

    /** Thousands, not a hundred thousand: making and deleting those would take this test a minute and more. */
    @Test
    void thousandsOfEmptyClassFoldersAreRefusedAtTheFirst() throws IOException {
        for (int i = 0; i < 5_000; i++) {
            Files.createDirectory(root.resolve(String.format("c%06d", i)));
        }
        assertEquals(root.resolve("c000000") + ": no image in this class folder (files ending in bmp, gif, jpeg, jpg, "
                + "png)", refused().getMessage());
    }

    @Test
    void namesWithEscapesAndLineBreaksAreEscapedInEveryMessage() throws IOException {
        Files.write(Files.createDirectories(root.resolve("cat")).resolve("\u001b[2Jevil\n.png"), new byte[] {1, 2});
        assertEquals(root.resolve("cat") + "/\\u001B[2Jevil\\u000A.png: not an image the JDK decodes (PNG, JPEG, BMP, "
                + "GIF)", refused().getMessage());
        Files.createDirectory(root.resolve("dog\u001b]0;title\u0007\n"));
        assertEquals(root + ": class folder: class name 'dog\\u001B]0;title\\u0007\\u000A' holds U+001B, a control "
                + "character",
                refused().getMessage());
    }

    @Test
    void aPipeOrADeviceNamedAsAnImageIsRefusedWithoutWaiting() throws Exception {
        Path cat = Files.createDirectories(root.resolve("cat"));
        Path fifo = cat.resolve("x.png");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertTrue(refused().getMessage().startsWith(fifo + ": not a regular file"));
        Files.delete(fifo);
        Files.createSymbolicLink(fifo, Path.of("/dev/zero"));
        assertTrue(refused().getMessage().startsWith(fifo + ": not a regular file"));
        Files.delete(fifo);    // before JUnit cleans up, which warns about a link out of its folder
        Files.createSymbolicLink(fifo, cat.resolve("y.png"));
        Files.createSymbolicLink(cat.resolve("y.png"), fifo);
        assertTrue(refused().getMessage().startsWith(fifo + ": "));
        assertEquals(List.of("cat"), ImageFolder.classes(root));
    }

    @Test
    void aTestFolderWithFewerOrMoreClassesThanTheModelsIsRefused() throws IOException {
        for (String k : new String[] {"cat", "dog"}) {
            Files.write(Files.createDirectories(root.resolve(k)).resolve("a.png"), HostilePng.flat(2, 2, null, null));
        }
        DataFormatException subset = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(root, 1, List.of("cat", "cow", "dog")));
        assertEquals(root + ": no class folder for [cow]; expected the 3 classes [cat, cow, dog]",
                subset.getMessage());
        DataFormatException superset = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(root, 1, List.of("dog")));
        assertEquals(root + ": class folder(s) [cat] not among the classes expected; expected the 1 classes [dog]",
                superset.getMessage());
    }
}
