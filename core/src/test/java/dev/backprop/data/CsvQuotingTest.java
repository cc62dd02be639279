package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.backprop.data.DatasetArrays.features;
import static dev.backprop.data.DatasetArrays.labels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 4180 quoting in every CSV reader, as Python's {@code csv} module reads the same text (its default dialect:
 * a field starting with a quote runs to the next lone quote, {@code ""} inside stands for one quote, commas and line
 * breaks inside belong to the field), and the limits kept for records that span lines.
 */
class CsvQuotingTest {
    @TempDir
    Path dir;

    private Path write(String content) throws IOException {
        Path p = dir.resolve("q.csv");
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    private String refused(Path p) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> CsvData.readRows(p));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aQuotedHeaderWithCommasIsOneHeaderFieldEach() throws IOException {
        // csv.reader: ['sepal, length', 'petal, width', 'y'], then ['1', '2', '3']
        Dataset d = CsvData.readRegression(write("\"sepal, length\",\"petal, width\",\"y\"\n1,2,3\n"), 1);
        assertEquals(1, d.size());
        assertArrayEquals(new float[] {1, 2}, features(d));
    }

    @Test
    void quotedClassNamesHoldCommasAndDoubledQuotes() throws IOException {
        // pandas' to_csv quotes "T-shirt, top"; csv.reader gives 'T-shirt, top' and 'say "hi"', quotes gone
        Path p = write("x,label\n1,\"T-shirt, top\"\n2,Dress\n3,\"say \"\"hi\"\"\"\n4,\"Dress\"\n");
        CsvData.ClassColumn c = CsvData.readClassColumn(p);
        assertEquals(List.of("Dress", "T-shirt, top", "say \"hi\""), c.names());
        Dataset d = CsvData.readClassification(p, c.names());
        assertArrayEquals(new int[] {1, 0, 2, 0}, labels(d));
        assertArrayEquals(new float[] {1, 2, 3, 4}, features(d));
    }

