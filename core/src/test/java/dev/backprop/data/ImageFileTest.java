package dev.backprop.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFile} against PIL: the fixtures and PIL's values come from {@code src/test/python/image_fixtures.py};
 * PNGs must give exactly PIL's {@code convert("RGB")} and {@code convert("L")} values / 255, JPEGs the same shape and
 * values within a decoder's rounding. And hostile files: refused in one line naming the file, before decoding.
 */
class ImageFileTest {
    private static final String DIR = "/dev/backprop/data/images/";

    @TempDir
    Path dir;

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(ImageFileTest.class.getResource(DIR + name).toURI());
    }

    private static JsonObject pil(String name) throws IOException {
        try (InputStream in = ImageFileTest.class.getResourceAsStream(DIR + "pil_values.json")) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject()
                    .getAsJsonObject(name);
        }
    }

    /** PIL's H x W x C values as ToTensor's C x H x W floats. */
    private static float[] chw(JsonArray hwc, int channels, int h, int w) {
        float[] out = new float[channels * h * w];
        for (int i = 0; i < h * w; i++) {
            for (int c = 0; c < channels; c++) {
                out[c * h * w + i] = hwc.get(i * channels + c).getAsInt() / 255.0f;
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gray.png", "rgb.png", "rgba.png", "gray-alpha.png", "palette.png", "gray16.png",
            "rgb16.png", "gray4.png"})
    void pngGivesExactlyPilsValues(String name) throws Exception {
        JsonObject p = pil(name);
        int h = p.get("height").getAsInt(), w = p.get("width").getAsInt();
        ImageFile img = ImageFile.read(fixture(name));
        assertEquals(h, img.height());
        assertEquals(w, img.width());
        String mode = p.get("mode").getAsString();
        assertEquals(mode.equals("L") || mode.equals("LA") || mode.startsWith("I"), img.gray(), mode);
        assertArrayEquals(chw(p.getAsJsonArray("rgb"), 3, h, w), img.toTensor(3), name + " as RGB");
        assertArrayEquals(chw(p.getAsJsonArray("gray"), 1, h, w), img.toTensor(1), name + " as L");
    }

    @ParameterizedTest
    @ValueSource(strings = {"smooth.jpg", "smooth-gray.jpg"})
    void jpegHasPilsShapeAndCloseValues(String name) throws Exception {
        JsonObject p = pil(name);
        int h = p.get("height").getAsInt(), w = p.get("width").getAsInt();
        ImageFile img = ImageFile.read(fixture(name));
        assertEquals(h + "x" + w, img.height() + "x" + img.width());
        assertEquals(name.contains("gray"), img.gray());
        float[] expected = chw(p.getAsJsonArray("rgb"), 3, h, w);
        float[] got = img.toTensor(3);
        float worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        }
        assertTrue(worst <= 3 / 255.0f, name + ": differs from PIL by " + worst * 255 + " levels");
    }

    @Test
    void anImageOfGiganticSizeIsRefusedFromItsHeaderBeforeDecoding() throws IOException {
        Path huge = Files.write(dir.resolve("huge.png"), HostilePng.png(100_000, 100_000, new byte[] {0}));
        assertTrue(Files.size(huge) < 200);
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFile.read(huge));
        assertTrue(e.getMessage().startsWith(huge + ": the header says 100000x100000 (height x width), 10000000000 "
                + "pixels, more than the limit of " + ImageFile.MAX_PIXELS), e.getMessage());
    }

    @Test
    void truncatedAndCorruptFilesAreRefusedNamingTheFile() throws Exception {
        byte[] png = Files.readAllBytes(fixture("rgb.png"));
        byte[] jpg = Files.readAllBytes(fixture("smooth.jpg"));
        Path[] bad = {
            Files.write(dir.resolve("cut.png"), Arrays.copyOf(png, png.length / 2)),
            Files.write(dir.resolve("cut.jpg"), Arrays.copyOf(jpg, jpg.length / 2)),
            Files.write(dir.resolve("noise.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}),
            Files.write(dir.resolve("empty.png"), new byte[0]),
            Files.write(dir.resolve("no-pixels.png"), HostilePng.png(3, 4, new byte[0])),
        };
        for (Path p : bad) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFile.read(p), p.toString());
            assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
        Path folder = Files.createDirectory(dir.resolve("folder.png"));
        assertThrows(DataFormatException.class, () -> ImageFile.read(folder));
        DataFormatException missing = assertThrows(DataFormatException.class,
                () -> ImageFile.read(dir.resolve("missing.png")));
        assertEquals(dir.resolve("missing.png") + ": file not found", missing.getMessage());
    }

    @Test
    void samplesOfOtherWidthsScaleToBytes() {
        assertEquals(255, ImageFile.to8Bits(1, 1));
        assertEquals(17 * 9, ImageFile.to8Bits(9, 4));
        assertEquals(0xAB, ImageFile.to8Bits(0xABCD, 16));
        assertEquals(200, ImageFile.to8Bits(200, 8));
    }

    @Test
    void channelsOtherThanOneOrThreeAreRefused() throws Exception {
        ImageFile img = ImageFile.read(fixture("gray.png"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> img.toTensor(2));
        assertEquals("channels must be 1 (gray) or 3 (RGB), got 2", e.getMessage());
    }

    @Test
    void anImageKeepsItsPixelsWhateverTheCallerDoesWithItsArrays() {
        byte[] px = {1, 2, 3, 4};
        ImageFile img = new ImageFile(Path.of("x.png"), 2, 2, true, px);
        px[0] = 9;
        img.pixels()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3, 4}, img.pixels());
        assertEquals(new ImageFile(Path.of("x.png"), 2, 2, true, new byte[] {1, 2, 3, 4}), img);
        assertEquals(new ImageFile(Path.of("x.png"), 2, 2, true, new byte[] {1, 2, 3, 4}).hashCode(), img.hashCode());
        assertEquals("x.png: 4 pixel values for an RGB image of 2x2 (it takes 12)", assertThrows(
                IllegalArgumentException.class, () -> new ImageFile(Path.of("x.png"), 2, 2, false, px)).getMessage());
    }

    /** An image without rows or columns is refused for that, not for a pixel count it matches. */
    @Test
    void anImageWithoutPixelsIsRefusedNamingItsSize() {
        assertEquals("x.png: an image of 0x5 (height x width) has no pixels", assertThrows(
                IllegalArgumentException.class, () -> new ImageFile(Path.of("x.png"), 0, 5, true, new byte[0]))
                .getMessage());
        assertEquals("x.png: an image of 2x-1 (height x width) has no pixels", assertThrows(
                IllegalArgumentException.class, () -> new ImageFile(Path.of("x.png"), 2, -1, false, new byte[6]))
                .getMessage());
    }
}
