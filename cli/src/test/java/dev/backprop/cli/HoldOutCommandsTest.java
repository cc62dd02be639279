package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} records the seed of the split it holds out of a single {@code --csv} or {@code --images}
 * ({@value ModelSession#HOLD_OUT_KEY}), and {@code eval} and {@code predict} split the same data by it without
 * {@code --seed}: they score exactly the examples {@code train} held out, never one it trained on. The expected rows
 * are computed here with {@link HoldOut#split}, the split {@code train} makes, as a PyTorch user would keep the
 * indices of {@code random_split} with its generator's seed.
 */
class HoldOutCommandsTest {
    @TempDir
    Path dir;

    private static void assertRefused(CliRun r, String message) {
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals(("backprop: " + message).strip(), r.err().strip());  // an empty value ends in a space
    }

    private static String metadata(Path file, String key) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            return f.metadata().get(key);
        }
    }

    /** The {@code label} of each line {@code predict --json} printed, in order. */
    private static List<Integer> labels(CliRun predict) {
        List<Integer> labels = new ArrayList<>();
        Matcher m = Pattern.compile("\"label\":(\\d+)").matcher(predict.out());
        while (m.find()) {
            labels.add(Integer.parseInt(m.group(1)));
        }
        return labels;
    }

    /** The labels of the rows {@link HoldOut#split} holds out of {@code csv} with {@code seed}, in the file's order. */
    private static List<Integer> heldOutLabels(Path csv, long seed) {
        Dataset test = HoldOut.split(CsvData.readClassification(csv, 3), DataOptions.HOLD_OUT, seed)[1];
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            labels.add(test.label(i));
        }
        return labels;
    }

    private Path trainCsv(Path csv, long seed, String... more) {
        Path model = dir.resolve("seed" + seed + ".safetensors");
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 2, model);
        opts.put("--seed", Long.toString(seed));
        CliRun.train(opts, more).ok();
        return model;
    }

    @Test
    void evalAndPredictWithoutSeedScoreTheRowsTrainHeldOut() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = dir.resolve("seed7.safetensors");
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 2, model);
        opts.put("--seed", "7");
        CliRun train = CliRun.train(opts).ok();
        assertEquals("7", metadata(model, ModelSession.HOLD_OUT_KEY));

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString())
                .ok();
        assertEquals("", eval.err(), "a recorded split needs no warning");
        assertTrue(eval.out().contains("data:    CSV " + csv + " (240 train / 60 held-out test rows, seed 7): 60 test "
                + "examples"), eval.out());
        assertEquals(60, (int) eval.field("eval:", "examples"));
        assertEquals(String.format(Locale.ROOT, "%.4f", train.field("summary:", "test_acc")),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats train's figure");
        CliRun seeded = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--seed", "7").ok();
        assertEquals(seeded.out(), eval.out(), "the recorded seed, given again, changes nothing");

        // the rows predict takes are those train held out with seed 7, not those seed 0 (the --seed default) holds out
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--index", "0..59", "--json").ok();
        assertEquals("", predict.err());
        assertEquals(heldOutLabels(csv, 7), labels(predict));
        assertNotEquals(heldOutLabels(csv, 0), labels(predict), "the test must tell the two splits apart");
        assertEquals(predict.out(), CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--index", "0..59", "--json", "--seed", "7").ok().out());
    }

    @Test
    void aSeedOtherThanTheRecordedOneIsRefusedBeforeAnyRowIsRead() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        Path none = dir.resolve("none.csv");
        for (String command : new String[] {"eval", "predict"}) {
            for (String seed : new String[] {"3", "0"}) {
                // the CSV need not exist: the seeds are compared before it is read
                assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                        none.toString(), "--seed", seed), "--seed " + seed + " is not the seed " + model + " held "
                        + "its test rows out with, 7: the rows --seed " + seed + " holds out include some it was "
                        + "trained on; leave --seed out (or give 7), or score rows of your choice with --test-csv");
            }
            // a test CSV is taken whole, whatever the model held out
            CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                    "--test-csv", csv.toString()).ok();
        }
    }

    @Test
    void checkpointsAndResumedRunsRecordTheSplit() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path ck = dir.resolve("ck.safetensors");
        Path model = trainCsv(csv, 5, "--checkpoint", ck.toString(), "--validation", "0.25", "--keep-best");
        assertEquals("5", metadata(ck, ModelSession.HOLD_OUT_KEY));
        assertEquals("5", metadata(model, ModelSession.HOLD_OUT_KEY), "--validation splits the training rows only");
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv", csv.toString(), "--epochs", "3",
                "--out", resumed.toString()).ok();
        assertEquals("5", metadata(resumed, ModelSession.HOLD_OUT_KEY), "the checkpoint's seed, hence its split");
        assertEquals("", CliRun.of("eval", "--backend", "cpu", "--model", resumed.toString(), "--csv",
                csv.toString()).ok().err());
    }

    @Test
    void anOnnxExportCarriesTheSplit() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        Path onnx = dir.resolve("seed7.onnx");
        CliRun.of("export", "--backend", "cpu", "--model", model.toString(), "--onnx", onnx.toString()).ok();
        CliRun fromFile = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString())
                .ok();
        CliRun fromOnnx = CliRun.of("eval", "--backend", "cpu", "--model", onnx.toString(), "--csv", csv.toString())
                .ok();
        assertEquals("", fromOnnx.err(), "the export keeps the model's metadata, the split's seed with it");
        assertEquals(fromFile.field("eval:", "test_loss"), fromOnnx.field("eval:", "test_loss"), 1e-6);
        assertTrue(fromOnnx.out().contains("held-out test rows, seed 7): 60 test "), fromOnnx.out());
        assertRefused(CliRun.of("eval", "--backend", "cpu", "--model", onnx.toString(), "--csv", csv.toString(),
                "--seed", "3"), "--seed 3 is not the seed " + onnx + " held its test rows out with, 7: the rows "
                + "--seed 3 holds out include some it was trained on; leave --seed out (or give 7), or score rows of "
                + "your choice with --test-csv");
    }

    @Test
    void aModelWithoutTheKeyIsSplitByTheSeedWithAWarning() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        Path model = dir.resolve("whole.safetensors");
        CliRun.train(ThreeClassCsv.adamRun(csv, 1, model), "--test-csv", test.toString()).ok();
        assertNull(metadata(model, ModelSession.HOLD_OUT_KEY), "nothing was held out");
        // the same tensors and metadata as before the key existed: a library-written file records none either
        Path plain = dir.resolve("plain.safetensors");
        CliRun.writePlain(model, plain);
        for (String seed : new String[] {"0", "3"}) {
            CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                    "--seed", seed).ok();
            assertTrue(eval.out().contains("(240 train / 60 held-out test rows, seed " + seed + "): 60 test "),
                    eval.out());
            // all of csv's rows may be training rows (they are here): said, not refused, since the seed may be right
            assertEquals("backprop: warning: " + model + " records no hold-out split (backprop.holdout), so the rows "
                    + "--seed " + seed + " holds out of " + csv + " may include some it was trained on; give "
                    + "--test-csv with rows it never saw to score it on unseen data", eval.err().strip());
        }
        assertEquals(CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString())
                .ok().out(), CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--seed", "0").ok().out(), "--seed defaults to 0");
        CliRun fromPlain = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString(), "--layers", "4-16-3",
                "--csv", csv.toString(), "--seed", "3").ok();
        assertTrue(fromPlain.err().startsWith("backprop: warning: " + plain + " records no hold-out split"),
                fromPlain.err());
        // the test examples a model records nothing about: no warning, as before
        assertEquals("", CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--test-csv", test.toString()).ok().err());
    }

    @Test
    void aTamperedSeedIsRefusedNamingTheKeyAndTheValue() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        Path none = dir.resolve("none.csv");
        Path tampered = dir.resolve("tampered.safetensors");
        for (String value : new String[] {"07", "+7", "7.0", "1e1", " 7", "-0", "\"7\"", "[7]", "seven", "",
                "9223372036854775808", "-9223372036854775809"}) {
            Files.write(tampered, CliRun.withMetadata(model, ModelSession.HOLD_OUT_KEY, value));
            for (String command : new String[] {"eval", "predict"}) {
                // refused before any example is read: the CSV need not exist, and a test CSV is no way round it
                for (String data : new String[] {"--csv", "--test-csv"}) {
                    assertRefused(CliRun.of(command, "--backend", "cpu", "--model", tampered.toString(), data,
                            none.toString()), tampered + ": metadata backprop.holdout is not a seed (an integer from "
                            + "-9223372036854775808 to 9223372036854775807 written with digits and an optional minus "
                            + "sign): " + value);
                }
            }
        }
        // the extremes of --seed are seeds
        for (String value : new String[] {"-9223372036854775808", "9223372036854775807", "-3"}) {
            Files.write(tampered, CliRun.withMetadata(model, ModelSession.HOLD_OUT_KEY, value));
            CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", tampered.toString(), "--csv",
                    csv.toString()).ok();
            assertTrue(eval.out().contains("held-out test rows, seed " + value + "): 60 test "), eval.out());
        }
    }

    /** Writes 12 gray 4x4 images of each of two classes, dark and light, with noise. */
    private Path images() throws IOException {
        Path folder = dir.resolve("images");
        Random r = new Random(11);
        for (String name : new String[] {"dark", "light"}) {
            Files.createDirectories(folder.resolve(name));
            for (int i = 0; i < 12; i++) {
                BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
                for (int p = 0; p < 16; p++) {
                    img.getRaster().setSample(p % 4, p / 4, 0, (name.equals("dark") ? 40 : 200) + r.nextInt(40));
                }
                assertTrue(ImageIO.write(img, "png", folder.resolve(name).resolve(i + ".png").toFile()));
            }
        }
        return folder;
    }

    @Test
    void imagesHeldOutAreTheOnesEvalScores() throws IOException {
        Path images = images();
        Path model = dir.resolve("images.safetensors");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--images", images.toString(), "--layers", "16-8-2",
                "--epochs", "2", "--seed", "9", "--out", model.toString()).ok();
        assertEquals("9", metadata(model, ModelSession.HOLD_OUT_KEY));
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--images",
                images.toString()).ok();
        assertEquals("", eval.err());
        assertTrue(eval.out().contains("(19 train / 5 held-out test images, seed 9): 5 test examples"), eval.out());
        assertEquals(String.format(Locale.ROOT, "%.4f", train.field("summary:", "test_acc")),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")));
        assertRefused(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--images",
                images.toString(), "--seed", "2"), "--seed 2 is not the seed " + model + " held its test images "
                + "out with, 9: the images --seed 2 holds out include some it was trained on; leave --seed out (or "
                + "give 9), or score images of your choice with --test-images");
        Path separate = dir.resolve("separate.safetensors");
        CliRun.of("train", "--backend", "cpu", "--images", images.toString(), "--test-images", images.toString(),
                "--layers", "16-8-2", "--epochs", "1", "--out", separate.toString()).ok();
        assertFalse(Files.readString(separate, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains(ModelSession.HOLD_OUT_KEY), "--test-images holds nothing out");
    }
}
