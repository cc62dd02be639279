package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --test-csv FILE} names the test rows whole: {@code eval} and {@code predict} score every row of FILE with or
 * without {@code --csv} (as {@code --test-images} alone scores every image), and {@code train} refuses it without the
 * training rows of {@code --csv} rather than training on Fashion-MNIST.
 */
class TestCsvCommandsTest {
    @TempDir
    Path dir;

    @Test
    void evalAndPredictScoreEveryRowOfTheTestCsvAlone() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        Path model = dir.resolve("m.safetensors");
        CliRun.train(ThreeClassCsv.adamRun(csv, 2, model), "--test-csv", test.toString()).ok();

        CliRun alone = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-csv",
                test.toString()).ok();
        assertEquals("", alone.err(), "a test CSV is scored whole: no split, no warning");
        assertTrue(alone.out().contains("data:    CSV " + test + ": 50 test examples"), alone.out());
        assertEquals(50, (int) alone.field("eval:", "examples"));
        CliRun withCsv = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--test-csv", test.toString()).ok();
        assertEquals(withCsv.out(), alone.out(), "--csv adds nothing when the test rows are given");

        // predict's rows are the file's, in its order: their labels are the file's last column
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--test-csv",
                test.toString(), "--index", "0..49", "--json").ok();
        Dataset rows = CsvData.readClassification(test, 3);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            expected.add(rows.label(i));
        }
        List<Integer> labels = new ArrayList<>();
        Matcher m = Pattern.compile("\"label\":(\\d+)").matcher(predict.out());
        while (m.find()) {
            labels.add(Integer.parseInt(m.group(1)));
        }
        assertEquals(expected, labels);

        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-csv",
                    test.toString(), "--seed", "3"), "--seed 3 picks the examples held out of a single --csv or "
                    + "--images, and --test-csv is taken whole; leave it out");
        }
    }

    @Test
    void trainRefusesATestCsvWithoutTrainingRows() throws IOException {
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        Path model = dir.resolve("m.safetensors");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--test-csv", test.toString(), "--epochs", "1",
                "--out", model.toString()), "--test-csv needs --csv, the training rows");
        // Spark trains on the whole --csv and tests nothing: a usage error (exit 2), before Spark is looked for
        CliRun spark = CliRun.of("train", "--spark", "local[2]", "--test-csv", test.toString(), "--out",
                model.toString());
        assertEquals(2, spark.code(), spark.err());
        assertEquals("backprop: --spark runs do not take --test-csv: it applies to training on this machine; see "
                + "'backprop train --help'", spark.err().strip());
    }

    /**
     * {@code --data} names Fashion-MNIST's directory, which a CSV replaces: given beside {@code --csv} or
     * {@code --test-csv} nothing would read it, so {@code train} (with or without {@code --spark}), {@code eval} and
     * {@code predict} refuse the pair in one line before any example is read or any file written.
     */
    @Test
    void theFashionMnistDirectoryIsRefusedBesideACsv() throws IOException {
        Path csv = ThreeClassCsv.write(dir);
        Path test = ThreeClassCsv.write(dir.resolve("test.csv"), 50);
        Path model = dir.resolve("m.safetensors");
        String fashion = dir.resolve("fashion").toString();
        String refusal = " exclude each other: --data is the Fashion-MNIST directory, and a CSV gives the examples "
                + "instead; leave --data out";
        Path refused = dir.resolve("refused.safetensors");
        assertRefused(CliRun.train(ThreeClassCsv.adamRun(csv, 1, refused), "--data", fashion),
                "--data " + fashion + " and --csv" + refusal);
        assertRefused(CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--data", fashion, "--out",
                refused.toString()), "--data " + fashion + " and --csv" + refusal);
        assertTrue(Files.notExists(refused), "nothing written");
        CliRun.train(ThreeClassCsv.adamRun(csv, 1, model)).ok();
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-csv",
                    test.toString(), "--data", fashion), "--data " + fashion + " and --test-csv" + refusal);
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    csv.toString(), "--data", fashion), "--data " + fashion + " and --csv" + refusal);
        }
    }
}
