package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFolder}: torchvision's classes and order, what is skipped, the channels, and the folders refused. Each
 * image's pixels are all one value, its number, so an example's first feature says which file it came from.
 */
class ImageFolderTest {
    @TempDir
    Path root;

    /** A {@code h × w} image all of value {@code v}: gray, or RGB with channels v, v + 1, v + 2. */
    private Path image(String relative, int v, boolean rgb, int h, int w) throws IOException {
        Path p = root.resolve(relative);
        Files.createDirectories(p.getParent());
        BufferedImage img = new BufferedImage(w, h, rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (rgb) {
                    img.setRGB(x, y, v << 16 | (v + 1) << 8 | (v + 2));
                } else {
                    img.getRaster().setSample(x, y, 0, v);
                }
            }
        }
        String name = p.getFileName().toString();
        String format = name.toLowerCase().endsWith(".bmp") ? "bmp" : "png";
        assertTrue(ImageIO.write(img, format, p.toFile()));
        return p;
    }

    private Path gray(String relative, int v) throws IOException {
        return image(relative, v, false, 4, 5);
    }

    /** Each example's value (its first feature × 255), in order. */
    private static int[] values(Dataset d) {
        int[] out = new int[d.size()];
        for (int i = 0; i < d.size(); i++) {
            out[i] = Math.round(d.features(i)[0] * 255);
        }
        return out;
    }

    private static int[] labels(Dataset d) {
        int[] out = new int[d.size()];
        for (int i = 0; i < d.size(); i++) {
            out[i] = d.label(i);
        }
        return out;
    }

    @Test
    void classesAndFilesComeInTorchvisionsSortedOrder() throws IOException {
        gray("dog/b.png", 4);
        gray("dog/a.png", 3);
        gray("cat/10.png", 2);
        gray("cat/09.PNG", 1);
        gray("cat/sub/0.png", 5);      // subfolders are walked, after the folder's own files ("" < "sub")
        gray("cat/sub/deep/0.png", 7);
        gray("cat/sub-x/0.png", 6);    // as os.walk's paths sort: "sub" < "sub-x" < "sub/deep" ('-' < '/')
        gray("Zebra/z.bmp", 8);        // upper case sorts first, as in Python
        Dataset d = ImageFolder.read(root);
        assertEquals(List.of("Zebra", "cat", "dog"), d.classNames());
        assertArrayEquals(new int[] {8, 1, 2, 5, 6, 7, 3, 4}, values(d));
        assertArrayEquals(new int[] {0, 1, 1, 1, 1, 1, 2, 2}, labels(d));
        assertArrayEquals(new int[] {1, 4, 5}, d.featureShape());
        assertEquals(3, d.numClasses());
    }

    @Test
    void hiddenEntriesAndFilesOfOtherKindsAreSkipped() throws IOException {
        gray("cat/a.jpeg.txt", 9).toFile();
        Files.writeString(root.resolve("cat/notes.txt"), "not an image");
        gray("cat/.hidden.png", 9);
        gray("cat/.cache/x.png", 9);
        gray(".git/x.png", 9);
        gray("cat/a.png", 1);
        gray("dog/b.Png", 2);
        Files.writeString(root.resolve("README.md"), "a file beside the class folders");
        Dataset d = ImageFolder.read(root);
        assertEquals(List.of("cat", "dog"), d.classNames());
        assertArrayEquals(new int[] {1, 2}, values(d));
    }

    @Test
    void linksAreFollowedAndALoopIsRefused() throws IOException {
        gray("elsewhere/x.png", 8);
        gray("cat/a.png", 1);
        Files.createSymbolicLink(root.resolve("cat/linked.png"), root.resolve("elsewhere/x.png"));
        Path classes = Files.createDirectory(root.resolve("classes"));
        Files.createSymbolicLink(classes.resolve("cat"), root.resolve("cat"));
        Files.createSymbolicLink(classes.resolve("dog"), root.resolve("elsewhere"));
        Dataset d = ImageFolder.read(classes);
        assertEquals(List.of("cat", "dog"), d.classNames());
        assertArrayEquals(new int[] {1, 8, 8}, values(d));

        Files.createSymbolicLink(root.resolve("cat/loop"), root.resolve("cat"));
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.read(classes));
        assertTrue(e.getMessage().startsWith(classes.resolve("cat/loop") + ": a link back to "), e.getMessage());
    }

    @Test
    void channelsAreOneWhenEveryImageIsGrayElseThree() throws IOException {
        gray("cat/a.png", 10);
        image("dog/b.png", 20, true, 4, 5);
        Dataset auto = ImageFolder.read(root);
        assertArrayEquals(new int[] {3, 4, 5}, auto.featureShape());
        float[] cat = auto.features(0);
        assertEquals(10 / 255f, cat[0]);
        assertEquals(10 / 255f, cat[20]);    // gray expanded to R, G and B planes
        assertEquals(10 / 255f, cat[40]);
        float[] dog = auto.features(1);
        assertEquals(20 / 255f, dog[0]);
        assertEquals(21 / 255f, dog[20]);
        assertEquals(22 / 255f, dog[40]);

        Dataset one = ImageFolder.read(root, 1, null);
        assertArrayEquals(new int[] {1, 4, 5}, one.featureShape());
        assertEquals((19595 * 20 + 38470 * 21 + 7471 * 22 + 32768 >> 16) / 255f, one.features(1)[0]);
        assertEquals(10 / 255f, one.features(0)[19]);

        Files.delete(root.resolve("dog/b.png"));
        gray("dog/b.png", 20);
        assertArrayEquals(new int[] {1, 4, 5}, ImageFolder.read(root).featureShape());
        assertArrayEquals(new int[] {3, 4, 5}, ImageFolder.read(root, 3, null).featureShape());
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.read(root, 2, null));
    }

    @Test
    void imagesOfAnotherSizeAreRefusedNamingTheFileAndBothSizes() throws IOException {
        Path first = gray("cat/a.png", 1);
        Path other = image("dog/b.png", 2, false, 6, 5);
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.read(root));
        assertEquals(other + ": the image is 6x5 (height x width), but " + first + " is 4x5; all images must have "
                + "one size (nothing is resized: give an ImageTransform, or --resize on the command line, to resize "
                + "them)", e.getMessage());
    }

    @Test
    void foldersWithoutClassesOrImagesAreRefusedNamingTheFolder() throws IOException {
        DataFormatException empty = assertThrows(DataFormatException.class, () -> ImageFolder.read(root));
        assertTrue(empty.getMessage().startsWith(root + ": no class folder in it"), empty.getMessage());

        gray("cat/a.png", 1);
        Files.createDirectories(root.resolve("dog/sub"));
        Files.writeString(root.resolve("dog/readme.txt"), "no images here");
        DataFormatException noImage = assertThrows(DataFormatException.class, () -> ImageFolder.read(root));
        assertEquals(root.resolve("dog") + ": no image in this class folder (files ending in bmp, gif, jpeg, jpg, "
                + "png)", noImage.getMessage());

        Path missing = root.resolve("missing");
        DataFormatException none = assertThrows(DataFormatException.class, () -> ImageFolder.read(missing));
        assertTrue(none.getMessage().startsWith(missing + ": no such folder"), none.getMessage());
    }

    @Test
    void aTestFolderMustHaveTheTrainingClasses() throws IOException {
        gray("cat/a.png", 1);
        gray("cow/a.png", 2);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(root, ImageFolder.AUTO_CHANNELS, List.of("cat", "dog")));
        assertEquals(root + ": no class folder for [dog], and class folder(s) [cow] not among the classes expected; "
                + "expected the 2 classes [cat, dog]", e.getMessage());
        Dataset d = ImageFolder.read(root, 1, List.of("cat", "cow"));
        assertEquals(List.of("cat", "cow"), d.classNames());
    }

    @Test
    void aTestFolderIsLabelledByTheNamesOfClassesGivenInAnotherOrder() throws IOException {
        gray("cat/a.png", 1);
        gray("dog/a.png", 2);
        gray("dog/b.png", 3);
        Dataset d = ImageFolder.read(root, ImageFolder.AUTO_CHANNELS, List.of("dog", "cat"));
        assertEquals(List.of("dog", "cat"), d.classNames());
        assertArrayEquals(new int[] {1, 2, 3}, values(d), "the files still come in torchvision's order");
        assertArrayEquals(new int[] {1, 0, 0}, labels(d), "each image has its class's number in the names given");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(root, ImageFolder.AUTO_CHANNELS, List.of("dog", "cat", "dog")));
        assertEquals(root + ": the classes given name a class twice: [dog, cat, dog]", e.getMessage());
    }

    @Test
    void aBrokenImageIsRefusedNamingIt() throws IOException {
        gray("cat/a.png", 1);
        Path bad = Files.writeString(root.resolve("cat/b.png"), "not a png");
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFolder.read(root));
        assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
    }

    @Test
    void namesSortByCodePointAsPythonDoes() {
        assertTrue(ImageFolder.byCodePoint("\uFB01", "\uD83D\uDE00") < 0);  // U+FB01 < U+1F600; UTF-16 says otherwise
        assertTrue("\uFB01".compareTo("\uD83D\uDE00") > 0);
    }
}
