package dev.backprop.data;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFolder} decoding on several threads ({@link ImageFolder#THREADS_PROPERTY}): the same dataset as on
 * one, the first failing file in file order named, the heap checks counting the images in flight, no thread left.
 */
class ImageFolderThreadsTest {
    private static final ImageTransform RESIZE = ImageTransform.resize(7).centerCrop(6, 6);

    @TempDir
    Path root;

    @AfterEach
    void clearProperty() {
        System.clearProperty(ImageFolder.THREADS_PROPERTY);
    }

    /** {@code n} random RGB photos of 23 × 31 or 31 × 23 in classes {@code a}, {@code b}, {@code c}. */
    private void photos(int n) throws IOException {
        Random random = new Random(3);
        for (int i = 0; i < n; i++) {
            int h = i % 2 == 0 ? 23 : 31, w = 54 - h;
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    img.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            Path p = root.resolve("abc".substring(i % 3, i % 3 + 1)).resolve(String.format("%03d.png", i));
            Files.createDirectories(p.getParent());
            assertTrue(ImageIO.write(img, "png", p.toFile()));
        }
    }

    private Dataset read(int threads) {
        System.setProperty(ImageFolder.THREADS_PROPERTY, String.valueOf(threads));
        return ImageFolder.read(root, ImageFolder.AUTO_CHANNELS, null, RESIZE);
    }

    private DataFormatException refused(int threads) {
        return assertThrows(DataFormatException.class, () -> read(threads));
    }

    private static boolean poolThreadsLeft() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("backprop-image-"));
    }

    @Test
    void theDatasetIsTheSameBitForBitWhateverTheThreads() throws IOException {
        photos(30);
        Dataset one = read(1);
        for (int threads : new int[] {2, 3, 8}) {
            Dataset many = read(threads);
            assertEquals(one.size(), many.size());
            for (int i = 0; i < one.size(); i++) {
                assertArrayEquals(one.features(i), many.features(i), threads + " threads, example " + i);
                assertEquals(one.label(i), many.label(i), threads + " threads, example " + i);
            }
        }
        assertFalse(poolThreadsLeft());
    }

    @Test
    void theFirstFailingFileInFileOrderIsNamedAndNoThreadIsLeft() throws IOException {
        photos(30);
        // Files are ordered a/000, a/003, ...: a/009, a photo cut short that takes a while to decode, is the first to
        // fail in file order, and a/012, which is not an image at all, the first to fail in time.
        Path first = root.resolve("a/009.png");
        BufferedImage big = new BufferedImage(1500, 1500, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(5);
        for (int y = 0; y < 1500; y++) {
            for (int x = 0; x < 1500; x++) {
                big.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        assertTrue(ImageIO.write(big, "png", first.toFile()));
        byte[] whole = Files.readAllBytes(first);
        Files.write(first, Arrays.copyOf(whole, whole.length * 9 / 10));
        Files.write(root.resolve("a/012.png"), new byte[] {1, 2, 3});
        for (int threads : new int[] {1, 4}) {
            String message = refused(threads).getMessage();
            assertTrue(message.startsWith(first + ": "), threads + " threads: " + message);
        }
        assertFalse(poolThreadsLeft());
    }

    @Test
    void theHeapCheckCountsTheImagesInFlight() throws IOException {
        // Each image after the first says 8192 x 8192: 512 MiB to decode, which the heap has room for once, and not
        // as many times as there are threads. The first is small, so the folder's check passes.
        long decode = 8L << 26;
        int threads = (int) (Runtime.getRuntime().maxMemory() / decode) + 2;
        Path a = Files.createDirectories(root.resolve("a"));
        Files.write(a.resolve("0000.png"), HostilePng.flat(2, 2, null, null));
        Path cut = Files.write(root.resolve(".cut.png"), HostilePng.png(8192, 8192, new byte[] {0}));
        for (int i = 1; i <= threads; i++) {
            Files.createSymbolicLink(a.resolve(String.format("%04d.png", i)), cut);
        }
        String message = refused(threads).getMessage();
        assertTrue(message.startsWith(a.resolve("0001.png") + ": decoding 8192x8192 pixels, as " + threads
                + " images read at once, needs "), message);
        assertFalse(poolThreadsLeft());
    }

    @Test
    void anInterruptedReadStopsKeepingTheInterrupt() throws IOException {
        photos(12);
        Thread.currentThread().interrupt();
        try {
            refused(3);
            assertTrue(Thread.interrupted(), "the interrupt is kept");
        } finally {
            Thread.interrupted();
        }
        assertFalse(poolThreadsLeft());
        assertEquals(12, read(3).size());
    }

    @Test
    void aThreadCountThatIsNotAWholeNumberFromOneIsRefused() throws IOException {
        photos(2);
        for (String bad : new String[] {"0", "-1", "two", " 2", "99999"}) {
            System.setProperty(ImageFolder.THREADS_PROPERTY, bad);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ImageFolder.read(root, 3, null, RESIZE));
            assertEquals("backprop.images.threads must be a whole number from 1 to 9999, got '" + bad + "'",
                    e.getMessage());
        }
    }
}