    @Test
    void quotedNumbersAreNumbers() throws IOException {
        // R's write.csv quotes strings only, but pandas (quoting=QUOTE_ALL) quotes numbers too; csv.reader gives
        // '1.5', and float('1.5') is the number
        CsvData.Rows r = CsvData.readRows(write("\"1.5\",\"-2\",3\n\" 4 \",5e1,\"6\"\n"));
        assertArrayEquals(new float[] {1.5f, -2, 3, 4, 50, 6}, r.values());
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> CsvData.readRows(write("1,\"2,5\"\n")));
        assertTrue(e.getMessage().contains("line 1, column 2: '2,5' is not a number"), e.getMessage());
    }

    @Test
    void crlfAndTheByteOrderMarkWorkWithAQuotedHeader() throws IOException {
        // Excel writes "CSV UTF-8" with a byte-order mark and CRLF; csv.reader (encoding='utf-8-sig') gives
        // ['a, b', 'y'], ['1', '2'], ['3', '4']
        CsvData.Rows r = CsvData.readRows(write("\uFEFF\"a, b\",\"y\"\r\n\"1\",2\r\n3,\"4\"\r\n"));
        assertEquals(2, r.columns());
        assertArrayEquals(new float[] {1, 2, 3, 4}, r.values());
        assertArrayEquals(new int[] {2, 3}, r.lines());
    }

    @Test
    void aQuotedLineBreakBelongsToItsFieldAndLinesStayCounted() throws IOException {
        // csv.reader: ['a\nb', 'y'] (lines 1-2), then ['1', '2'] on line 3 and ['3', '4'] on line 5 after a blank line
        CsvData.Rows r = CsvData.readRows(write("\"a\nb\",y\n1,2\n\n3,\"4\"\n"));
        assertArrayEquals(new float[] {1, 2, 3, 4}, r.values());
        assertArrayEquals(new int[] {3, 5}, r.lines());
        String m = refused(write("x,\"y\r\nz\"\n1,2\n3\n"));
        assertTrue(m.endsWith(": line 4 has 1 column, expected 2"), m);
    }

    @Test
    void aQuotedEmptyFieldIsARowNotABlankLine() throws IOException {
        // csv.writer writes [''] as '""' so that it is not a blank line (pandas writes a lone NaN so too), and
        // csv.reader gives [''] back: the row is there, and its empty field is not a number, as without quotes
        String m = refused(write("1\n\"\"\n2\n"));
        assertTrue(m.endsWith(": line 2, column 1: '' is not a number"), m);
        m = refused(write("x\n1\n\n  \n\" \"\n"));
        assertTrue(m.endsWith(": line 5, column 1: '' is not a number"), m);
        CsvData.Rows r = CsvData.readRows(write("1\n \n\t\n\n2\n"));
        assertArrayEquals(new float[] {1, 2}, r.values());
        assertArrayEquals(new int[] {1, 5}, r.lines());
    }

    @Test
    void anUnclosedQuoteIsRefusedWithItsLine() throws IOException {
        // csv.reader(strict=True) raises "unexpected end of data" for the same text
        String m = refused(write("a,b\n1,2\n\"3,4\n5,6\n"));
        assertTrue(m.contains(": line 3: a quoted field is not closed"), m);
    }

    @Test
    void textAfterAClosingQuoteIsRefusedWithItsLine() throws IOException {
        // csv.reader(strict=True) raises "',' expected after '\"'"
        String m = refused(write("1,2\n\"3\"x,4\n"));
        assertTrue(m.contains(": line 2: text after the closing quote of a field"), m);
        m = refused(write("\"a\nb\",c\n4,\"5\"\"6\n7\"8\n"));
        assertTrue(m.contains(": line 4: text after the closing quote"), m);
    }

    @Test
    void anOversizedQuotedFieldIsRefusedBeforeItIsHeld() throws IOException {
        // Short lines, so no line is too long: only the record is, and the parser would hold it all
        int lines = CsvData.MAX_LINE_CHARS / 8 * 3;
        String m = refused(write("a,b\n1,\"" + "1234567\n".repeat(lines) + "\"\n"));
        assertTrue(m.contains(": line 2: a record longer than " + CsvData.MAX_LINE_CHARS + " characters"), m);
        m = refused(write("1,\"" + "1".repeat(CsvData.MAX_LINE_CHARS) + "\"\n"));
        assertTrue(m.contains(": line 1 is longer than " + CsvData.MAX_LINE_CHARS + " characters"), m);
    }

    @Test
    void aRecordJustUnderTheLimitIsRead() throws IOException {
        // A header whose quoted field spans lines up to the limit: read, the limit is not cut short
        int lines = (CsvData.MAX_LINE_CHARS - 16) / 8;
        CsvData.Rows r = CsvData.readRows(write("\"" + "abcdefg\n".repeat(lines) + "\",y\n1,2\n"));
        assertArrayEquals(new float[] {1, 2}, r.values());
        assertArrayEquals(new int[] {lines + 2}, r.lines());
    }

    @Test
    void oneLineParsesUnderTheSameGrammar() {
        assertArrayEquals(new float[] {1.5f, 2, -3}, CsvData.parseRow("\"1.5\", 2,\"-3\""));
        assertArrayEquals(new String[] {"a, b", "say \"hi\"", " c "},
                CsvData.fields("\"a, b\",\"say \"\"hi\"\"\", c "));
        DataFormatException e = assertThrows(DataFormatException.class, () -> CsvData.parseRow("1,\"2"));
        assertTrue(e.getMessage().contains("a quoted field is not closed"), e.getMessage());
        e = assertThrows(DataFormatException.class, () -> CsvData.parseRow("1,\"2\"3"));
        assertTrue(e.getMessage().contains("text after the closing quote"), e.getMessage());
        // One line holds one row, as before quoting: a line break, trailing or quoted, is no part of a row
        for (String row : new String[] {"1,2\n", "1,2\r\n", "\"1\n\",2", "1\r2"}) {
            e = assertThrows(DataFormatException.class, () -> CsvData.parseRow(row), row);
            assertTrue(e.getMessage().contains(": one line holds one row"), e.getMessage());
        }
    }

    @Test
    void aLineWithoutQuotesSplitsAsCommonsCsvSplitsIt() {
        // fields() splits such a line at its commas without a parser; Commons CSV's lexer must agree on every one,
        // including the characters other formats treat specially (escape, comment, a byte-order mark, U+FFFE)
        char[] alphabet = {'1', '.', 'e', '-', 'a', ',', ',', ' ', '\t', '\\', '\'', '#', ';', '\u0000', '\u001e',
            '\uFEFF', '\uFFFE', '\u2028', '\u0085', '\u00a0'};
        List<String> lines = new ArrayList<>(List.of("", ",", ",,", "a,", ",a", " , ", "1,2,", "#1,2", "\\,\\"));
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            char[] line = new char[random.nextInt(12)];
            for (int j = 0; j < line.length; j++) {
                line[j] = alphabet[random.nextInt(alphabet.length)];
            }
            lines.add(new String(line));
        }
        for (String line : lines) {
            assertArrayEquals(CsvRecords.parsed(line), CsvRecords.fields(line), line);
        }
    }

    @Test
    void pythonsQuoteNonnumericFileReads() throws IOException {
        // python-nonnumeric.csv was written by
        //   csv.writer(f, quoting=csv.QUOTE_NONNUMERIC).writerows([
        //       ["sepal, length", "width \"cm\"", "multi\nline", "class"],
        //       [5.1, -0.25, 1e-3, "T-shirt, top"], [4.9, 3.0, 2.5e2, 'say "hi"'], [0.1, 7, -12.75, "Dress"]])
        // (CRLF after each record, a bare LF inside the quoted header field); csv.reader gives back those rows, the
        // numbers as repr wrote them: '5.1', '-0.25', '0.001', '4.9', '3.0', '250.0', '0.1', '7', '-12.75'.
        Path p = dir.resolve("python-nonnumeric.csv");
        try (InputStream in = CsvQuotingTest.class.getResourceAsStream("python-nonnumeric.csv")) {
            Files.write(p, in.readAllBytes());
        }
        CsvData.ClassColumn c = CsvData.readClassColumn(p);
        assertEquals(List.of("Dress", "T-shirt, top", "say \"hi\""), c.names());
        Dataset d = CsvData.readClassification(p, c.names());
        assertArrayEquals(new float[] {5.1f, -0.25f, 0.001f, 4.9f, 3.0f, 250.0f, 0.1f, 7, -12.75f}, features(d));
        assertArrayEquals(new int[] {1, 2, 0}, labels(d));
    }
}
