package dev.backprop.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageTransform} against torchvision's {@code Resize} and {@code CenterCrop} on PIL images: the fixtures and
 * PIL's bytes come from {@code src/test/python/resize_fixtures.py} and must be matched exactly; the size rules, the
 * crop's rounding, the options refused, and folders of mixed sizes.
 */
class ImageTransformTest {
    private static final String DIR = "/dev/backprop/data/resize/";

    @TempDir
    Path dir;

    private static JsonObject cases() throws IOException {
        try (InputStream in = ImageTransformTest.class.getResourceAsStream(DIR + "resize_values.json")) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    static List<String> caseNames() throws IOException {
        return List.copyOf(cases().keySet());
    }

    /** The case's transform, written as the fixture script's torchvision arguments. */
    private static ImageTransform transform(JsonObject c) {
        JsonElement r = c.get("resize");
        ImageTransform t = r.isJsonNull() ? ImageTransform.NONE : r.isJsonPrimitive()
                ? ImageTransform.resize(r.getAsInt())
                : ImageTransform.resize(r.getAsJsonArray().get(0).getAsInt(), r.getAsJsonArray().get(1).getAsInt());
        JsonElement crop = c.get("crop");
        return crop.isJsonNull() ? t
                : t.centerCrop(crop.getAsJsonArray().get(0).getAsInt(), crop.getAsJsonArray().get(1).getAsInt());
    }

    @ParameterizedTest
    @MethodSource("caseNames")
    void resizeAndCropGiveExactlyPilsBytes(String name) throws IOException, URISyntaxException {
        JsonObject c = cases().getAsJsonObject(name);
        int channels = c.get("mode").getAsString().equals("L") ? 1 : 3;
        Path file = Path.of(getClass().getResource(DIR + c.get("file").getAsString()).toURI());
        ImageFile image = transform(c).read(file, channels);
        int h = c.get("height").getAsInt(), w = c.get("width").getAsInt();
        assertEquals(List.of(h, w), List.of(image.height(), image.width()), name);
        byte[] pil = HexFormat.of().parseHex(c.get("pixels").getAsString());
        float[] expected = new float[pil.length];
        for (int i = 0; i < h * w; i++) {
            for (int ch = 0; ch < channels; ch++) {
                expected[ch * h * w + i] = (pil[i * channels + ch] & 0xFF) / 255.0f;
            }
        }
        assertArrayEquals(expected, image.toTensor(channels), name);
        if (image.gray() == (channels == 1)) {
            assertArrayEquals(pil, image.pixels(), name + ": the 8-bit pixels");
        }
    }

    @Test
    void shorterSideKeepsTheAspectRatioAndTruncatesTheLongerSide() {
        ImageTransform t = ImageTransform.resize(2);
        assertArrayEquals(new int[] {2, 4}, t.outputSize(3, 7));     // int(2 * 7 / 3) = int(4.67)
        assertArrayEquals(new int[] {4, 2}, t.outputSize(7, 3));
        assertArrayEquals(new int[] {2, 2}, t.outputSize(5, 5));
        assertArrayEquals(new int[] {256, 341}, ImageTransform.resize(256).outputSize(480, 640));
        assertArrayEquals(new int[] {3, 9}, ImageTransform.resize(3, 9).outputSize(480, 640));
        assertArrayEquals(new int[] {224, 200}, ImageTransform.resize(256).centerCrop(224, 200).outputSize(480, 640));
        assertArrayEquals(new int[] {480, 640}, ImageTransform.NONE.outputSize(480, 640));
    }

    @Test
    void centerCropRoundsHalfToEvenAndPadsALargerCrop() {
        assertEquals(4, ImageTransform.offset(37, 30));   // round(3.5) = 4
        assertEquals(6, ImageTransform.offset(53, 40));   // round(6.5) = 6
        assertEquals(3, ImageTransform.offset(10, 4));
        assertEquals(0, ImageTransform.offset(5, 5));
        assertEquals(-1, ImageTransform.offset(5, 8));    // padding (8 - 5) // 2 = 1 before, 2 after
        assertEquals(-1, ImageTransform.offset(4, 7));
    }

    @Test
    void optionsAreParsedWrittenAndReadBack() {
        ImageTransform t = ImageTransform.of("256", "224");
        assertEquals(ImageTransform.resize(256).centerCrop(224, 224), t);
        assertEquals("resize=256,center_crop=224x224", t.toString());
        assertEquals(t, ImageTransform.parse(t.toString()));
        assertEquals(ImageTransform.resize(32, 48), ImageTransform.parse("resize=32x48"));
        assertEquals(ImageTransform.NONE.centerCrop(5, 6), ImageTransform.parse("center_crop=5x6"));
        assertEquals(ImageTransform.NONE, ImageTransform.of(null, null));
        assertEquals(ImageTransform.NONE, ImageTransform.parse("none"));
        assertTrue(ImageTransform.NONE.isNone());
    }

    @Test
    void badSizesAreRefusedNamingTheValue() {
        assertEquals("resize size must be 1 to 8192, got 0",
                assertThrows(IllegalArgumentException.class, () -> ImageTransform.resize(0)).getMessage());
        assertEquals("resize height and width must be 1 to 8192, got 8193x5",
                assertThrows(IllegalArgumentException.class, () -> ImageTransform.resize(8193, 5)).getMessage());
        assertEquals("center crop height and width must be 1 to 8192, got 4x-1", assertThrows(
                IllegalArgumentException.class, () -> ImageTransform.resize(8).centerCrop(4, -1)).getMessage());
        assertEquals("center crop size must be N or HxW (for example 224 or 224x224), got '3x4x5'",
                assertThrows(IllegalArgumentException.class, () -> ImageTransform.of(null, "3x4x5")).getMessage());
        assertEquals("resize size must be N or HxW (for example 224 or 224x224), got 'big'",
                assertThrows(IllegalArgumentException.class, () -> ImageTransform.of("big", null)).getMessage());
        for (String odd : new String[] {"+5", "007", "5x+5", " 5", "5x", "x5", "\u0665"}) {
            assertEquals("resize size must be N or HxW (for example 224 or 224x224), got '" + odd + "'",
                    assertThrows(IllegalArgumentException.class, () -> ImageTransform.of(odd, null)).getMessage(),
                    odd);
        }
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ImageTransform.parse("center_crop=2,resize=3")).getMessage().startsWith(
                "not an image transform: 'center_crop=2,resize=3'"));
    }

    /** A {@code h × w} gray PNG of value {@code v}. */
    private Path gray(String relative, int v, int h, int w) throws IOException {
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, v);
            }
        }
        assertTrue(ImageIO.write(img, "png", p.toFile()));
        return p;
    }

    @Test
    void aFolderOfMixedSizesIsReadWithAResizeAndRefusedWithout() throws IOException {
        gray("cat/a.png", 10, 40, 60);
        gray("dog/b.png", 200, 33, 17);
        gray("dog/c.png", 90, 5, 8);
        assertThrows(DataFormatException.class, () -> ImageFolder.read(dir));
        Dataset d = ImageFolder.read(dir, ImageFolder.AUTO_CHANNELS, null, ImageTransform.resize(6, 7));
        assertArrayEquals(new int[] {1, 6, 7}, d.featureShape());
        assertEquals(200, Math.round(d.features(1)[0] * 255));    // one value stays that value when resized
        Dataset cropped = ImageFolder.read(dir, 3, null, ImageTransform.resize(8).centerCrop(8, 8));
        assertArrayEquals(new int[] {3, 8, 8}, cropped.featureShape());
    }

    /**
     * With {@link ImageFolder#AUTO_CHANNELS}, a gray image resized among RGB ones is repeated into three channels
     * after its resize, as PIL's {@code convert("RGB")} before it gives the same bytes in each.
     */
    @Test
    void aGrayImageAmongRgbOnesIsResizedThenRepeated() throws IOException {
        Path gray = gray("a/g.png", 0, 9, 14);
        BufferedImage img = new BufferedImage(14, 9, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 9 * 14; i++) {
            img.getRaster().setSample(i % 14, i / 14, 0, (i * 37) % 256);
        }
        assertTrue(ImageIO.write(img, "png", gray.toFile()));
        BufferedImage rgb = new BufferedImage(6, 11, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, 0x406080);
        Files.createDirectories(dir.resolve("b"));
        assertTrue(ImageIO.write(rgb, "png", dir.resolve("b/c.png").toFile()));
        ImageTransform t = ImageTransform.resize(4, 5);
        Dataset d = ImageFolder.read(dir, ImageFolder.AUTO_CHANNELS, null, t);
        assertArrayEquals(new int[] {3, 4, 5}, d.featureShape());
        float[] one = t.read(gray, 1).toTensor(1);
        float[] three = d.features(0);
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(one, Arrays.copyOfRange(three, c * 20, c * 20 + 20), "channel " + c);
        }
    }

    @Test
    void imagesOfOtherShapesAfterTheResizeAreRefusedNamingBoth() throws IOException {
        Path first = gray("cat/a.png", 10, 40, 60);
        Path other = gray("dog/b.png", 200, 60, 40);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(dir, 1, null, ImageTransform.resize(8)));
        assertEquals(other + ": the image is 12x8 (height x width) after resize=8, but " + first + " is 8x12; all "
                + "images must have one size: resize to HxW or add a center crop", e.getMessage());
    }

    @Test
    void aResizeLargerThanTheLimitIsRefusedBeforeDecoding() throws IOException {
        Path wide = gray("wide.png", 1, 1, 64);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageTransform.resize(8192).read(wide, 1));
        assertEquals(wide + ": 1x64 (height x width) resized to 8192x524288 is 4294967296 pixels, more than the limit "
                + "of " + ImageFile.MAX_PIXELS, e.getMessage());
    }

    /**
     * The resize's first pass holds every row the second reads at the output width: a tall, one-pixel-wide image made
     * wide holds far more pixels there than it has or gives, and is refused before decoding like a large image.
     */
    @Test
    void aFirstPassLargerThanTheLimitIsRefusedBeforeDecoding() throws IOException {
        Path tall = gray("tall.png", 9, 1 << 20, 1);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageTransform.resize(2, 4096).read(tall, 1));
        assertEquals(tall + ": 1048576x1 (height x width) resized to 2x4096 passes through 1048576x4096 pixels "
                + "(4294967296: the rows are resized first), more than the limit of " + ImageFile.MAX_PIXELS,
                e.getMessage());
        ImageFile small = ImageTransform.resize(2, 8).read(tall, 1);
        assertEquals(List.of(2, 8, 9), List.of(small.height(), small.width(), (int) small.pixels()[15]));
    }

    /**
     * The heap check counts the images at the size they are read as: a folder of small files resized larger than the
     * heap holds is refused after its first image, its size named as the resize's.
     */
    @Test
    void theHeapCheckCountsTheOutputSize() throws IOException {
        int side = 4096;
        long perImage = 4L * side * side;
        int n = (int) (Runtime.getRuntime().maxMemory() / perImage) + 2;
        Path first = gray("cat/0.png", 7, 2, 3);
        for (int i = 1; i < n; i++) {
            Files.copy(first, dir.resolve("cat/" + i + ".png"));
        }
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> ImageFolder.read(dir, 1, null, ImageTransform.resize(side, side)));
        assertTrue(e.getMessage().startsWith(dir + ": " + n + " images of 1x4096x4096 as floats (and "
                + (n - 1) * (long) side * side + " bytes of pixels while they are read) needs "), e.getMessage());
    }

    @Test
    void largeImagesResizedSmallKeepOnlyTheOutput() throws IOException {
        for (int i = 0; i < 4; i++) {
            gray("cat/" + i + ".png", 50 + i, 900, 700);
        }
        Dataset d = ImageFolder.read(dir, 1, null, ImageTransform.resize(4, 3));
        assertArrayEquals(new int[] {1, 4, 3}, d.featureShape());
        assertEquals(4, d.size());
        assertEquals(53, Math.round(d.features(3)[11] * 255));
    }
}
