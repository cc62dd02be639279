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
import static dev.backprop.data.DatasetArrays.targets;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The label column picked by name or index (scikit-learn's "which column is y"), and pandas' numeric header: a file
 * with the label first reads exactly as the same rows with it last.
 */
class CsvLabelColumnTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    @Test
    void kaggleLayoutReadsAsTheLabelMovedLast() throws IOException {
        Path kaggle = write("k.csv", "label,pixel1,pixel2,pixel3\n2,10,20,30\n0,40,50,60\n1,70,80,90\n");
        Path last = write("l.csv", "pixel1,pixel2,pixel3,label\n10,20,30,2\n40,50,60,0\n70,80,90,1\n");
        Dataset want = CsvData.readClassification(last, 3);
        for (LabelColumn c : List.of(LabelColumn.of("label"), LabelColumn.of("0"), new LabelColumn(null, 0))) {
            Dataset got = CsvData.readClassification(kaggle, 3, c);
            assertArrayEquals(new float[] {10, 20, 30, 40, 50, 60, 70, 80, 90}, features(got), c.toString());
            assertArrayEquals(features(want), features(got));
            assertArrayEquals(new int[] {2, 0, 1}, labels(got));
            assertEquals(3, got.featureSize());
        }
        // the class column reader looks at the same column: here 3 classes, not the 91 that pixel3 would make
        assertEquals(3, CsvData.readClassColumn(kaggle, LabelColumn.of("label")).numClasses());
        assertEquals(91, CsvData.readClassColumn(kaggle).numClasses());
    }

    @Test
    void aMiddleColumnOfNamesKeepsTheOthersInFileOrder() throws IOException {
        Path p = write("n.csv", "a,species,b\n1,cat,2\n3,dog,4\n");
        LabelColumn c = LabelColumn.of("species");
        CsvData.ClassColumn column = CsvData.readClassColumn(p, c);
        assertEquals(List.of("cat", "dog"), column.names());
        Dataset d = CsvData.readClassification(p, column.names(), c);
        assertArrayEquals(new float[] {1, 2, 3, 4}, features(d));
        assertArrayEquals(new int[] {0, 1}, labels(d));
    }

    @Test
    void regressionTargetsAreConsecutiveColumnsFromTheLabelColumn() throws IOException {
        Path p = write("r.csv", "x1,y1,y2,x2\n1,2,3,4\n5,6,7,8\n");
        Dataset d = CsvData.readRegression(p, 2, LabelColumn.of("y1"));
        assertArrayEquals(new float[] {1, 4, 5, 8}, features(d));
        assertArrayEquals(new float[] {2, 3, 6, 7}, targets(d));
        Dataset one = CsvData.readRegression(p, 1, LabelColumn.of("1"));
        assertArrayEquals(new float[] {1, 3, 4, 5, 7, 8}, features(one));
        assertArrayEquals(new float[] {2, 6}, targets(one));
        String m = assertThrows(DataFormatException.class,
                () -> CsvData.readRegression(p, 2, LabelColumn.of("x2"))).getMessage();
        assertEquals(p + ": label column x2 (index 3) with 2 target columns is past the last column: the file has 4 "
                + "columns, indexed 0 to 3", m);
    }

    @Test
    void aColumnThatIsNotThereIsRefusedNamingWhatIs() throws IOException {
        Path p = write("k.csv", "label,pixel1,pixel2,pixel3,pixel4,pixel5,pixel6\n1,2,3,4,5,6,7\n");
        assertEquals(p + ": no column is named 'lable'; the header has 7 columns: label, pixel1, pixel2, pixel3, "
                + "pixel4, ...", refused(p, "lable"));
        assertEquals(p + ": label column 7 (index 7) is past the last column: the file has 7 columns, indexed 0 to "
                + "6", refused(p, "7"));
        Path bare = write("b.csv", "1,2,3\n4,5,6\n");
        assertEquals(bare + ": label column 'label' names a header column, but the file has no header line; give a "
                + "0-based index below 3", refused(bare, "label"));
        Path twice = write("t.csv", "a,a,b\n1,2,3\n");
        assertTrue(refused(twice, "a").contains("columns 0 and 1 are both named 'a'"));
        assertThrows(IllegalArgumentException.class, () -> LabelColumn.of(" "));
        assertThrows(IllegalArgumentException.class, () -> LabelColumn.of("99999999999"));
    }

    private static String refused(Path p, String column) {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvData.readClassification(p, 10, LabelColumn.of(column)));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void pandasNumericHeaderIsAHeader() throws IOException {
        // pd.DataFrame(array).to_csv(f, index=False) names the columns 0..N-1
        Path p = write("p.csv", "0,1,2,3\n2,1.5,2.5,1\n0,4.5,5.5,0\n");
        Dataset d = CsvData.readClassification(p, 2);
        assertEquals(2, d.size());
        assertArrayEquals(new int[] {1, 0}, labels(d));
        assertEquals(2, CsvData.readClassColumn(p).numClasses());
        assertEquals(2, CsvData.readRows(p).rows());
        // its names are the indices, so a name and an index pick the same column
        Dataset first = CsvData.readClassification(p, 3, LabelColumn.of("0"));
        assertArrayEquals(new int[] {2, 0}, labels(first));
        assertArrayEquals(new float[] {1.5f, 2.5f, 1, 4.5f, 5.5f, 0}, features(first));
        assertTrue(CsvData.isHeader(new String[] {"0", " 1", "2\t"}));
        assertFalse(CsvData.isHeader(new String[] {"0", "1"}));        // two columns: plausibly data
        assertFalse(CsvData.isHeader(new String[] {"0", "1", "3"}));
        assertFalse(CsvData.isHeader(new String[] {"0.0", "1", "2"}));
        assertFalse(CsvData.isHeader(new String[] {"1", "2", "3"}));
        assertTrue(CsvData.isHeader(new String[] {"a", "b"}));
        // a data row 0,1 of a two-column file stays data
        assertEquals(2, CsvData.readRegression(write("two.csv", "0,1\n2,3\n"), 1).size());
    }

    /**
     * {@link CsvData#hasHeader} says what the readers decide of the first record, reading no further: a broken row
     * after it is not its concern.
     */
    @Test
    void hasHeaderLooksAtTheFirstRecordOnly() throws IOException {
        assertTrue(CsvData.hasHeader(write("h.csv", "a,b,label\n1,2,0\nnot,a,row,at all\n")));
        assertTrue(CsvData.hasHeader(write("bom.csv", "\uFEFF\n\n\"x, y\",b,c\r\n1,2,0\r\n")));
        assertTrue(CsvData.hasHeader(write("pandas.csv", "0,1,2\n1.5,2.5,1\n")));
        assertFalse(CsvData.hasHeader(write("n.csv", "1,2,0\nnot,a,row,at all\n")));
        assertFalse(CsvData.hasHeader(write("two.csv", "0,1\n2,3\n")));
        assertFalse(CsvData.hasHeader(write("empty.csv", "\n\n")));
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvData.hasHeader(dir.resolve("none.csv")));
        assertEquals(dir.resolve("none.csv") + ": file not found", e.getMessage());
    }

    /** A label that is no class number names the column the label was read from, not "the last column". */
    @Test
    void aLabelThatIsNoNumberNamesTheColumnUsed() throws IOException {
        Path p = write("named.csv", "label,a,b\n1,2,3\ncat,4,5\n");
        String tail = " holds each example's class as 0, 1, 2, ... (a column of class names reads with "
                + "readClassColumn)";
        assertEquals(p + ": line 3: label 'cat' is not a class number; column 'label'" + tail,
                assertThrows(DataFormatException.class,
                        () -> CsvData.readClassification(p, 3, LabelColumn.of("label"))).getMessage());
        assertEquals(p + ": line 3: label 'cat' is not a class number; column 0 (0-based)" + tail,
                assertThrows(DataFormatException.class,
                        () -> CsvData.readClassification(p, 3, LabelColumn.of("0"))).getMessage());
        Path last = write("last.csv", "2,3,1\n4,5,cat\n");
        assertEquals(last + ": line 2: label 'cat' is not a class number; the last column" + tail,
                assertThrows(DataFormatException.class, () -> CsvData.readClassification(last, 3)).getMessage());
    }
}
