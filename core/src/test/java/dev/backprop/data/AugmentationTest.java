package dev.backprop.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Augmentation} against torchvision's {@code RandomCrop(size, padding=P)} and {@code RandomHorizontalFlip}
 * for given offsets and flips (fixtures from {@code src/test/python/augment_fixtures.py}, matched exactly), the
 * spread of its draws, their determinism, and the forms it reads and refuses.
 */
class AugmentationTest {
    @Test
    void cropAndFlipAreTorchvisionsForGivenDraws() throws IOException {
        JsonObject all;
        try (InputStream in = getClass().getResourceAsStream("/dev/backprop/data/augment_values.json")) {
            all = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
        int checked = 0;
        for (JsonElement e : all.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            int[] shape = ints(c.getAsJsonArray("shape"));
            float[] in = floats(c.getAsJsonArray("input"));
            float[] want = floats(c.getAsJsonArray("expected"));
            Augmentation a = Augmentation.none().randomCrop(c.get("padding").getAsInt()).horizontalFlip(0.5);
            Augmentation.Draw d = new Augmentation.Draw(c.get("top").getAsInt(), c.get("left").getAsInt(),
                    c.get("flip").getAsBoolean());
            float[] got = new float[in.length + 3];  // at an offset, with a neighbour on each side left alone
            got[0] = 7f;
            got[got.length - 1] = 9f;
            System.arraycopy(in, 0, got, 2, in.length);
            a.apply(got, 2, shape, d, new float[in.length]);
            assertArrayEquals(want, java.util.Arrays.copyOfRange(got, 2, 2 + in.length), c.toString().substring(0, 60));
            assertEquals(7f, got[0]);
            assertEquals(9f, got[got.length - 1]);
            checked++;
        }
        assertEquals(6, checked);
    }

    @Test
    void aTwoDimensionalImageIsOneChannel() {
        float[] img = {1, 2, 3, 4, 5, 6};  // [2, 3]
        Augmentation.none().randomCrop(1).apply(img, 0, new int[] {2, 3}, new Augmentation.Draw(2, 0, true),
                new float[6]);
        // Padded by one, rows 2..3 and columns 0..2 of the padded image: image row 1 then the zero row, shifted right
        // by one; then mirrored.
        assertArrayEquals(new float[] {5, 4, 0, 0, 0, 0}, img);
    }

    @Test
    void offsetsCoverZeroToTwiceThePaddingAndFlipsComeAtTheirRate() {
        Augmentation a = Augmentation.none().randomCrop(3).horizontalFlip(0.3);
        int[] tops = new int[7], lefts = new int[7];
        int flips = 0, n = 20_000;
        for (int i = 0; i < n; i++) {
            Augmentation.Draw d = a.draw(42, i / 1000, i % 1000);
            tops[d.top()]++;
            lefts[d.left()]++;
            flips += d.flip() ? 1 : 0;
        }
        for (int k = 0; k <= 6; k++) {  // 2857 expected each; 5 sigma is about 250
            assertTrue(Math.abs(tops[k] - n / 7.0) < 400, "top " + k + " drawn " + tops[k] + " times of " + n);
            assertTrue(Math.abs(lefts[k] - n / 7.0) < 400, "left " + k + " drawn " + lefts[k] + " times of " + n);
        }
        assertTrue(Math.abs(flips - 0.3 * n) < 400, flips + " flips of " + n + " at p = 0.3");
        int same = 0;
        for (int i = 0; i < n; i++) {
            Augmentation.Draw d = a.draw(42, 0, i);
            same += d.top() == d.left() ? 1 : 0;
        }
        assertTrue(Math.abs(same - n / 7.0) < 400, "top and left are drawn independently: equal " + same + " times");
    }

    @Test
    void drawsArePureFunctionsOfSeedEpochAndPosition() {
        Augmentation a = Augmentation.parse("crop:4,hflip");
        assertEquals(a.draw(5, 2, 17), a.draw(5, 2, 17));
        assertEquals(a.draw(5, 2, 17), Augmentation.parse("hflip:0.5,crop:4").draw(5, 2, 17));
        int[] differ = new int[3];
        for (int i = 0; i < 200; i++) {
            Augmentation.Draw d = a.draw(5, 2, i);
            differ[0] += d.equals(a.draw(6, 2, i)) ? 0 : 1;
            differ[1] += d.equals(a.draw(5, 3, i)) ? 0 : 1;
            differ[2] += d.equals(a.draw(5, 2, i + 1)) ? 0 : 1;
        }
        for (int k = 0; k < 3; k++) {  // 1 - (1/81 * 1/2) the same by chance: about 198 of 200 differ
            assertTrue(differ[k] > 180, "draws that differ with the " + new String[] {"seed", "epoch", "position"}[k]
                    + ": " + differ[k] + " of 200");
        }
        assertEquals(new Augmentation.Draw(0, 0, false), Augmentation.NONE.draw(5, 2, 17));
        assertEquals(new Augmentation.Draw(0, 0, true), Augmentation.none().horizontalFlip(1).draw(5, 2, 17));
    }

    @Test
    void parsesTheCliFormAndWritesItBack() {
        assertEquals(Augmentation.NONE, Augmentation.parse("none"));
        Augmentation both = Augmentation.parse("hflip,crop:2");
        assertEquals(2, both.padding());
        assertEquals(0.5, both.flipProbability());
        assertEquals("crop:2,hflip:0.5", both.toString());
        assertEquals(both, Augmentation.parse(both.toString()));
        assertEquals("hflip:0.3", Augmentation.parse("hflip:0.3").toString());
        assertEquals("crop:4", Augmentation.parse(" crop:4 ").toString());
        assertEquals("none", Augmentation.none().toString());
        assertEquals(Augmentation.parse("hflip:1"), Augmentation.none().horizontalFlip(1.0));
        assertNotEquals(Augmentation.parse("hflip:1"), Augmentation.parse("hflip"));
    }

    /** The one reader of {@link Augmentation#METADATA_KEY}: what a checkpoint records, read back or refused. */
    @Test
    void theRecordedAugmentationIsReadOrRefusedNamingTheKey() {
        Augmentation both = Augmentation.parse("crop:2,hflip:0.25");
        assertEquals(both, Augmentation.recorded(java.util.Map.of(Augmentation.METADATA_KEY, both.toString())));
        assertEquals(Augmentation.NONE, Augmentation.recorded(java.util.Map.of()), "no key, no augmentation");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Augmentation.recorded(
                java.util.Map.of(Augmentation.METADATA_KEY, "crop:2\nhflip:7")));
        assertEquals("metadata backprop.augmentation: not an augmentation: 'crop:2\\u000Ahflip:7': "
                + "crop:2\\u000Ahflip:7 needs a padding from 1 to 1024, got '2\\u000Ahflip:7'", e.getMessage(),
                "one line, key named");
    }

