package dev.backprop.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.Backend;
import dev.backprop.model.SavedModel;
import dev.backprop.runtime.Backends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code predict}: any number of test examples, a file of rows, options that contradict each other refused, and
 * {@code --json} output a script can read.
 */
class PredictCommandTest {
    @TempDir
    Path dir;
    private Path csv;
    private Path model;

    /** 6,000 rows of three classes, so 1,200 are held out as test examples. */
    @BeforeEach
    void trainOnACsv() throws IOException {
        csv = ThreeClassCsv.write(dir.resolve("three.csv"), 6000);
        model = dir.resolve("m.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", model.toString()).ok();
    }

    private CliRun predict(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("predict", "--backend", "cpu", "--model",
                model.toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static List<JsonObject> jsonLines(CliRun r) {
        return r.out().lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    }

    @Test
    void anyNumberOfIndicesInRangesAndLists() {
        CliRun all = predict("--csv", csv.toString(), "--index", "0..1199").ok();
        assertEquals(1200, all.out().split("top 3:", -1).length - 1);
        CliRun mixed = predict("--csv", csv.toString(), "--index", "5,0..2,1199,5", "--json").ok();
        assertEquals(List.of(5, 0, 1, 2, 1199, 5), jsonLines(mixed).stream().map(o -> o.get("index").getAsInt())
                .toList());
        CliRun past = predict("--csv", csv.toString(), "--index", "3,1200");
        assertEquals(Main.EXIT_ERROR, past.code());
        assertEquals("backprop: --index 3,1200: 1200 is outside the 1200 test examples [0, 1199]",
                past.err().trim());
    }

    @Test
    void jsonGivesOneObjectPerExampleAndNothingElse() {
        CliRun text = predict("--csv", csv.toString(), "--index", "7").ok();
        List<JsonObject> lines = jsonLines(predict("--csv", csv.toString(), "--index", "7", "--json").ok());
        assertEquals(1, lines.size());
        JsonObject o = lines.get(0);
        assertEquals(7, o.get("index").getAsInt());
        assertEquals(3, o.getAsJsonArray("probabilities").size());
        int label = o.get("label").getAsInt();
        String verdict = o.get("class").getAsInt() == label ? "(correct)" : "(wrong)";
        assertTrue(text.out().contains("test example 7 (label: class " + label + ")") && text.out().contains(verdict),
                text.out());
        for (int c = 0; c < 3; c++) {
            String p = String.format(Locale.ROOT, "class %d %.4f", c,
                    o.getAsJsonArray("probabilities").get(c).getAsFloat());
            assertTrue(text.out().contains(p), p + " in " + text.out());
        }
    }

    @Test
    void rowsFromAFileMatchTheSameRowsGivenOneByOne() throws IOException {
        Path rows = dir.resolve("rows.csv");
        Files.writeString(rows, "a,b,c,d\n1,1,0,0\n\n-1,0.5,0,0\n0.5,-2,1,1\n");
        CliRun text = predict("--rows", rows.toString()).ok();
        assertTrue(text.out().contains("data:    " + rows + ": 3 row(s) of 4 features"), text.out());
        assertTrue(text.out().contains("row 2 (line 5)\n  probabilities:  class 0 "), text.out());
        List<JsonObject> json = jsonLines(predict("--rows", rows.toString(), "--json").ok());
        assertEquals(List.of(2, 4, 5), json.stream().map(o -> o.get("line").getAsInt()).toList());
        String[] one = {"1,1,0,0", "-1,0.5,0,0", "0.5,-2,1,1"};
        for (int i = 0; i < one.length; i++) {
            JsonObject single = jsonLines(predict("--row", one[i], "--json").ok()).get(0);
            assertEquals(i, json.get(i).get("row").getAsInt());
            assertEquals(single.get("probabilities"), json.get(i).get("probabilities"), "row " + i);
        }
        Path ragged = dir.resolve("ragged.csv");
        Files.writeString(ragged, "1,1,0,0\n1,1,0\n");
        CliRun bad = predict("--rows", ragged.toString());
        assertEquals(Main.EXIT_ERROR, bad.code());
        assertEquals("backprop: " + ragged + ": line 2 has 3 columns, expected 4", bad.err().trim());
        Path wide = dir.resolve("wide.csv");
        Files.writeString(wide, "1,1,0,0,9\n");
        assertTrue(predict("--rows", wide.toString()).err().contains(wide + ": each row has 5 values, the model "
                + "takes 4 features"));
    }

    @Test
    void contradictoryOptionsAreRefusedByName() {
        String[][] cases = {
                {"--row", "1,1,0,0", "--index", "3"},
                {"--rows", "r.csv", "--row", "1,1,0,0"},
                {"--rows", "r.csv", "--csv", "three.csv"},
                {"--row", "1,1,0,0", "--seed", "4", "--test-limit", "9"},
                {"--rows", "r.csv", "--channels", "3"},
        };
        String[] expected = {
                "--row and --index exclude each other: --row gives the examples, and --index picks test examples",
                "--row and --rows exclude each other",
                "--rows and --csv exclude each other",
                "--row and --test-limit, --seed exclude each other",
                "--rows and --channels exclude each other: --channels reads images, and --rows gives rows of "
                        + "features",
        };
        for (int i = 0; i < cases.length; i++) {
            CliRun r = predict(cases[i]);
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("backprop: " + expected[i]), r.err());
        }
    }

    /** Class names with quotes, backslashes, HTML's special characters and non-ASCII letters come back as written
     *  (model files refuse control characters in them). */
    @Test
    void jsonEscapesClassNames() throws IOException {
        List<String> names = List.of("say \"hi\"", "back\\slash </b> & 'x'", "ünïcödé ☃");
        Path named = dir.resolve("named.safetensors");
        try (Backend cpu = Backends.get("cpu"); SavedModel.Loaded m = SavedModel.load(model, cpu)) {
            SavedModel.save(named, m.model(), m.task(), names, Map.of());
        }
        CliRun r = CliRun.of("predict", "--backend", "cpu", "--model", named.toString(), "--csv", csv.toString(),
                "--index", "0..99", "--json").ok();
        assertEquals(100, r.out().lines().count(), "one line per example: " + r.out());
        java.util.Set<Integer> labels = new java.util.HashSet<>();
        for (JsonObject o : jsonLines(r)) {
            assertEquals(names.get(o.get("class").getAsInt()), o.get("class_name").getAsString());
            assertEquals(names.get(o.get("label").getAsInt()), o.get("label_name").getAsString());
            labels.add(o.get("label").getAsInt());
        }
        assertEquals(3, labels.size(), "every name is written");
        assertTrue(r.out().contains("\"label_name\":\"say \\\"hi\\\"\""), r.out());
        assertTrue(r.out().contains("\"label_name\":\"back\\\\slash </b> & 'x'\""), "no HTML escapes: " + r.out());
        assertTrue(r.out().contains("\"label_name\":\"ünïcödé ☃\""), r.out());
    }
}
