package dev.backprop.cli;

import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.HostilePng;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --images}, {@code eval --test-images} and {@code predict --image} on Fashion-MNIST's first 300
 * training images written as PNGs into class folders {@code c0..c9}: training on them must give exactly the weights
 * and losses of training on the same images in the same order through a CSV (a CSV with two rows swapped must not),
 * and images that do not fit the model are refused naming both shapes.
 */
class ImageFolderCommandsTest {
    private static final int IMAGES = 300;

    @TempDir
    Path dir;

    private Path folder;
    /** The images in the folder's order (class, then file name): pixel bytes and class. */
    private final List<byte[]> pixels = new ArrayList<>();
    private final List<Integer> labels = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    @BeforeEach
    void writeFolder() throws IOException {
        CliRun.assumeFashionMnist();
        Dataset train = FashionMnist.split(FashionMnist.defaultDir(), "train").head(IMAGES);
        folder = dir.resolve("images");
        for (int k = 0; k < 10; k++) {
            for (int i = 0; i < IMAGES; i++) {
                if (train.label(i) != k) {
                    continue;
                }
                float[] f = train.features(i);
                byte[] b = new byte[f.length];
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                for (int p = 0; p < f.length; p++) {
                    b[p] = (byte) Math.round(f[p] * 255);
                    img.getRaster().setSample(p % 28, p / 28, 0, b[p] & 0xFF);
                }
                Path file = folder.resolve("c" + k).resolve(String.format("%05d.png", i));
                Files.createDirectories(file.getParent());
                assertTrue(ImageIO.write(img, "png", file.toFile()));
                pixels.add(b);
                labels.add(k);
                files.add(file);
            }
        }
    }

