package dev.backprop.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code eval --report} and {@code --report-json}: the per-class table under the model's class names (escaped for
 * the terminal), the confusion matrix agreeing with the accuracy, the JSON file written like the cli's other outputs
 * and refused over an existing file without {@code --overwrite}, and {@code eval}'s lines unchanged without them.
 */
class EvalReportTest {
    /**
     * Class {@code k} of {@link ThreeClassCsv} by name; the last ends in a zero-width space, which a class name may
     * hold (no terminal hazard) but which is printed escaped, as {@code DataFormatException.oneLine} shows it.
     */
    private static final List<String> NAMES = List.of("ash", "birch", "cedar​");

    @TempDir
    static Path dir;
    private static Path csv;
    private static Path model;

    @BeforeAll
    static void train() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(ThreeClassCsv.write(dir.resolve("three.csv"), 300))) {
            int comma = line.lastIndexOf(',');
            sb.append(line, 0, comma + 1).append(NAMES.get(Integer.parseInt(line.substring(comma + 1)))).append('\n');
        }
        csv = Files.writeString(dir.resolve("trees.csv"), sb);
        model = dir.resolve("m.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "4-8-3", "--epochs", "2",
                "--out", model.toString()).ok();
    }

    private static CliRun eval(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("eval", "--backend", "cpu", "--model", model.toString(),
                "--csv", csv.toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void reportPrintsTheTableAndTheMatrixUnderEscapedNames() {
        CliRun plain = eval().ok();
        CliRun r = eval("--report").ok();
        String[] plainLines = plain.out().split("\n");
        String[] lines = r.out().split("\n");
        // The usual lines come first and unchanged; the last line only gains macro_f1.
        for (int i = 0; i < plainLines.length - 1; i++) {
            assertEquals(plainLines[i], lines[i], r.out());
        }
        assertTrue(lines[lines.length - 1].startsWith(plainLines[plainLines.length - 1] + " macro_f1="), r.out());
        assertFalse(r.out().contains("\u200b"), r.out());
        assertTrue(r.out().contains("\ncedar\\u200B "), r.out());
        assertTrue(r.out().contains("\nash "), r.out());
        assertTrue(r.out().contains("\nmacro avg "), r.out());
        assertTrue(r.out().contains("\nweighted avg "), r.out());
        int header = List.of(lines).indexOf("confusion matrix (rows: true class, columns: predicted class by index):");
        assertTrue(header > 0, r.out());
        long total = 0;
        long diagonal = 0;
        for (int t = 0; t < 3; t++) {
            String[] f = lines[header + 2 + t].trim().split(" +");
            assertEquals(Integer.toString(t), f[0], lines[header + 2 + t]);
            for (int p = 0; p < 3; p++) {
                long c = Long.parseLong(f[f.length - 3 + p]);
                total += c;
                diagonal += t == p ? c : 0;
            }
        }
        double examples = r.field("eval:", "examples");
        assertEquals(examples, total, r.out());
        assertEquals(r.field("eval:", "test_acc"), Math.round(diagonal / examples * 1e6) / 1e6, 1e-12, r.out());
    }

    @Test
    void reportJsonIsWrittenWithTheMatrixAndNotReplacedWithoutOverwrite() throws IOException {
        Path json = dir.resolve("report.json");
        CliRun r = eval("--report-json", json.toString()).ok();
        assertFalse(r.out().contains("macro_f1"), "the summary line gains fields only with --report: " + r.out());
        JsonObject o = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8)).getAsJsonObject();
        assertEquals("backprop-eval-report", o.get("format").getAsString());
        assertEquals(NAMES.get(2), o.getAsJsonArray("classes").get(2).getAsJsonObject().get("name").getAsString());
        JsonArray matrix = o.getAsJsonArray("confusion_matrix");
        long total = 0;
        long diagonal = 0;
        for (int t = 0; t < 3; t++) {
            for (int p = 0; p < 3; p++) {
                long c = matrix.get(t).getAsJsonArray().get(p).getAsLong();
                total += c;
                diagonal += t == p ? c : 0;
            }
        }
        assertEquals(o.get("examples").getAsLong(), total);
        assertEquals(o.get("accuracy").getAsDouble(), (double) diagonal / total, 0.0);

        byte[] before = Files.readAllBytes(json);
        CliRun again = eval("--report", "--report-json", json.toString());
        assertEquals(1, again.code(), again.out() + again.err());
        assertTrue(again.err().contains("--report-json " + json + " exists (an evaluation report written by Backprop)"
                + "; give --overwrite to replace it, or another name"), again.err());
        assertFalse(again.out().contains("test_loss"), "refused before evaluating: " + again.out());
        assertArrayEquals(before, Files.readAllBytes(json));
        eval("--report-json", json.toString(), "--overwrite").ok();

        Path other = Files.writeString(dir.resolve("notes.json"), "{\"mine\": 1}\n");
        CliRun refused = eval("--report-json", other.toString(), "--overwrite");
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains("--report-json " + other + " exists and is not an evaluation report "
                + "written by Backprop: not replacing it; give another name"), refused.err());
        assertEquals("{\"mine\": 1}\n", Files.readString(other));

        CliRun alone = eval("--report", "--overwrite");
        assertEquals(1, alone.code(), alone.out() + alone.err());
        assertEquals("backprop: --overwrite applies only to --report-json FILE, and there is no report file: leave it "
                + "out or give --report-json", alone.err().strip());
        assertFalse(alone.out().contains("test_loss"), "refused before evaluating: " + alone.out());
    }

    /**
     * JSON has no NaN: a model loaded with {@code --allow-non-finite} scores a NaN loss, which the report writes as
     * null (as {@code predict --json} does), so that a strict parser ({@code jq}, {@code JSON.parse}) reads it.
     */
    @Test
    void nonFiniteFiguresAreWrittenAsNull() throws IOException {
        byte[] bytes = Files.readAllBytes(model);
        int data = bytes.length - CliRun.tensorBytes(model).length;
        java.nio.ByteBuffer floats = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int at = data; at < bytes.length; at += Float.BYTES) {
            floats.putFloat(at, Float.NaN);
        }
        Path broken = Files.write(dir.resolve("nan.safetensors"), bytes);
        Path json = dir.resolve("nan-report.json");
        CliRun r = CliRun.of("eval", "--backend", "cpu", "--model", broken.toString(), "--csv", csv.toString(),
                "--allow-non-finite", "--report-json", json.toString()).ok();
        assertTrue(Double.isNaN(r.field("eval:", "test_loss")), r.out());
        String text = Files.readString(json, StandardCharsets.UTF_8);
        assertFalse(text.contains("NaN") || text.contains("Infinity"), text);
        JsonObject o = JsonParser.parseString(text).getAsJsonObject();
        assertTrue(o.get("loss").isJsonNull(), text);
        assertEquals(o.get("examples").getAsLong(), o.getAsJsonArray("classes").asList().stream()
                .mapToLong(c -> c.getAsJsonObject().get("support").getAsLong()).sum(), text);
    }

    @Test
    void regressionReportGivesEachTargetsErrors() throws IOException {
        StringBuilder sb = new StringBuilder();
        java.util.Random rnd = new java.util.Random(4);
        for (int i = 0; i < 200; i++) {
            double a = rnd.nextGaussian();
            double b = rnd.nextGaussian();
            sb.append(String.format(java.util.Locale.ROOT, "%.5f,%.5f,%.5f,%.5f%n", a, b, a + b, a - 2 * b));
        }
        Path data = Files.writeString(dir.resolve("two-targets.csv"), sb);
        Path regression = dir.resolve("r.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", data.toString(), "--task", "regression", "--targets", "2",
                "--layers", "2-8-2", "--epochs", "2", "--out", regression.toString()).ok();
        CliRun r = CliRun.of("eval", "--backend", "cpu", "--model", regression.toString(), "--csv", data.toString(),
                "--targets", "2", "--report").ok();
        assertTrue(r.out().contains("\ntarget ") && r.out().contains("\n0 ") && r.out().contains("\n1 ")
                && r.out().contains("\naverage "), r.out());
        assertTrue(r.out().contains(" r2="), r.out());
    }
}
