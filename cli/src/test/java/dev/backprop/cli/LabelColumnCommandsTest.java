package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.model.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --label-column}: a CSV in Kaggle's layout ({@code label,pixel1,...}, the label first) trains exactly as the
 * same rows with the label last, the model records the column and {@code eval} and {@code predict} read test files
 * by it; pandas' numeric header ({@code 0,1,...,N-1}) is a header, not a row.
 */
class LabelColumnCommandsTest {
    @TempDir
    Path dir;

    /** {@code rows} of {@link ThreeClassCsv} rewritten by {@code layout} (its fields in, a line out). */
    private Path relaid(String name, String header, int rows, Function<String[], String> layout) throws IOException {
        Path plain = ThreeClassCsv.write(dir.resolve("plain-" + name), rows);
        StringBuilder sb = new StringBuilder(header == null ? "" : header + "\n");
        for (String line : Files.readAllLines(plain)) {
            sb.append(layout.apply(line.split(","))).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb);
    }

    private static String labelFirst(String[] f) {
        return String.join(",", f[4], f[0], f[1], f[2], f[3]);
    }

    private Path kaggle(String name, int rows) throws IOException {
        return relaid(name, "label,x1,x2,x3,x4", rows, LabelColumnCommandsTest::labelFirst);
    }

    private Path lastWithHeader(String name, int rows) throws IOException {
        return relaid(name, "x1,x2,x3,x4,label", rows, f -> String.join(",", f));
    }

    private CliRun train(Path csv, Path testCsv, String model, String... more) {
        Map<String, String> opts = ThreeClassCsv.adamRun(csv, 2, dir.resolve(model));
        opts.put("--test-csv", testCsv.toString());
        return CliRun.train(opts, more);
    }

