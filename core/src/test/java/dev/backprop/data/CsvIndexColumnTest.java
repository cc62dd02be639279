package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.backprop.data.DatasetArrays.features;
import static dev.backprop.data.DatasetArrays.labels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A header whose first name is empty: pandas' {@code df.to_csv("x.csv")} (default {@code index=True}) writes the
 * frame's index there, {@code ,a,b,species} then {@code 0,5.1,3.5,setosa}; R's {@code write.csv} writes its row
 * names, {@code "","a","b","species"} then {@code "1",5.1,3.5,"setosa"}. Read as a feature the row number would
 * give away the class of a file sorted by class, so every file reader refuses it.
 */
class CsvIndexColumnTest {
    private static final String WHY = "the first column has no header name, as pandas' to_csv writes its index and"
            + " R's write.csv its row names; it would be read as a feature: write the file with index=False (pandas)"
            + " or row.names=FALSE (R)";
    /** What pandas writes for {@code df.to_csv(f, index=False)}, and the frame both layouts below hold. */
    private static final String PLAIN = "a,b,species\n5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n";
    private static final String PANDAS = ",a,b,species\n0,5.1,3.5,setosa\n1,7.0,3.2,versicolor\n"
            + "2,6.3,3.3,virginica\n";
    private static final String R = "\"\",\"a\",\"b\",\"species\"\n\"1\",5.1,3.5,\"setosa\"\n"
            + "\"2\",7.0,3.2,\"versicolor\"\n\"3\",6.3,3.3,\"virginica\"\n";

    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    @Test
    void pandasAndRIndexColumnsAreRefusedByEveryReader() throws IOException {
        List<String> classes = List.of("setosa", "versicolor", "virginica");
        for (String[] layout : new String[][] {{"pandas.csv", PANDAS}, {"r.csv", R}}) {
            Path p = write(layout[0], layout[1]);
            String m = p + ": line 1: " + WHY;
            assertEquals(m, assertThrows(DataFormatException.class, () -> CsvData.readClassColumn(p)).getMessage());
            assertEquals(m, assertThrows(DataFormatException.class,
                    () -> CsvData.readClassification(p, classes)).getMessage());
            assertEquals(m, assertThrows(DataFormatException.class,
                    () -> CsvData.readClassification(p, classes, LabelColumn.of("species"))).getMessage());
            Path numbers = write("n" + layout[0], layout[1].replace("setosa", "0").replace("versicolor", "1")
                    .replace("virginica", "2"));
            String n = numbers + ": line 1: " + WHY;
            assertEquals(n, assertThrows(DataFormatException.class,
                    () -> CsvData.readClassification(numbers, 3)).getMessage());
            assertEquals(n, assertThrows(DataFormatException.class,
                    () -> CsvData.readClassification(numbers, 3, LabelColumn.of("1"))).getMessage());
            assertEquals(n, assertThrows(DataFormatException.class,
                    () -> CsvData.readRegression(numbers, 1)).getMessage());
            assertEquals(n, assertThrows(DataFormatException.class, () -> CsvData.readRows(numbers)).getMessage());
        }
    }

    @Test
    void theSameFrameWithoutItsIndexReadsItsOwnColumns() throws IOException {
        Dataset d = CsvData.readClassification(write("plain.csv", PLAIN),
                List.of("setosa", "versicolor", "virginica"));
        assertArrayEquals(new float[] {5.1f, 3.5f, 7.0f, 3.2f, 6.3f, 3.3f}, features(d));
        assertArrayEquals(new int[] {0, 1, 2}, labels(d));
        // An index under a name, or no header at all, is data the user asked for: read as the column it is
        CsvData.Rows named = CsvData.readRows(write("named.csv", "id,a\n0,5.1\n1,7.0\n"));
        assertArrayEquals(new float[] {0, 5.1f, 1, 7.0f}, named.values());
        CsvData.Rows bare = CsvData.readRows(write("bare.csv", "0,5.1\n1,7.0\n"));
        assertArrayEquals(new float[] {0, 5.1f, 1, 7.0f}, bare.values());
    }

    @Test
    void onlyTheFirstHeaderNameMustBeThere() throws IOException {
        assertNull(CsvData.headerProblem(new String[] {"a", "", "y"}));
        assertEquals(WHY, CsvData.headerProblem(new String[] {" \t", "a", "y"}));
        // An empty name further on reads as today: the column is a feature, and --label-column cannot name it
        CsvData.Rows rows = CsvData.readRows(write("gap.csv", "a,,y\n1,2,3\n"));
        assertArrayEquals(new float[] {1, 2, 3}, rows.values());
    }
}
