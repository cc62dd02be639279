package dev.backprop.spark;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.LabelColumn;
import dev.backprop.model.Task;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CSV read by Spark's executors splits its fields as the local reader does (RFC 4180 quoting), and refuses a
 * quoted line break, which reading line by line cannot see whole.
 */
class SparkCsvTest {
    private static JavaSparkContext sc;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[1]").setAppName("backprop-spark-csv-test")
                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    private String write(String content) throws IOException {
        Path p = dir.resolve("q.csv");
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p.toString();
    }

    @Test
    void quotedHeaderNumbersAndClassNamesReadAsLocally() throws IOException {
        // The names as CsvData.readClassColumn gives them: quotes gone, "" one quote, sorted
        String csv = write("\uFEFF\"x, one\",\"x two\",\"label\"\r\n1,\"2.5\",\"T-shirt, top\"\r\n"
                + "3,4,Dress\r\n\"5\",6,\"say \"\"hi\"\"\"\r\n");
        List<String> names = SparkData.csvClassNames(sc, csv);
        assertEquals(List.of("Dress", "T-shirt, top", "say \"hi\""), names);
        List<Example> rows = SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, names).collect();
        assertEquals(3, rows.size());
        assertArrayEquals(new float[] {1, 2.5f}, rows.get(0).features());
        assertEquals(List.of(1, 0, 2), rows.stream().map(Example::label).toList());
        assertArrayEquals(new float[] {5, 6}, rows.get(2).features());
    }

    @Test
    void theLabelColumnIsPickedByNameOrIndexAsLocally() throws IOException {
        // Kaggle's layout: the label first, under a header
        String csv = write("label,pixel1,pixel2\n2,10,20\n0,30,40\n1,50,60\n");
        Dataset local = CsvData.readClassification(Path.of(csv), 3, LabelColumn.of("label"));
        for (String column : List.of("label", "0")) {
            List<Example> rows = SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, List.of(),
                    LabelColumn.of(column)).collect();
            assertEquals(List.of(2, 0, 1), rows.stream().map(Example::label).toList());
            for (int i = 0; i < rows.size(); i++) {
                assertArrayEquals(local.features(i), rows.get(i).features());
                assertEquals(local.label(i), rows.get(i).label());
            }
        }
        String named = write("a,species,b\n1,cat,2\n3,dog,4\n");
        LabelColumn species = LabelColumn.of("species");
        List<String> names = SparkData.csvClassNames(sc, named, species);
        assertEquals(List.of("cat", "dog"), names);
        List<Example> rows = SparkData.csv(sc, named, Task.CLASSIFICATION, 1, 1, names, species).collect();
        assertArrayEquals(new float[] {3, 4}, rows.get(1).features());
        assertEquals(List.of(0, 1), rows.stream().map(Example::label).toList());
    }

    @Test
    void regressionTargetsFollowTheLabelColumnAndPandasHeaderIsAHeader() throws IOException {
        String csv = write("0,1,2,3\n1,2,3,4\n5,6,7,8\n");
        List<Example> rows = SparkData.csv(sc, csv, Task.REGRESSION, 2, 1, List.of(), LabelColumn.of("1")).collect();
        assertEquals(2, rows.size());
        assertArrayEquals(new float[] {1, 4}, rows.get(0).features());
        assertArrayEquals(new float[] {2, 3}, rows.get(0).targets());
        List<Example> last = SparkData.csv(sc, csv, Task.REGRESSION, 1, 1, List.of()).collect();
        assertEquals(2, last.size());
        assertArrayEquals(new float[] {8}, last.get(1).targets());
    }

    @Test
    void aLabelColumnNotInTheFileIsRefusedOnTheDriver() throws IOException {
        String csv = write("label,pixel1\n1,2\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> SparkData.csv(sc, csv,
                Task.CLASSIFICATION, 1, 1, List.of(), LabelColumn.of("y")));
        assertEquals(csv + ": no column is named 'y'; the header has 2 columns: label, pixel1", e.getMessage());
        assertThrows(DataFormatException.class, () -> SparkData.csvClassNames(sc, csv, LabelColumn.of("2")));
    }

    @Test
    void aQuoteAfterLeadingSpacesOpensNothingAsLocally() throws IOException {
        // Python's csv.reader (skipinitialspace=False) gives ['  "1"', '2', '0'] for the second line, and so does the
        // local reader, which refuses '  "1"' as a number; the executors must not trim the line into a quoted 1
        String csv = write("a,b,y\n  \"1\",2,0\n");
        DataFormatException local = assertThrows(DataFormatException.class,
                () -> CsvData.readRows(Path.of(csv)));
        assertTrue(local.getMessage().endsWith("line 2, column 1: '\"1\"' is not a number"), local.getMessage());
        SparkException e = assertThrows(SparkException.class,
                () -> SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, List.of()).collect());
        assertTrue(e.getMessage().contains("column 1: '\"1\"' is not a number"), e.getMessage());
    }

    @Test
    void aQuotedLineBreakIsRefusedNamingTheLine() throws IOException {
        String csv = write("a,b,y\n1,2,0\n3,\"4\n5\",1\n");
        SparkException e = assertThrows(SparkException.class,
                () -> SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, List.of()).collect());
        assertTrue(e.getMessage().contains(": '3,\"4': a quoted field is not closed"), e.getMessage());
    }

    @Test
    void anIndexColumnWithNoHeaderNameIsRefusedAsLocally() throws IOException {
        // pandas' df.to_csv(f) writes the index first under an empty name, R's write.csv its row names under ""
        String plain = "a,b,y\n5.1,3.5,0\n7.0,3.2,1\n";
        for (String layout : List.of(",a,b,y\n0,5.1,3.5,0\n1,7.0,3.2,1\n",
                "\"\",\"a\",\"b\",\"y\"\n\"1\",5.1,3.5,0\n\"2\",7.0,3.2,1\n")) {
            String csv = write(layout);
            String why = csv + ": " + CsvData.headerProblem(new String[] {"", "a"});
            assertTrue(why.contains("index=False"), why);
            SparkException e = assertThrows(SparkException.class,
                    () -> SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, List.of()).collect());
            assertTrue(e.getMessage().contains(why), e.getMessage());
            DataFormatException driver = assertThrows(DataFormatException.class, () -> SparkData.csv(sc, csv,
                    Task.CLASSIFICATION, 1, 1, List.of(), LabelColumn.of("y")));
            assertEquals(why, driver.getMessage());
            assertThrows(DataFormatException.class, () -> SparkData.csvClassNames(sc, csv, LabelColumn.of("y")));
        }
        String csv = write(plain);
        List<Example> rows = SparkData.csv(sc, csv, Task.CLASSIFICATION, 1, 1, List.of()).collect();
        assertArrayEquals(new float[] {7.0f, 3.2f}, rows.get(1).features());
        assertEquals(List.of(0, 1), rows.stream().map(Example::label).toList());
    }
}
