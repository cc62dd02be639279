package dev.backprop.data;

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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CSV numbers under the strict grammar, checked after the cast to float32; the byte-order mark; label limits. */
class StrictCsvTest {
    @TempDir
    Path dir;

    private Path write(String content) throws IOException {
        Path p = dir.resolve("d.csv");
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    private String refused(String content, int targetColumns) throws IOException {
        Path p = write(content);
        DataFormatException e = assertThrows(DataFormatException.class, () -> CsvData.readRegression(p,
                targetColumns), content);
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\u0000"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void javaNumberFormsThatAreNotDecimalNumbersAreRefused() throws IOException {
        for (String bad : List.of("5d", "5f", "5D", "0x1p3", "0x10", "NaN", "nan", "Infinity", "-Infinity", "1_000",
                "1e", "e5", ".", "-", "+", "1.2.3", "5e+", "\u0000", "5\u0000", "\u00005", "٣", "5 5", "'5'")) {
            String m = refused("1,2\n3," + bad + "\n", 1);
            assertTrue(m.contains("line 2, column 2") && m.contains("is not a number"), bad + ": " + m);
        }
    }

    @Test
    void decimalFormsAreRead() throws IOException {
        Dataset d = CsvData.readRegression(write("a,b\n.5, -2.\n+1e3,\t7E-1 \r\n\n1.5e+2,0\r"), 1);
        assertEquals(3, d.size());
        float[] x = new float[3];
        d.gatherFeatures(d.identityOrder(), 0, 3, x);
        assertArrayEquals(new float[] {0.5f, 1000f, 150f}, x);
        float[] y = new float[3];
        d.gatherTargets(d.identityOrder(), 0, 3, y);
        assertArrayEquals(new float[] {-2f, 0.7f, 0f}, y);
    }

    @Test
    void valuesThatOverflowFloat32AreRefusedAfterTheCast() throws IOException {
        for (String big : List.of("1e39", "-3.5e38", "1e400", "340282356779733661637539395458142568448")) {
            String m = refused("1,2\n3," + big + "\n", 1);
            assertTrue(m.contains("line 2, column 2") && m.contains("overflows float32"), big + ": " + m);
        }
        assertEquals(Float.MAX_VALUE, CsvData.readRegression(write("3.4028235e38,1\n"), 1).features(0)[0]);
    }

    @Test
    void byteOrderMarkIsSkippedAndTheFirstRowKept() throws IOException {
        Dataset d = CsvData.readRegression(write("\uFEFF1,2\n3,4\n"), 1);
        assertEquals(2, d.size(), "the first row is data, not a header");
        assertEquals(1f, d.features(0)[0]);
        assertEquals(2, CsvData.readRegression(write("\uFEFFx,y\n1,2\n3,4\n"), 1).size());
    }

    @Test
    void aFirstLineWithSomeNumbersIsDataNotAHeader() throws IOException {
        String m = refused("1,NaN\n3,4\n", 1);
        assertTrue(m.contains("line 1, column 2: 'NaN' is not a number"), m);
    }

    @Test
    void labelsAreWholeNumbersBelowTheClassLimit() throws IOException {
        Path p = write("0.5,999999\n0.1,0\n");
        DataFormatException e = assertThrows(DataFormatException.class, () -> CsvData.readClassification(p,
                1_000_000));
        assertTrue(e.getMessage().contains("line 1: label 999999 is past the limit of 10000 classes"),
                e.getMessage());
        Path frac = write("0.5,2.0000001\n");
        assertTrue(assertThrows(DataFormatException.class, () -> CsvData.readClassification(frac, 3))
                .getMessage().contains("label 2.0000001 is not a whole number"));
        Path neg = write("0.5,-1\n");
        assertTrue(assertThrows(DataFormatException.class, () -> CsvData.readClassification(neg, 3))
                .getMessage().contains("label -1 is negative"));
        assertThrows(IllegalArgumentException.class, () -> CsvData.readClassification(write("0.5,1\n"),
                CsvData.MAX_CLASSES + 1));
        assertEquals(1, CsvData.readClassification(write("0.5,1.0\n"), 2).label(0));
    }

    @Test
    void aClassNameInTheLabelColumnIsNamedAsALabel() throws IOException {
        Path named = write("sepal,petal,species\n5.1,1.4,setosa\n");
        assertEquals(named + ": line 2: label 'setosa' is not a class number; the last column holds each example's "
                + "class as 0, 1, 2, ... (a column of class names reads with readClassColumn)",
                assertThrows(DataFormatException.class, () -> CsvData.readClassification(named, 3)).getMessage());
        Path both = write("5.1,x,setosa\n");
        assertEquals(both + ": line 1, column 2: 'x' is not a number", assertThrows(DataFormatException.class,
                () -> CsvData.readClassification(both, 3)).getMessage(), "a bad feature is named first");
    }

    @Test
    void classNamesInTheLabelColumnAreReadAgainstAList() throws IOException {
        Path iris = write("sepal,petal,species\n5.1,1.4,setosa\n6.3,6.0, virginica\n5.9,4.2,versicolor\n"
                + "4.9,1.5,setosa\n");
        CsvData.ClassColumn column = CsvData.readClassColumn(iris);
        List<String> names = column.names();
        assertEquals(List.of("setosa", "versicolor", "virginica"), names, "distinct, trimmed, sorted");
        assertEquals(3, column.numClasses());
        Dataset d = CsvData.readClassification(iris, names);
        assertEquals(4, d.size());
        assertEquals(3, d.numClasses());
        assertEquals(names, d.classNames());
        assertEquals(List.of(0, 2, 1, 0), java.util.stream.IntStream.range(0, 4).map(d::label).boxed().toList());
        assertEquals(6.3f, d.features(1)[0]);
        assertEquals(new CsvData.ClassColumn(List.of(), 4), CsvData.readClassColumn(write("0.5,1\n0.1,3\n0.2,0\n")),
                "numbered classes: no names, one more class than the largest");
        assertEquals(CsvData.MAX_CLASSES, CsvData.readClassColumn(write("0.5,1e9\n")).numClasses(),
                "readClassification names the bad label");

        Path test = write("5.0,1.3,setosa\n5.5,2.0,iris-x\n");
        assertEquals(test + ": line 2: label 'iris-x' is not one of the 3 classes [setosa, versicolor, virginica]",
                assertThrows(DataFormatException.class, () -> CsvData.readClassification(test, names)).getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> CsvData.readClassification(iris, List.of("a", "b", "a")));
        assertEquals(iris + ": the class name 'a' is listed twice", twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CsvData.readClassification(iris, List.of()));
        Path both = write("5.1,x,setosa\n");
        assertEquals(both + ": line 1, column 2: 'x' is not a number", assertThrows(DataFormatException.class,
                () -> CsvData.readClassification(both, names)).getMessage(), "features stay strict");
        Path empty = write("5.1,1.4,setosa\n5.2,1.1,\n");
        assertEquals(empty + ": line 2: label '' is empty", assertThrows(DataFormatException.class,
                () -> CsvData.readClassColumn(empty)).getMessage());
        Path escape = write("5.1,1.4,setosa\n5.2,1.1,\u001b[2Jx\n");
        assertEquals(escape + ": line 2: label: class name '\\u001B[2Jx' holds U+001B, a control "
                + "character", assertThrows(
                DataFormatException.class, () -> CsvData.readClassColumn(escape)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> CsvData.readClassification(iris,
                List.of("setosa", "versi\ncolor", "virginica")), "a model file could not hold it");
    }

    @Test
    void overlongLinesAndBadUtf8AreRefused() throws IOException {
        String m = refused("1," + "1".repeat(CsvData.MAX_LINE_CHARS) + "\n", 1);
        assertTrue(m.contains("line 1 is longer than " + CsvData.MAX_LINE_CHARS), m);
        Path p = dir.resolve("bad.csv");
        Files.write(p, new byte[] {'1', ',', (byte) 0xC3, (byte) 0x28, '\n'});
        assertTrue(assertThrows(DataFormatException.class, () -> CsvData.readRegression(p, 1)).getMessage()
                .contains("not UTF-8"));
    }

    @Test
    void readRowsTakesEveryColumnAsAFeatureUnderTheSameGrammar() throws IOException {
        CsvData.Rows rows = CsvData.readRows(write("\uFEFFa,b\n0.5, -1\n\n2,3e1\n"));
        assertEquals(2, rows.rows());
        assertEquals(2, rows.columns());
        assertArrayEquals(new float[] {0.5f, -1f, 2f, 30f}, rows.values());
        assertArrayEquals(new int[] {2, 4}, rows.lines());
        Path ragged = write("1,2\n3,4,5\n");
        assertEquals(ragged + ": line 2 has 3 columns, expected 2", assertThrows(DataFormatException.class,
                () -> CsvData.readRows(ragged)).getMessage());
        Path single = write("1,2\n3\n");
        assertEquals(single + ": line 2 has 1 column, expected 2", assertThrows(DataFormatException.class,
                () -> CsvData.readRows(single)).getMessage());
        Path hex = write("1,0x10\n");
        assertEquals(hex + ": line 1, column 2: '0x10' is not a number", assertThrows(DataFormatException.class,
                () -> CsvData.readRows(hex)).getMessage());
    }

    @Test
    void parseRowUsesTheSameGrammar() {
        assertArrayEquals(new float[] {0.5f, -1f}, CsvData.parseRow(" 0.5 , -1"));
        for (String row : List.of("NaN,1", "1,Infinity", "1e39,0", "5d,1", "0x1p3,1", "1,\u00002")) {
            DataFormatException e = assertThrows(DataFormatException.class, () -> CsvData.parseRow(row), row);
            assertTrue(e.getMessage().startsWith("column "), e.getMessage());
        }
    }
}