    /** The images as a CSV in the folder's order, class names as labels; {@code swap} exchanges two rows. */
    private Path csv(String name, int[] swap) throws IOException {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < pixels.size(); i++) {
            order.add(i);
        }
        if (swap != null) {
            Collections.swap(order, swap[0], swap[1]);
        }
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < 784; p++) {
            sb.append("p").append(p).append(',');
        }
        sb.append("class\n");
        for (int i : order) {
            for (byte b : pixels.get(i)) {
                sb.append((b & 0xFF) / 255.0f).append(',');
            }
            sb.append('c').append(labels.get(i)).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb);
    }

    private static CliRun train(String data, Path source, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--arch", "cnn", "--optimizer", "adam",
                "--lr", "0.001", "--epochs", "1", "--batch-size", "32", "--no-progress", data, source.toString(),
                "--out", out.toString()));
        Collections.addAll(a, more);
        return CliRun.of(a.toArray(String[]::new));
    }

    /** The epoch line's train loss, test loss and accuracy. */
    private static String losses(CliRun run) {
        for (String line : run.out().split("\n")) {
            if (line.trim().startsWith("1 ")) {
                String[] f = line.trim().split(" +");
                return f[3] + " " + f[4] + " " + f[5];
            }
        }
        throw new AssertionError("no epoch line in\n" + run.out());
    }

    /** Every tensor of {@code model}, as text of its exact float values. */
    private static Map<String, String> weights(Path model) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (ReferenceBackend be = new ReferenceBackend(); SafeTensorsFile f = SafeTensorsFile.open(model)) {
            for (String name : f.shapes().keySet()) {
                try (Tensor t = f.read(name, be, DType.FLOAT32)) {
                    m.put(name, Arrays.toString(t.toFloatArray()));
                }
            }
        }
        return m;
    }

    @Test
    void imagesTrainAsTheSameRowsOfACsvDoAndEvaluateAndPredict() throws IOException {
        Path fromImages = dir.resolve("images.safetensors");
        Path fromCsv = dir.resolve("csv.safetensors");
        Path swapped = dir.resolve("swapped.safetensors");
        CliRun a = train("--images", folder, fromImages).ok();
        CliRun b = train("--csv", csv("same.csv", null), fromCsv).ok();
        int other = labels.indexOf(labels.get(0) + 1);
        CliRun c = train("--csv", csv("swapped.csv", new int[] {0, other}), swapped).ok();
        assertTrue(a.out().contains("data:    images " + folder + " (240 train / 60 held-out test images, seed 0): "
                + "240 train, 60 test, 784 features, 10 classes"), a.out());
        assertEquals(losses(b), losses(a));
        assertEquals(weights(fromCsv), weights(fromImages));
        assertFalse(weights(fromCsv).equals(weights(swapped)), "two rows swapped train other weights");
        try (SafeTensorsFile f = SafeTensorsFile.open(fromImages)) {
            assertEquals("1,28,28", f.metadata().get(ModelSession.IMAGE_SHAPE_KEY));
            assertTrue(f.metadata().get("backprop.class_names").startsWith("[\"c0\",\"c1\""), f.metadata().toString());
        }

        CliRun heldOut = CliRun.of("eval", "--backend", "cpu", "--model", fromImages.toString(), "--images",
                folder.toString()).ok();
        CliRun csvHeldOut = CliRun.of("eval", "--backend", "cpu", "--model", fromCsv.toString(), "--csv",
                dir.resolve("same.csv").toString()).ok();
        assertEquals(csvHeldOut.field("eval:", "test_loss"), heldOut.field("eval:", "test_loss"));
        CliRun all = CliRun.of("eval", "--backend", "cpu", "--model", fromImages.toString(), "--test-images",
                folder.toString()).ok();
        assertEquals(IMAGES, (int) all.field("eval:", "examples"));

        Path first = files.get(0);
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", fromImages.toString(), "--image",
                first.toString(), "--image", files.get(1).toString()).ok();
        assertTrue(predict.out().contains("image " + first + "\n  probabilities:  c0 "), predict.out());
        assertTrue(predict.out().contains("image " + files.get(1) + "\n  probabilities:  c0 "), predict.out());
        String row = String.join(",", csvRow(0));
        CliRun byRow = CliRun.of("predict", "--backend", "cpu", "--model", fromCsv.toString(), "--json", "--row",
                row).ok();
        CliRun byImage = CliRun.of("predict", "--backend", "cpu", "--model", fromImages.toString(), "--json",
                "--image", first.toString()).ok();
        assertTrue(byImage.out().contains("\"file\":\"" + first + "\""), byImage.out());
        assertEquals(probabilities(byRow.out()), probabilities(byImage.out()));
    }

    private List<String> csvRow(int i) {
        List<String> out = new ArrayList<>();
        for (byte b : pixels.get(i)) {
            out.add(Float.toString((b & 0xFF) / 255.0f));
        }
        return out;
    }

    private static String probabilities(String json) {
        int at = json.indexOf("\"probabilities\"");
        assertTrue(at >= 0, json);
        return json.substring(at, json.indexOf(']', at) + 1);
    }

    /** The README's {@code train --images DIR --test-images DIR}: every test image scored, none held out. */
    @Test
    void trainScoresEveryImageOfTheTestFolder() {
        Path model = dir.resolve("pets.safetensors");
        CliRun run = train("--images", folder, model, "--test-images", folder.toString()).ok();
        assertTrue(run.out().contains("data:    images " + folder + ", test images " + folder + ": " + IMAGES
                + " train, " + IMAGES + " test, 784 features, 10 classes"), run.out());
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images",
                folder.toString()).ok();
        assertEquals(IMAGES, (int) eval.field("eval:", "examples"));
    }

    @Test
    void anMlpTakesTheImagesFlat() {
        Path model = dir.resolve("mlp.safetensors");
        CliRun run = CliRun.of("train", "--backend", "cpu", "--images", folder.toString(), "--layers", "784-16-10",
                "--epochs", "1", "--no-progress", "--out", model.toString()).ok();
        assertTrue(run.out().contains("model:   784-16-10 relu"), run.out());
        CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images", folder.toString()).ok();
        CliRun rgb = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--channels", "3",
                "--image", files.get(0).toString());
        assertEquals(1, rgb.code());
        assertTrue(rgb.err().contains(files.get(0) + " is 3x28x28 (CxHxW), but " + model + " takes images of 1x28x28; "
                + "--channels 1 reads them with its channels"), rgb.err());
    }

    @Test
    void imagesThatDoNotFitTheModelAreRefusedNamingBothShapes() throws IOException {
        Path model = dir.resolve("cnn.safetensors");
        train("--images", folder, model, "--train-limit", "64").ok();
        Path small = dir.resolve("small");
        for (String k : new String[] {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}) {
            Files.createDirectories(small.resolve(k));
            ImageIO.write(new BufferedImage(14, 14, BufferedImage.TYPE_BYTE_GRAY), "png",
                    small.resolve(k).resolve("a.png").toFile());
        }
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images",
                small.toString());
        assertEquals(1, eval.code(), eval.out() + eval.err());
        assertTrue(eval.err().contains("the test images are 1x14x14 (CxHxW), but " + model
                + " takes images of 1x28x28; --resize and --center-crop bring images to one size"), eval.err());

        Files.move(small.resolve("c9"), small.resolve("shoes"));
        CliRun classes = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-images",
                small.toString());
        assertTrue(classes.err().contains(small + ": no class folder for [c9], and class folder(s) [shoes] not among "
                + "the classes expected"), classes.err());

        Path tiny = dir.resolve("tiny");
        for (String k : new String[] {"a", "b"}) {
            Files.createDirectories(tiny.resolve(k));
            ImageIO.write(new BufferedImage(3, 5, BufferedImage.TYPE_BYTE_GRAY), "png",
                    tiny.resolve(k).resolve("0.png").toFile());
        }
        CliRun tooSmall = train("--images", tiny, dir.resolve("tiny.safetensors"));
        assertTrue(tooSmall.err().contains("the CNN needs at least 1 channel, images of at least 4x4 and 1 output, "
                + "got 1x5x3 images"), tooSmall.err());

        CliRun mixed = CliRun.of("train", "--backend", "cpu", "--images", folder.toString(), "--csv", "x.csv");
        assertTrue(mixed.err().contains("--images and --csv exclude each other"), mixed.err());
        CliRun channels = CliRun.of("train", "--backend", "cpu", "--images", folder.toString(), "--channels", "2");
        assertTrue(channels.err().contains("--channels must be 1 (gray) or 3 (RGB), got 2"), channels.err());
        CliRun testOnly = CliRun.of("train", "--backend", "cpu", "--test-images", folder.toString());
        assertTrue(testOnly.err().contains("--test-images needs --images, the training images"), testOnly.err());
        CliRun regression = CliRun.of("train", "--backend", "cpu", "--images", folder.toString(), "--task",
                "regression", "--out", dir.resolve("r.safetensors").toString());
        assertTrue(regression.err().contains("--task regression needs its targets in a --csv"), regression.err());
    }

    @Test
    void aHostileImageStopsTrainingInOneLineNamingIt() throws IOException {
        Path huge = folder.resolve("c3").resolve("99999.png");
        Files.write(huge, HostilePng.png(100_000, 100_000, new byte[] {0}));
        CliRun run = train("--images", folder, dir.resolve("m.safetensors"));
        assertEquals(1, run.code(), run.out() + run.err());
        assertEquals(1, run.err().strip().split("\n").length, run.err());
        assertTrue(run.err().contains(huge + ": the header says 100000x100000 (height x width)"), run.err());
    }

    @Test
    void predictRefusesWhatIsNotAnImageFileAndEscapesTheNamesItPrints() throws Exception {
        Path model = dir.resolve("mlp.safetensors");
        CliRun.of("train", "--backend", "cpu", "--images", folder.toString(), "--layers", "784-16-10", "--epochs", "1",
                "--no-progress", "--out", model.toString()).ok();
        Path fifo = dir.resolve("fifo.png");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        for (Path p : new Path[] {fifo, folder, dir.resolve("missing.png")}) {
            CliRun run = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--image", p.toString());
            assertEquals(1, run.code(), run.out() + run.err());
            assertEquals(1, run.err().strip().split("\n").length, run.err());
            assertTrue(run.err().contains(p + ": "), run.err());
        }
        CliRun channels = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--channels", "2",
                "--image", files.get(0).toString());
        assertTrue(channels.err().contains("--channels must be 1 (gray) or 3 (RGB), got 2"), channels.err());

        Path named = Files.copy(files.get(0), dir.resolve("\u001b[2J\n.png"));
        CliRun run = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--image",
                named.toString()).ok();
        assertTrue(run.out().contains("image " + dir + "/\\u001B[2J\\u000A.png\n  probabilities:  c0 "), run.out());
        assertFalse(run.out().contains("\u001b"), run.out());
    }
}