    /**
     * The metadata is untrusted and written only by {@link Augmentation#toString()} of an augmentation that is not
     * none, so a value in any other form (defaults left out, spaces, {@code 0.5d}, a zero probability that reads as
     * none, {@code none} itself) is refused rather than read leniently.
     */
    @Test
    void aRecordedAugmentationInAnyFormButTheWrittenOneIsRefused() {
        for (String[] c : new String[][] {{"hflip", "hflip:0.5"}, {" crop:2", "crop:2"}, {"hflip:0.5d", "hflip:0.5"},
                {"hflip:0,crop:3", "crop:3"}, {"hflip:0.25,crop:2", "crop:2,hflip:0.25"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Augmentation.recorded(java.util.Map.of(Augmentation.METADATA_KEY, c[0])), c[0]);
            assertEquals("metadata backprop.augmentation: '" + c[0] + "' is not in the form a file records ('" + c[1]
                    + "')", e.getMessage());
        }
        for (String none : new String[] {"none", "hflip:0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Augmentation.recorded(java.util.Map.of(Augmentation.METADATA_KEY, none)), none);
            assertEquals("metadata backprop.augmentation: '" + none + "' is not in the form a file records (no "
                    + "augmentation is recorded by leaving the key out)", e.getMessage());
        }
    }

    /**
     * {@code hflip:-0} is a probability of zero, which {@code p >= 0} lets through as -0.0: it must be
     * {@link Augmentation#NONE} itself, or a trainer given it refuses its own plain loader ("augments with none,
     * this trainer with none") and a resume refuses a checkpoint trained without augmentation.
     */
    @Test
    void aNegativeZeroProbabilityIsNoFlip() {
        for (Augmentation a : new Augmentation[] {Augmentation.parse("hflip:-0"), Augmentation.parse("hflip:-0.0"),
                Augmentation.none().horizontalFlip(-0.0)}) {
            assertEquals(Augmentation.NONE, a);
            assertEquals(Augmentation.NONE.hashCode(), a.hashCode());
            assertEquals("none", a.toString());
        }
        assertEquals(Augmentation.parse("crop:3"), Augmentation.parse("crop:3,hflip:-0"));
    }

    @Test
    void refusesBadItemsNamingThem() {
        assertRefused("crop:-1", "crop:-1 needs a padding from 1 to 1024, got '-1'");
        assertRefused("crop:0", "got '0'");
        assertRefused("crop:5000", "crop:5000 needs a padding from 1 to 1024, got '5000'");
        assertRefused("crop:99999999999", "got '99999999999'");
        assertRefused("crop", "crop needs its padding, as crop:4");
        assertRefused("hflip:1.5", "hflip:1.5 needs a probability from 0 to 1, got '1.5'");
        assertRefused("hflip:-0.1", "got '-0.1'");
        assertRefused("hflip:NaN", "got 'NaN'");
        assertRefused("hflip:x", "got 'x'");
        assertRefused("rotate:10", "unknown item 'rotate:10'");
        assertRefused("hflip,hflip:0.2", "repeated item 'hflip:0.2'");
        assertRefused("crop:2,crop:3", "repeated item 'crop:3'");
        assertRefused("", "unknown item ''");
        assertRefused("hflip,", "unknown item ''");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Augmentation.none().randomCrop(-3));
        assertEquals("random crop padding must be 1 to 1024, got -3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Augmentation.none().horizontalFlip(2));
        assertEquals("horizontal flip probability must be in [0, 1], got 2.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Augmentation.checkImageShape(new int[] {784}));
        assertEquals("augmentation takes images [C, H, W] or [H, W], not examples of shape [784]", e.getMessage());
    }

    private static void assertRefused(String text, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(text));
        assertTrue(e.getMessage().startsWith("not an augmentation: '" + text + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private static int[] ints(JsonArray a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).getAsInt();
        }
        return v;
    }

    private static float[] floats(JsonArray a) {
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).getAsFloat();
        }
        return v;
    }
}
