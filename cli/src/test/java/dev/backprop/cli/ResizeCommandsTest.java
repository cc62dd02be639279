package dev.backprop.cli;

import dev.backprop.data.ImageFile;
import dev.backprop.data.ImageTransform;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.model.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --resize} and {@code --center-crop}: training on a folder of RGB images of many sizes, the transform kept in
 * the model file, and {@code eval} and {@code predict} applying it to images of yet other sizes; a model without one
 * still refuses an image of another size.
 */
class ResizeCommandsTest {
    @TempDir
    Path dir;

    /** A random RGB PNG of {@code h × w}, brighter for class 1. */
    private static Path png(Path file, int h, int w, int k, Random r) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (r.nextInt(128) + 127 * k) << 16 | r.nextInt(256) << 8 | (y * 255 / h));
            }
        }
        assertTrue(ImageIO.write(img, "png", file.toFile()));
        return file;
    }

    /** A folder of classes a and b, {@code n} images each, of sizes from {@code min} to {@code min + 19}. */
    private Path folder(String name, int n, int min, long seed) throws IOException {
        Random r = new Random(seed);
        Path root = dir.resolve(name);
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < n; i++) {
                png(root.resolve(k == 0 ? "a" : "b").resolve(i + ".png"), min + r.nextInt(20), min + r.nextInt(20),
                        k, r);
            }
        }
        return root;
    }

    /** A folder of classes a and b, four 10x10 images each. */
    private Path evenFolder(Random r) throws IOException {
        Path images = dir.resolve("even");
        for (int i = 0; i < 8; i++) {
            png(images.resolve(i % 2 == 0 ? "a" : "b").resolve(i + ".png"), 10, 10, i % 2, r);
        }
        return images;
    }

    private static CliRun train(Path images, Path out, String... more) {
        String[] args = {"train", "--backend", "cpu", "--arch", "cnn", "--epochs", "1", "--batch-size", "8",
                "--no-progress", "--images", images.toString(), "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return CliRun.of(all);
    }

    private static String probabilities(String json) {
        int at = json.indexOf("\"probabilities\"");
        assertTrue(at >= 0, json);
        return json.substring(at, json.indexOf(']', at) + 1);
    }

    @Test
    void theTrainingTransformIsSavedAndAppliedByEvalAndPredict() throws IOException {
        Path images = folder("train", 12, 20, 1);
        Path model = dir.resolve("m.safetensors");
        CliRun refused = train(images, dir.resolve("no.safetensors"));
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains("all images must have one size (nothing is resized"), refused.err());

        train(images, model, "--resize", "12", "--center-crop", "12").ok();
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertEquals("resize=12,center_crop=12x12", f.metadata().get(SavedModel.IMAGE_TRANSFORM_KEY));
            assertEquals("3,12,12", f.metadata().get(ModelSession.IMAGE_SHAPE_KEY));
        }
        Path test = folder("test", 3, 40, 2);
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images",
                test.toString()).ok();
        assertEquals(6, (int) eval.field("eval:", "examples"));
        CliRun same = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images",
                test.toString(), "--resize", "12", "--center-crop", "12x12").ok();
        assertEquals(eval.field("eval:", "test_loss"), same.field("eval:", "test_loss"));

        // The original, and the model's transform applied to it here and saved at its 12x12, which the transform
        // leaves as it is: one prediction.
        Path original = png(dir.resolve("one/original.png"), 57, 33, 1, new Random(3));
        ImageFile done = ImageTransform.resize(12).centerCrop(12, 12).read(original, 3);
        BufferedImage small = new BufferedImage(12, 12, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 144; i++) {
            byte[] p = done.pixels();
            small.setRGB(i % 12, i / 12, (p[3 * i] & 0xFF) << 16 | (p[3 * i + 1] & 0xFF) << 8 | (p[3 * i + 2] & 0xFF));
        }
        Path resized = dir.resolve("one/resized.png");
        assertTrue(ImageIO.write(small, "png", resized.toFile()));
        CliRun byOriginal = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--json",
                "--image", original.toString()).ok();
        CliRun byResized = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--json",
                "--image", resized.toString()).ok();
        assertEquals(probabilities(byResized.out()), probabilities(byOriginal.out()));

        CliRun other = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--resize", "12x12",
                "--image", original.toString());
        assertEquals(1, other.code(), other.out() + other.err());
        assertTrue(other.err().contains("--resize and --center-crop ask for resize=12x12, but " + model + " was "
                + "trained on images read with resize=12,center_crop=12x12; leave them out"), other.err());
    }

    /**
     * A resumed run reads its images as the checkpoint's were: left out, {@code --resize} and {@code --center-crop}
     * are the checkpoint's (the network was built for that size); asking for another is refused, as for every
     * setting a checkpoint fixes.
     */
    @Test
    void aResumedRunReadsItsImagesAsTheCheckpointsWere() throws IOException {
        Path images = evenFolder(new Random(7));
        Path ck = dir.resolve("ck.safetensors");
        train(images, dir.resolve("first.safetensors"), "--resize", "6", "--checkpoint", ck.toString()).ok();
        Path model = dir.resolve("m.safetensors");
        CliRun.of("train", "--backend", "cpu", "--epochs", "2", "--no-progress", "--images", images.toString(),
                "--resume", ck.toString(), "--out", model.toString()).ok();
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertEquals("resize=6", f.metadata().get(SavedModel.IMAGE_TRANSFORM_KEY));
            assertEquals("3,6,6", f.metadata().get(ModelSession.IMAGE_SHAPE_KEY));
        }
        CliRun other = CliRun.of("train", "--backend", "cpu", "--epochs", "2", "--no-progress", "--images",
                images.toString(), "--resume", ck.toString(), "--resize", "8", "--out",
                dir.resolve("no.safetensors").toString());
        assertEquals(1, other.code(), other.out() + other.err());
        assertTrue(other.err().contains("--resize and --center-crop ask for resize=8, but " + ck + " was trained on "
                + "images read with resize=6; leave them out to resume with it, or start a new run without --resume"),
                other.err());
    }

    @Test
    void aModelWithoutATransformStillRefusesAnImageOfAnotherSize() throws IOException {
        Random r = new Random(5);
        Path images = evenFolder(r);
        Path model = dir.resolve("plain.safetensors");
        train(images, model).ok();
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertEquals(null, f.metadata().get(SavedModel.IMAGE_TRANSFORM_KEY));
        }
        Path big = png(dir.resolve("big.png"), 20, 30, 0, r);
        CliRun refused = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--image",
                big.toString());
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains(big + " is 3x20x30 (CxHxW), but " + model + " takes images of 3x10x10; "
                + "--resize and --center-crop bring images to one size"), refused.err());
        CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--resize", "10x10", "--image",
                big.toString()).ok();
    }

    @Test
    void badSizesAndMisplacedOptionsAreRefused() throws IOException {
        Path images = folder("few", 2, 8, 4);
        CliRun zero = train(images, dir.resolve("z.safetensors"), "--resize", "0");
        assertTrue(zero.err().contains("--resize: resize size must be 1 to 8192, got 0"), zero.err());
        CliRun crop = train(images, dir.resolve("c.safetensors"), "--resize", "8", "--center-crop", "4x");
        assertTrue(crop.err().contains("--center-crop: center crop size must be N or HxW (for example 224 or 224x224), "
                + "got '4x'"), crop.err());
        CliRun csv = CliRun.of("train", "--backend", "cpu", "--csv", "x.csv", "--resize", "8");
        assertTrue(csv.err().contains("--resize applies to images; give --images or --test-images"), csv.err());
        CliRun rows = CliRun.of("predict", "--backend", "cpu", "--model", "m.safetensors", "--row", "1,2",
                "--center-crop", "3");
        assertTrue(rows.err().contains("--row and --center-crop exclude each other"), rows.err());
    }
}
