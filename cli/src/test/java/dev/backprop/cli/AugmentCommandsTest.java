package dev.backprop.cli;

import dev.backprop.io.SafeTensorsFile;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --augment}: recorded in the model and checkpoint, kept by {@code --resume} (whose model file is then
 * the uninterrupted run's, byte for byte), refused when it differs from the checkpoint's, for data that are not
 * images and with {@code --spark}, and bad values refused before anything is read or written.
 */
class AugmentCommandsTest {
    @TempDir
    Path dir;

    /** A folder of classes a and b, eight 10x10 RGB images each, brighter on the left for class b. */
    private Path folder() throws IOException {
        Random r = new Random(5);
        Path root = dir.resolve("images");
        for (int i = 0; i < 16; i++) {
            Path file = root.resolve(i % 2 == 0 ? "a" : "b").resolve(i + ".png");
            Files.createDirectories(file.getParent());
            BufferedImage img = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 10; y++) {
                for (int x = 0; x < 10; x++) {
                    int v = r.nextInt(128) + (i % 2 == 1 && x < 5 ? 127 : 0);
                    img.setRGB(x, y, v << 16 | r.nextInt(256) << 8 | v);
                }
            }
            assertTrue(ImageIO.write(img, "png", file.toFile()));
        }
        return root;
    }

    private static CliRun train(Path images, Path out, int epochs, String... more) {
        String[] args = {"train", "--backend", "cpu", "--epochs", Integer.toString(epochs), "--batch-size", "4",
                "--no-progress", "--images", images.toString(), "--out", out.toString()};
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return CliRun.of(all);
    }

    @Test
    void aResumedAugmentedRunSavesTheUninterruptedRunsModel() throws IOException {
        Path images = folder();
        Path straight = dir.resolve("straight.safetensors"), resumed = dir.resolve("resumed.safetensors");
        Path plain = dir.resolve("plain.safetensors"), ck = dir.resolve("ck.safetensors");
        CliRun run = train(images, straight, 3, "--arch", "cnn", "--augment", "hflip,crop:2").ok();
        assertTrue(run.out().contains(", augment crop:2,hflip:0.5), epochs 1..3"), run.out());
        train(images, dir.resolve("first.safetensors"), 1, "--arch", "cnn", "--augment", "hflip,crop:2",
                "--checkpoint", ck.toString()).ok();
        try (SafeTensorsFile f = SafeTensorsFile.open(ck)) {
            assertEquals("crop:2,hflip:0.5", f.metadata().get(AugmentOptions.KEY));
        }
        train(images, resumed, 3, "--resume", ck.toString()).ok();  // --augment left out: the checkpoint's
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed));
        train(images, plain, 3, "--arch", "cnn").ok();
        try (SafeTensorsFile f = SafeTensorsFile.open(plain)) {
            assertFalse(f.metadata().containsKey(AugmentOptions.KEY), "no augmentation, no key");
        }
        assertFalse(Arrays.equals(Files.readAllBytes(straight), Files.readAllBytes(plain)), "augmented differs");

        CliRun other = train(images, dir.resolve("no.safetensors"), 3, "--resume", ck.toString(), "--augment",
                "hflip:0.3");
        assertEquals(1, other.code(), other.out() + other.err());
        assertTrue(other.err().contains("--augment hflip:0.3: " + ck + " was trained with --augment "
                + "crop:2,hflip:0.5; leave --augment out to resume with it"), other.err());
        CliRun none = train(images, dir.resolve("no.safetensors"), 3, "--resume", ck.toString(), "--augment",
                "none");
        assertEquals(1, none.code(), none.out() + none.err());
        assertTrue(none.err().contains("--augment none: " + ck + " was trained with --augment crop:2,hflip:0.5"),
                none.err());
        assertFalse(Files.exists(dir.resolve("no.safetensors")));

        // eval and predict take the model as any other (they never augment).
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", straight.toString(), "--test-images",
                images.toString()).ok();
        assertEquals(16, (int) eval.field("eval:", "examples"));
    }

    @Test
    void refusesWhatIsNotAnImageOrNotAnAugmentationBeforeReadingAnything() throws IOException {
        Path out = dir.resolve("m.safetensors");
        Path csv = ThreeClassCsv.write(dir);
        refused("--augment hflip applies to images, not to the rows of --csv " + csv, "--csv", csv.toString(),
                "--augment", "hflip");
        refused("--augment crop:2 applies to images, which the MLP takes as flat features; give --arch cnn",
                "--data", dir.resolve("nowhere").toString(), "--augment", "crop:2");
        refused("--augment hflip:0.2 applies to images, which the MLP takes as flat features", "--images",
                dir.resolve("nowhere").toString(), "--augment", "hflip:0.2");
        refused("--augment: not an augmentation: 'crop:-1': crop:-1 needs a padding from 1 to 1024, got '-1'",
                "--augment", "crop:-1", "--arch", "cnn");
        refused("'crop:100000': crop:100000 needs a padding from 1 to 1024", "--augment", "crop:100000");
        refused("'hflip:1.5': hflip:1.5 needs a probability from 0 to 1, got '1.5'", "--augment", "hflip:1.5");
        refused("'rotate': unknown item 'rotate'", "--augment", "rotate");
        refused("'hflip,crop:2,hflip': repeated item 'hflip'", "--augment", "hflip,crop:2,hflip");
        CliRun spark = CliRun.of("train", "--spark", "local[2]", "--augment", "hflip", "--out", out.toString());
        assertNotEquals(0, spark.code());
        assertTrue(spark.err().contains("--spark runs do not take --augment"), spark.err());
        assertFalse(Files.exists(out));
    }

    private void refused(String message, String... args) {
        Path out = dir.resolve("m.safetensors");
        String[] all = new String[args.length + 6];
        System.arraycopy(new String[] {"train", "--backend", "cpu", "--no-progress", "--out", out.toString()}, 0,
                all, 0, 6);
        System.arraycopy(args, 0, all, 6, args.length);
        CliRun r = CliRun.of(all);
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(Files.exists(out));
    }
}
