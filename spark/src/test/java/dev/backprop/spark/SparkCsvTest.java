package dev.backprop.spark;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
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
}