    private static String metadata(Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            return f.metadata().get(SavedModel.LABEL_COLUMN_KEY);
        }
    }

    @Test
    void kaggleLayoutTrainsExactlyAsTheLabelLast() throws IOException {
        CliRun last = train(lastWithHeader("last.csv", 300), lastWithHeader("last-test.csv", 90), "last.st").ok();
        Path kaggle = kaggle("kaggle.csv", 300);
        Path kaggleTest = kaggle("kaggle-test.csv", 90);
        for (String column : List.of("label", "0")) {
            CliRun run = train(kaggle, kaggleTest, column + ".st", "--label-column", column).ok();
            assertTrue(run.out().contains("4 features, 3 classes"), run.out());
            assertEquals(last.field("summary:", "test_acc"), run.field("summary:", "test_acc"), column);
            assertArrayEquals(CliRun.tensorBytes(dir.resolve("last.st")), CliRun.tensorBytes(dir.resolve(column
                    + ".st")), column);
            assertEquals(column, metadata(dir.resolve(column + ".st")));
        }
        assertNull(metadata(dir.resolve("last.st")), "the default column is not recorded");
        // without it the last feature, reals such as -0.51234, is taken for the label
        CliRun wrong = train(kaggle, kaggleTest, "wrong.st");
        assertEquals(Main.EXIT_ERROR, wrong.code());
        assertTrue(wrong.err().contains("is not a whole number"), wrong.err());
    }

    @Test
    void evalAndPredictReadTestFilesByTheModelsColumn() throws IOException {
        Path kaggle = kaggle("kaggle.csv", 300);
        Path kaggleTest = kaggle("kaggle-test.csv", 90);
        CliRun run = train(kaggle, kaggleTest, "m.st", "--label-column", "label").ok();
        String model = dir.resolve("m.st").toString();
        String[] files = {"--backend", "cpu", "--model", model, "--csv", kaggle.toString(), "--test-csv",
            kaggleTest.toString()};
        CliRun eval = CliRun.of(concat(new String[] {"eval"}, files)).ok();
        assertEquals(String.format(Locale.ROOT, "%.4f", run.field("summary:", "test_acc")),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats train's figure");
        CliRun same = CliRun.of(concat(concat(new String[] {"eval"}, files), "--label-column", "label")).ok();
        assertEquals(eval.out(), same.out());
        assertRefused(CliRun.of(concat(concat(new String[] {"eval"}, files), "--label-column", "0")),
                "--label-column 0 is not the column " + model + " was trained with, label: leave it out or give label"
                        + " (a header name: the CSV needs a header line naming it, as the training file had)");

        CliRun predict = CliRun.of(concat(concat(new String[] {"predict"}, files), "--index", "0..4", "--json")).ok();
        List<String> lines = predict.out().lines().toList();
        for (int i = 0; i < 5; i++) {
            String truth = Files.readAllLines(kaggleTest).get(i + 1).split(",")[0];
            assertTrue(lines.get(i).contains("\"label\":" + truth), predict.out());
        }
        // a feature row has no label: the four features, in the training file's order, decided as in the file
        String features = Files.readAllLines(kaggleTest).get(1).substring(2);
        CliRun row = CliRun.of("predict", "--backend", "cpu", "--model", model, "--row", features, "--json").ok();
        String decided = lines.get(0).replaceAll(".*(\"class\":\\d+).*", "$1");
        assertTrue(decided.startsWith("\"class\":") && row.out().contains(decided), lines.get(0) + " / "
                + row.out());
        // --rows holds features only: a label column for it is refused, not ignored
        CliRun rows = CliRun.of("predict", "--backend", "cpu", "--model", model, "--rows", kaggleTest.toString(),
                "--label-column", "0");
        assertTrue(rows.err().startsWith("backprop: --rows and --label-column exclude each other: --rows gives the "
                + "examples"), rows.err());
        // a model that records a header name reads only CSVs whose header names it: no index can stand in for it
        List<String> all = Files.readAllLines(kaggleTest);
        Path bare = Files.write(dir.resolve("bare.csv"), all.subList(1, all.size()));
        List<String> train = Files.readAllLines(kaggle);
        Path bareTrain = Files.write(dir.resolve("bare-train.csv"), train.subList(1, train.size()));
        for (String command : new String[] {"eval", "predict"}) {
            for (String[] given : new String[][] {{"--test-csv", bare.toString()}, {"--csv", bareTrain.toString()},
                {"--csv", kaggle.toString(), "--test-csv", bare.toString()}}) {
                String file = given[given.length - 1];
                assertRefused(CliRun.of(concat(new String[] {command, "--backend", "cpu", "--model", model}, given)),
                        given[given.length - 2] + " " + file + " has no header line, but " + model + " reads its "
                        + "label from the column named 'label' (backprop.label_column), as the file it was trained "
                        + "on had a header naming it: add that header line, naming 'label' in the label's place, as "
                        + "the first line of " + file);
            }
        }
    }

    @Test
    void checkpointsRecordTheColumnAndResumeByIt() throws IOException {
        Path kaggle = kaggle("kaggle.csv", 300);
        Path ck = dir.resolve("ck.st");
        CliRun.train(ThreeClassCsv.adamRun(kaggle, 2, dir.resolve("m.st")), "--label-column", "label",
                "--checkpoint", ck.toString()).ok();
        assertEquals("label", metadata(ck));
        Path resumed = dir.resolve("resumed.st");
        CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv", kaggle.toString(), "--epochs", "3",
                "--out", resumed.toString()).ok();
        assertEquals("label", metadata(resumed), "the checkpoint's column, read without --label-column");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--resume", ck.toString(), "--csv", kaggle.toString(),
                "--epochs", "3", "--label-column", "x1", "--out", dir.resolve("never.st").toString()),
                "--label-column x1 is not the column " + ck + " was trained with, label: leave it out or give label"
                        + " (a header name: the CSV needs a header line naming it, as the training file had)");
        List<String> lines = Files.readAllLines(kaggle);
        Path bare = Files.write(dir.resolve("bare.csv"), lines.subList(1, lines.size()));
        for (String[] column : new String[][] {{}, {"--label-column", "label"}}) {
            assertRefused(CliRun.of(concat(new String[] {"train", "--backend", "cpu", "--resume", ck.toString(),
                    "--csv", bare.toString(), "--epochs", "3", "--out", dir.resolve("never.st").toString()}, column)),
                    "--csv " + bare + " has no header line, but " + ck + " reads its label from the column named "
                    + "'label' (backprop.label_column), as the file it was trained on had a header naming it: add "
                    + "that header line, naming 'label' in the label's place, as the first line of " + bare);
        }
        assertFalse(Files.exists(dir.resolve("never.st")));
    }

    @Test
    void aColumnNotInTheFileIsRefusedBeforeTraining() throws IOException {
        Path kaggle = kaggle("kaggle.csv", 30);
        Path out = dir.resolve("never.st");
        String[] common = {"train", "--backend", "cpu", "--csv", kaggle.toString(), "--out", out.toString()};
        assertRefused(CliRun.of(concat(common, "--label-column", "lable")), kaggle + ": no column is named 'lable'; "
                + "the header has 5 columns: label, x1, x2, x3, x4");
        assertRefused(CliRun.of(concat(common, "--label-column", "5")), kaggle + ": label column 5 (index 5) is past "
                + "the last column: the file has 5 columns, indexed 0 to 4");
        Path bare = ThreeClassCsv.write(dir.resolve("bare.csv"), 30);
        assertRefused(CliRun.of("train", "--backend", "cpu", "--csv", bare.toString(), "--out", out.toString(),
                "--label-column", "label"), bare + ": label column 'label' names a header column, but the file has "
                + "no header line; give a 0-based index below 5");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--out", out.toString(), "--label-column", "label"),
                "--label-column label picks a column of a CSV; give --csv or --test-csv, or leave it out");
        assertRefused(CliRun.of(concat(common, "--label-column", " ")), "--label-column: a label column is a header "
                + "name or a 0-based index, got ' '");
        assertFalse(Files.exists(out));
    }

    @Test
    void regressionTargetsStartAtTheLabelColumn() throws IOException {
        Path first = relaid("reg.csv", "y1,y2,x1,x2,x3", 200, f -> String.join(",", f[0], f[1], f[2], f[3], f[4]));
        Path last = relaid("reg-last.csv", "x1,x2,x3,y1,y2", 200, f -> String.join(",", f[2], f[3], f[4], f[0],
                f[1]));
        String[] common = {"train", "--backend", "cpu", "--task", "regression", "--targets", "2", "--layers",
            "3-8-2", "--epochs", "1"};
        CliRun a = CliRun.of(concat(common, "--csv", first.toString(), "--label-column", "y1", "--out",
                dir.resolve("a.st").toString())).ok();
        CliRun b = CliRun.of(concat(common, "--csv", last.toString(), "--out", dir.resolve("b.st").toString())).ok();
        assertEquals(b.field("summary:", "test_rmse"), a.field("summary:", "test_rmse"));
        assertArrayEquals(CliRun.tensorBytes(dir.resolve("b.st")), CliRun.tensorBytes(dir.resolve("a.st")));
    }

    @Test
    void pandasNumericHeaderIsNotARow() throws IOException {
        // pd.DataFrame(array).to_csv(f, index=False): the header 0,1,2,3,4, then the rows
        Path pandas = relaid("pandas.csv", "0,1,2,3,4", 300, f -> String.join(",", f));
        Path plain = ThreeClassCsv.write(dir.resolve("plain.csv"), 300);
        CliRun p = CliRun.train(ThreeClassCsv.adamRun(pandas, 2, dir.resolve("p.st"))).ok();
        CliRun q = CliRun.train(ThreeClassCsv.adamRun(plain, 2, dir.resolve("q.st"))).ok();
        assertTrue(p.out().contains("(240 train / 60 held-out test rows, seed 0): 240 train, 60 test, 4 features, "
                + "3 classes"), p.out());
        assertEquals(q.field("summary:", "test_acc"), p.field("summary:", "test_acc"));
        assertArrayEquals(CliRun.tensorBytes(dir.resolve("q.st")), CliRun.tensorBytes(dir.resolve("p.st")));
        // its names are the column indices, so either picks the label
        CliRun.train(ThreeClassCsv.adamRun(pandas, 1, dir.resolve("n.st")), "--label-column", "4").ok();
    }

    /**
     * {@code train --spark} reads the label by name as the executors parse the lines, records the column, and
     * trains exactly as on the same rows with the label last; {@code eval} reads the file by the recorded column.
     */
    @Test
    void sparkReadsTheLabelByNameToo() throws IOException {
        Path kaggle = kaggle("kaggle.csv", 120);
        Path last = lastWithHeader("last.csv", 120);
        String[] common = {"train", "--spark", "local[2]", "--ranks", "2", "--layers", "4-8-3", "--epochs", "1",
            "--batch-size", "20"};
        CliRun.of(concat(common, "--csv", kaggle.toString(), "--label-column", "label", "--out",
                dir.resolve("k.st").toString())).ok();
        CliRun.of(concat(common, "--csv", last.toString(), "--out", dir.resolve("l.st").toString())).ok();
        assertArrayEquals(CliRun.tensorBytes(dir.resolve("l.st")), CliRun.tensorBytes(dir.resolve("k.st")));
        assertEquals("label", metadata(dir.resolve("k.st")));
        assertNull(metadata(dir.resolve("l.st")));
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", dir.resolve("k.st").toString(), "--csv",
                kaggle.toString(), "--test-csv", kaggle.toString()).ok();
        CliRun evalLast = CliRun.of("eval", "--backend", "cpu", "--model", dir.resolve("l.st").toString(),
                "--csv", last.toString(), "--test-csv", last.toString()).ok();
        assertEquals(evalLast.field("eval:", "test_acc"), eval.field("eval:", "test_acc"));
        assertRefused(CliRun.of(concat(common, "--csv", kaggle.toString(), "--label-column", "y", "--out",
                dir.resolve("never.st").toString())), kaggle + ": no column is named 'y'; the header has 5 columns: "
                + "label, x1, x2, x3, x4");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void anIndexColumnWithNoHeaderNameIsRefusedBeforeAnythingIsWritten() throws IOException {
        // pandas' df.to_csv(f) (index=True) and R's write.csv put the row number first under an empty header name
        int[] row = {0};
        Path pandas = relaid("pandas.csv", ",x1,x2,x3,x4,label", 60, f -> row[0]++ + "," + String.join(",", f));
        row[0] = 0;
        Path r = relaid("r.csv", "\"\",\"x1\",\"x2\",\"x3\",\"x4\",\"label\"", 60,
                f -> "\"" + ++row[0] + "\"," + String.join(",", f));
        String why = CsvData.headerProblem(new String[] {"", "x1"});
        for (Path csv : List.of(pandas, r)) {
            Path out = dir.resolve("index-" + csv.getFileName() + ".st");
            assertRefused(CliRun.train(ThreeClassCsv.adamRun(csv, 1, out)), csv + ": line 1: " + why);
            assertFalse(Files.exists(out), out.toString());
        }
        Path out = dir.resolve("plain.st");
        CliRun plain = CliRun.train(ThreeClassCsv.adamRun(lastWithHeader("plain.csv", 60), 1, out)).ok();
        assertTrue(plain.out().contains("4 features, 3 classes"), plain.out());
        assertTrue(Files.exists(out), out.toString());
    }
}
