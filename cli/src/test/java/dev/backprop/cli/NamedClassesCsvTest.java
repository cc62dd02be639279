package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.model.SavedModel;
import dev.backprop.runtime.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CSV whose last column names the class: the names are numbered in sorted order, recorded in the model, and a test
 * file is read against them, so scores equal those of the same rows with numbered labels.
 */
class NamedClassesCsvTest {
    /** Class {@code k} of {@link ThreeClassCsv} as a name; sorted, the names keep the numbers' order. */
    private static final List<String> NAMES = List.of("ash", "birch", "cedar");

    @TempDir
    Path dir;

    private Path named(Path numbered, String file, String header) throws IOException {
        StringBuilder sb = new StringBuilder(header);
        for (String line : Files.readAllLines(numbered)) {
            int comma = line.lastIndexOf(',');
            sb.append(line, 0, comma + 1).append(NAMES.get(Integer.parseInt(line.substring(comma + 1)))).append('\n');
        }
        return Files.writeString(dir.resolve(file), sb);
    }

    @Test
    void namedLabelsTrainEvaluateAndPredictAsTheirNumbersDo() throws IOException {
        Path numbered = ThreeClassCsv.write(dir.resolve("three.csv"), 600);
        Path testNumbered = ThreeClassCsv.write(dir.resolve("test.csv"), 100);
        Path trainNamed = named(numbered, "trees.csv", "a,b,c,d,tree\n");
        Path testNamed = named(testNumbered, "test-trees.csv", "");
        Path byName = dir.resolve("by-name.safetensors");
        Path byNumber = dir.resolve("by-number.safetensors");
        CliRun a = CliRun.of("train", "--backend", "cpu", "--csv", trainNamed.toString(), "--layers", "4-8-3",
                "--epochs", "2", "--out", byName.toString()).ok();
        CliRun b = CliRun.of("train", "--backend", "cpu", "--csv", numbered.toString(), "--layers", "4-8-3",
                "--epochs", "2", "--out", byNumber.toString()).ok();
        assertEquals(b.field("summary:", "test_acc"), a.field("summary:", "test_acc"), a.out());
        try (Backend cpu = Backends.get("cpu"); SavedModel.Loaded m = SavedModel.load(byName, cpu)) {
            assertEquals(NAMES, m.classNames());
        }

        CliRun evalNamed = CliRun.of("eval", "--backend", "cpu", "--model", byName.toString(), "--csv",
                trainNamed.toString(), "--test-csv", testNamed.toString()).ok();
        CliRun evalNumbered = CliRun.of("eval", "--backend", "cpu", "--model", byNumber.toString(), "--csv",
                numbered.toString(), "--test-csv", testNumbered.toString()).ok();
        assertEquals(evalNumbered.field("eval:", "test_loss"), evalNamed.field("eval:", "test_loss"));
        assertEquals(evalNumbered.field("eval:", "test_acc"), evalNamed.field("eval:", "test_acc"));

        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", byName.toString(), "--csv",
                trainNamed.toString(), "--test-csv", testNamed.toString(), "--index", "0").ok();
        String first = Files.readAllLines(testNamed).get(0);
        assertTrue(predict.out().contains("(label: " + first.substring(first.lastIndexOf(',') + 1) + ")"),
                predict.out());
    }

    @Test
    void quotedNamesWithCommasTrainAsTheirNumbersDo() throws IOException {
        // As R's write.csv(row.names = FALSE) writes it: every name and header field quoted, numbers bare
        List<String> quoted = List.of("ash, white", "birch \"silver\"", "cedar, red");
        Path numbered = ThreeClassCsv.write(dir.resolve("three.csv"), 600);
        StringBuilder sb = new StringBuilder("\"a\",\"b\",\"c\",\"d\",\"tree, kind\"\n");
        for (String line : Files.readAllLines(numbered)) {
            int comma = line.lastIndexOf(',');
            String name = quoted.get(Integer.parseInt(line.substring(comma + 1)));
            sb.append(line, 0, comma + 1).append('"').append(name.replace("\"", "\"\"")).append("\"\n");
        }
        Path r = Files.writeString(dir.resolve("r.csv"), sb);
        Path byName = dir.resolve("by-name.safetensors");
        CliRun a = CliRun.of("train", "--backend", "cpu", "--csv", r.toString(), "--layers", "4-8-3",
                "--epochs", "2", "--out", byName.toString()).ok();
        CliRun b = CliRun.of("train", "--backend", "cpu", "--csv", numbered.toString(), "--layers", "4-8-3",
                "--epochs", "2", "--out", dir.resolve("by-number.safetensors").toString()).ok();
        assertEquals(b.field("summary:", "test_acc"), a.field("summary:", "test_acc"), a.out());
        try (Backend cpu = Backends.get("cpu"); SavedModel.Loaded m = SavedModel.load(byName, cpu)) {
            assertEquals(quoted, m.classNames());
        }
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", byName.toString(), "--row",
                "\"0.1\",0.2,\"0.3\",0.4").ok();
        assertTrue(quoted.stream().anyMatch(predict.out()::contains), predict.out());
    }

    @Test
    void aTestFileWithAClassTheModelLacksIsRefusedNamingIt() throws IOException {
        Path trainNamed = named(ThreeClassCsv.write(dir.resolve("three.csv"), 300), "trees.csv", "");
        Path model = dir.resolve("m.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", trainNamed.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", model.toString()).ok();
        Path odd = Files.writeString(dir.resolve("odd.csv"), "0.1,0.2,0.3,0.4,birch\n0.1,0.2,0.3,0.4,oak\n");
        CliRun r = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", trainNamed.toString(),
                "--test-csv", odd.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(odd + ": line 2: label 'oak' is not one of the 3 classes [ash, birch, cedar]"),
                r.err());
    }

    @Test
    void sparkNumbersAndSavesTheNamesAsTrainDoes() throws IOException {
        Path numbered = ThreeClassCsv.write(dir.resolve("three.csv"), 400);
        Path trainNamed = named(numbered, "trees.csv", "a,b,c,d,tree\n");
        double[] losses = new double[2];
        for (Path csv : List.of(numbered, trainNamed)) {
            Path model = dir.resolve(csv.getFileName() + ".safetensors");
            CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--ranks", "2", "--layers", "4-8-3",
                    "--epochs", "2", "--batch-size", "20", "--out", model.toString()).ok();
            try (Backend cpu = Backends.get("cpu"); SavedModel.Loaded m = SavedModel.load(model, cpu)) {
                assertEquals(csv == numbered ? null : NAMES, m.classNames());
            }
            CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv",
                    csv.toString()).ok();
            losses[csv == numbered ? 0 : 1] = eval.field("eval:", "test_loss");
        }
        assertEquals(losses[0], losses[1], "the names index the classes as the numbers they stand for");
    }

    @Test
    void sparkReadsTheLocalReadersGrammar() throws IOException {
        Path csv = Files.writeString(dir.resolve("nan.csv"), "0.1,0.2,0.3,0.4,ash\n0.5,NaN,0.7,0.8,birch\n");
        CliRun r = CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--ranks", "2", "--layers",
                "4-8-3", "--epochs", "1", "--out", dir.resolve("nan.safetensors").toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(csv + ": '0.5,NaN,0.7,0.8,birch': column 2: 'NaN' is not a number"), r.err());
        assertTrue(Files.notExists(dir.resolve("nan.safetensors")));
        // A first line with some numbers is data, not a header to drop, as for the local reader.
        Path bad = Files.writeString(dir.resolve("first.csv"), "\uFEFF0.5,x,0.7,0.8,birch\n0.1,0.2,0.3,0.4,ash\n");
        CliRun first = CliRun.of("train", "--spark", "local[2]", "--csv", bad.toString(), "--ranks", "2", "--layers",
                "4-8-3", "--epochs", "1", "--out", dir.resolve("first.safetensors").toString());
        assertEquals(1, first.code(), first.out() + first.err());
        assertTrue(first.err().contains("'0.5,x,0.7,0.8,birch': column 2: 'x' is not a number"), first.err());
    }
}
