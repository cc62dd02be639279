package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.data.ImageFolder;
import dev.backprop.data.ImageTransform;
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

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} records the split it holds out of a single {@code --csv} or {@code --images}, its seed and how many
 * examples it split ({@value ModelSession#HOLD_OUT_KEY}), and {@code eval} and {@code predict} split the same data by
 * it without {@code --seed} and refuse data of another count: they score exactly the examples {@code train} held out,
 * never one it trained on. The expected rows
 * are computed here with {@link HoldOut#split}, the split {@code train} makes, as a PyTorch user would keep the
 * indices of {@code random_split} with its generator's seed.
 */
class HoldOutCommandsTest {
    @TempDir
    Path dir;

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

    /**
     * The split {@code train} records of all of {@code csv}'s rows with {@code seed}: their count and digest (which
     * {@link HoldOutSplitTest} holds against SHA-256 computed outside Java).
     */
    private static String split(long seed, Path csv) {
        Dataset all = CsvData.readClassification(csv, 3);
        return "{\"seed\":" + seed + ",\"examples\":" + all.size() + ",\"sha256\":\"" + HoldOutSplit.digest(all)
                + "\"}";
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
        assertEquals(split(7, csv), metadata(model, ModelSession.HOLD_OUT_KEY));

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
        String split = split(5, csv);
        assertEquals(split, metadata(ck, ModelSession.HOLD_OUT_KEY));
        assertEquals(split, metadata(model, ModelSession.HOLD_OUT_KEY), "--validation splits the training rows only");
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv", csv.toString(), "--epochs", "3",
                "--out", resumed.toString()).ok();
        assertEquals(split, metadata(resumed, ModelSession.HOLD_OUT_KEY), "the checkpoint's seed, hence its split");
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
        // a refusal of the data is the one line printed: the warning waits until the test examples are ready
        for (String command : new String[] {"eval", "predict"}) {
            CliRun missing = CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    dir.resolve("none.csv").toString());
            assertEquals(Main.EXIT_ERROR, missing.code(), missing.out() + missing.err());
            assertEquals(1, missing.err().strip().lines().count(), missing.err());
            assertFalse(missing.err().contains("warning"), missing.err());
        }
        // the test examples a model records nothing about: no warning
        assertEquals("", CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--test-csv", test.toString()).ok().err());
    }

    @Test
    void aTamperedSplitIsRefusedNamingTheKeyAndTheValue() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        Path none = dir.resolve("none.csv");
        Path tampered = dir.resolve("tampered.safetensors");
        String seeds = "an integer from -9223372036854775808 to 9223372036854775807";
        String counts = "a count from 1 to 2147483647";
        Map<String, String> refusals = new java.util.LinkedHashMap<>();
        refusals.put("7", "is not a JSON object");   // the plain seed is no split: it says nothing of the rows
        refusals.put("[7,300]", "is not a JSON object");
        refusals.put("", "is not JSON (End of input at line 1 column 1 path $)");
        refusals.put("{\"seed\":7}", "has no examples");
        refusals.put("{\"examples\":300}", "has no seed");
        refusals.put("{\"seed\":7,\"examples\":300,\"fraction\":0.2}",
                "has a field other than seed, examples and sha256, \"fraction\"");
        refusals.put("{\"seed\":\"7\",\"examples\":300}", "has seed \"7\", not " + seeds);
        refusals.put("{\"seed\":7.0,\"examples\":300}", "has seed 7.0, not " + seeds);
        refusals.put("{\"seed\":9223372036854775808,\"examples\":300}", "has seed 9223372036854775808, not "
                + seeds);
        refusals.put("{\"seed\":-9223372036854775809,\"examples\":300}", "has seed -9223372036854775809, not "
                + seeds);
        refusals.put("{\"seed\":7,\"examples\":0}", "has examples 0, not " + counts);
        refusals.put("{\"seed\":7,\"examples\":-300}", "has examples -300, not " + counts);
        refusals.put("{\"seed\":7,\"examples\":3e2}", "has examples 3E+2, not " + counts);
        refusals.put("{\"seed\":7,\"examples\":2147483648}", "has examples 2147483648, not " + counts);
        refusals.put("{\"seed\":7,\"examples\":null}", "has examples null, not " + counts);
        for (Map.Entry<String, String> r : refusals.entrySet()) {
            Files.write(tampered, CliRun.withMetadata(model, ModelSession.HOLD_OUT_KEY, r.getKey()));
            for (String command : new String[] {"eval", "predict"}) {
                // refused before any example is read: the CSV need not exist, and a test CSV is no way round it
                for (String data : new String[] {"--csv", "--test-csv"}) {
                    CliRun run = CliRun.of(command, "--backend", "cpu", "--model", tampered.toString(), data,
                            none.toString());
                    assertEquals(Main.EXIT_ERROR, run.code(), run.out() + run.err());
                    String expected = "backprop: " + tampered + ": metadata backprop.holdout " + r.getValue();
                    assertTrue(run.err().startsWith(expected) && run.err().strip().endsWith((", so the hold-out "
                            + "split it records cannot be made; it must be {\"seed\":N,\"examples\":COUNT} or "
                            + "{\"seed\":N,\"examples\":COUNT,\"sha256\":\"HEX\"}: " + r.getKey()).strip())
                            && run.err().strip().lines().count() == 1, run.err());
                }
            }
        }
        // the extremes of --seed are seeds; JSON's spaces and field order are JSON's
        for (String value : new String[] {"{\"seed\":-9223372036854775808,\"examples\":300}",
                "{\"seed\":9223372036854775807,\"examples\":300}", "{ \"examples\" : 300, \"seed\" : -3 }"}) {
            Files.write(tampered, CliRun.withMetadata(model, ModelSession.HOLD_OUT_KEY, value));
            CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", tampered.toString(), "--csv",
                    csv.toString()).ok();
            String seed = value.replaceAll(".*\"seed\" ?: ?(-?\\d+).*", "$1");
            assertTrue(eval.out().contains("held-out test rows, seed " + seed + "): 60 test "), eval.out());
        }
    }

    @Test
    void rowsAddedToTheCsvAreRefusedNamingBothCounts() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        // the same 300 rows and 10 more: seed 7 holds other rows out of 310, some of which the model trained on
        Path grown = ThreeClassCsv.write(dir.resolve("grown.csv"), 310);
        assertEquals(Files.readAllLines(csv), Files.readAllLines(grown).subList(0, 300));
        assertNotEquals(heldOutLabels(csv, 7), heldOutLabels(grown, 7).subList(0, 60), "the splits must differ");
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    grown.toString()), "--csv " + grown + " has 310 rows, but " + model + " held its test rows out "
                    + "of 300 with seed 7: seed 7 holds other rows out of 310, some of them trained on; give the file "
                    + "train read, or score rows of your choice with --test-csv");
            // a test CSV is scored whole, whatever its size
            CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-csv", grown.toString()).ok();
        }
    }

    @Test
    void theSameCountOfOtherRowsIsRefusedNamingBothDigestsAndTheFile() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path model = trainCsv(csv, 7);
        List<String> lines = Files.readAllLines(csv);
        // the same 300 rows, the last one first: seed 7 would hold out other rows, some the model trained on
        List<String> moved = new ArrayList<>(lines.subList(299, 300));
        moved.addAll(lines.subList(0, 299));
        Path reordered = Files.write(dir.resolve("reordered.csv"), moved);
        String ours = HoldOutSplit.shown(HoldOutSplit.digest(CsvData.readClassification(reordered, 3)));
        String recorded = HoldOutSplit.shown(HoldOutSplit.digest(CsvData.readClassification(csv, 3)));
        assertNotEquals(ours, recorded);
        Path out = dir.resolve("out.safetensors");
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    reordered.toString()), "--csv " + reordered + " has 300 rows, as many as " + model + " held its "
                    + "test rows out of, but not the same ones: their SHA-256 is " + ours + "..., the recorded one "
                    + recorded + "... (rows reordered, replaced or changed), so seed 7 would hold out rows it was "
                    + "trained on; give the file train read, or score rows of your choice with --test-csv");
        }
        Path ck = dir.resolve("ck.safetensors");
        trainCsv(csv, 5, "--checkpoint", ck.toString());
        assertRefused(CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv",
                reordered.toString(), "--epochs", "3", "--out", out.toString()), "--csv " + reordered + " has 300 "
                + "rows, as many as " + ck + " held its test rows out of, but not the same ones: their SHA-256 is "
                + ours + "..., the recorded one " + recorded + "... (rows reordered, replaced or changed), so seed 5 "
                + "would hold out rows it was trained on; resume with the file it was trained on");
        assertFalse(Files.exists(out));

        // what the reader parses to the same values is the same data: a header, CRLF, a trailing zero of the
        // decimals dropped (0.12340 as 0.1234), no final line end
        List<String> spelled = new ArrayList<>(List.of("a,b,c,d,label"));
        for (String line : lines) {
            spelled.add(line.replace("0,", ","));
        }
        Path crlf = Files.writeString(dir.resolve("crlf.csv"), String.join("\r\n", spelled));
        assertNotEquals(Files.readString(csv), Files.readString(crlf));
        assertEquals(CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString()).ok()
                .field("eval:", "test_loss"), CliRun.of("eval", "--backend", "cpu", "--model", model.toString(),
                "--csv", crlf.toString()).ok().field("eval:", "test_loss"), 0.0);

        // a model recording the count alone is held to its count only
        Path countOnly = dir.resolve("count-only.safetensors");
        Files.write(countOnly, CliRun.withMetadata(model, ModelSession.HOLD_OUT_KEY,
                "{\"seed\":7,\"examples\":300}"));
        assertEquals("", CliRun.of("eval", "--backend", "cpu", "--model", countOnly.toString(), "--csv",
                reordered.toString()).ok().err());
        Path ckCountOnly = dir.resolve("ck-count-only.safetensors");
        Files.write(ckCountOnly, CliRun.withMetadata(ck, ModelSession.HOLD_OUT_KEY,
                "{\"seed\":5,\"examples\":300}"));
        CliRun.of("train", "--backend", "cpu", "--resume", ckCountOnly.toString(), "--csv", csv.toString(),
                "--epochs", "2", "--out", out.toString()).ok();
        assertEquals("{\"seed\":5,\"examples\":300}", metadata(out, ModelSession.HOLD_OUT_KEY),
                "a resumed run vouches for no more rows than its checkpoint did");
    }

    @Test
    void theSplitCountsEveryRowBeforeTheLimits() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        // train splits all 300 rows, then trains on the first 100 of its 240 and tests on the first 20 of its 60
        Path model = trainCsv(csv, 7, "--train-limit", "100", "--test-limit", "20");
        assertEquals(split(7, csv), metadata(model, ModelSession.HOLD_OUT_KEY));
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--test-limit", "20").ok();
        assertEquals("", eval.err());
        assertEquals(20, (int) eval.field("eval:", "examples"));
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--index", "0..19", "--json").ok();
        assertEquals(heldOutLabels(csv, 7).subList(0, 20), labels(predict));
    }

    @Test
    void aResumedRunKeepsTheCheckpointsSplitOrRecordsNone() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path ck = dir.resolve("ck.safetensors");
        trainCsv(csv, 5, "--checkpoint", ck.toString());
        Path grown = ThreeClassCsv.write(dir.resolve("grown.csv"), 310);
        Path resumed = dir.resolve("resumed.safetensors");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv", grown.toString(),
                "--epochs", "3", "--out", resumed.toString()), "--csv " + grown + " has 310 rows, but " + ck
                + " held its test rows out of 300 with seed 5: seed 5 holds other rows out of 310, some of them "
                + "trained on; resume with the file it was trained on");
        assertFalse(Files.exists(resumed));

        // a checkpoint trained on a test CSV may have trained on any row of csv: the resumed model cannot say
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        Path whole = dir.resolve("whole.safetensors");
        CliRun.train(ThreeClassCsv.adamRun(csv, 1, dir.resolve("w.safetensors")), "--test-csv", test.toString(),
                "--checkpoint", whole.toString()).ok();
        CliRun.of("train", "--backend", "cpu", "--resume", whole.toString(), "--csv", csv.toString(), "--epochs",
                "2", "--out", resumed.toString()).ok();
        assertNull(metadata(resumed, ModelSession.HOLD_OUT_KEY));
        assertTrue(CliRun.of("eval", "--backend", "cpu", "--model", resumed.toString(), "--csv", csv.toString()).ok()
                .err().startsWith("backprop: warning: " + resumed + " records no hold-out split"));
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
        assertEquals("{\"seed\":9,\"examples\":24,\"sha256\":\"" + HoldOutSplit.digest(ImageFolder.read(images,
                ImageFolder.AUTO_CHANNELS, null, ImageTransform.NONE)) + "\"}",
                metadata(model, ModelSession.HOLD_OUT_KEY));
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
        Files.copy(images.resolve("dark/0.png"), images.resolve("dark/12.png"));
        assertRefused(CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--images",
                images.toString()), "--images " + images + " has 25 images, but " + model + " held its test images "
                + "out of 24 with seed 9: seed 9 holds other images out of 25, some of them trained on; give the "
                + "folder train read, or score images of your choice with --test-images");
        Path separate = dir.resolve("separate.safetensors");
        CliRun.of("train", "--backend", "cpu", "--images", images.toString(), "--test-images", images.toString(),
                "--layers", "16-8-2", "--epochs", "1", "--out", separate.toString()).ok();
        assertFalse(Files.readString(separate, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains(ModelSession.HOLD_OUT_KEY), "--test-images holds nothing out");
    }
}
