package dev.backprop.data;

import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * The records of a CSV file as RFC 4180 has them, split by Apache Commons CSV: fields between commas, a field that
 * starts with a quote runs to the next lone quote (commas and line breaks inside it belong to it, a doubled quote
 * stands for one), lines ended by CRLF, LF or CR. Everything {@link CsvData} reads goes through here: the file
 * readers through {@link #forEach}, one line at a time through {@link #fields}. Fields come back unquoted and
 * untrimmed; what they mean is {@link CsvData}'s business.
 *
 * <p>Commons CSV holds a record in memory whatever its length, so the reader it reads from counts: a line past
 * {@link CsvData#MAX_LINE_CHARS} is refused where it passes the limit, and so is a record spanning lines (a quoted
 * line break) once it has read {@link CsvData#MAX_LINE_CHARS} characters past what a record can hold, give or take
 * the {@link #CHUNK} read ahead.
 */
final class CsvRecords {
    /**
     * RFC 4180: comma, double quote, no escape character, no comments, spaces kept (they are the field's); an empty
     * line is a record of one empty field, so that every line break counts and line numbers stay exact.
     */
    private static final CSVFormat FORMAT = CSVFormat.RFC4180;
    /** The most characters handed to the parser per read: what it may hold beyond the record it parses. */
    static final int CHUNK = 8192;
    private static final char BOM = '\uFEFF';

    private CsvRecords() {
    }

    /** Takes each record that is not blank, with the line it starts on (from 1). */
    @FunctionalInterface
    interface RecordSink {
        void record(String[] fields, int line);
    }

    /**
     * Sends each record of {@code in} to {@code sink}, a byte-order mark at the start skipped and blank records (one
     * field of nothing but white space) left out.
     *
     * @throws DataFormatException on a line or record past the limit, an unclosed quote or text after a closing
     *                             quote, naming {@code path} and the line
     * @throws IOException         when {@code in} fails (a {@link java.nio.charset.CharacterCodingException} for
     *                             bytes that are not UTF-8)
     */
    static void forEach(Path path, Reader in, RecordSink sink) throws IOException {
        Bounded bounded = new Bounded(in, path);
        try (CSVParser parser = CSVParser.builder().setReader(bounded).setFormat(FORMAT).get()) {
            Iterator<CSVRecord> records = parser.iterator();
            while (true) {
                // Empty lines are records too (the format keeps them), so this is the line the next one starts on
                int start = (int) parser.getCurrentLineNumber() + 1;
                bounded.recordStarts(start);
                CSVRecord r;
                try {
                    if (!records.hasNext()) {
                        return;
                    }
                    r = records.next();
                } catch (UncheckedIOException e) {
                    throw malformed(path, start, parser, e.getCause());
                }
                String[] fields = r.values();
                // One blank field is a blank line unless it was quoted: "" is Python's and pandas' one empty field
                if (fields.length != 1 || !fields[0].isBlank() || bounded.quoteStarts(start)) {
                    sink.record(fields, start);
                }
            }
        }
    }

    /**
     * The fields of one line (a record that must not span lines), for readers that are handed a file line by line;
     * a line break anywhere in it (a trailing one too, or one inside quotes) is refused. A line with no quote is
     * split at its commas without a parser: under {@code FORMAT} only a quote at a field's start, a comma and a line
     * break mean anything to Commons CSV's lexer, so the fields are the same ({@code CsvQuotingTest} checks both
     * ways on random lines), and Spark's executors, which call this per line, pay for no parser and no 8 Ki buffer
     * per line.
     *
     * @throws DataFormatException when the line holds a line break, a quote is left open on it or text follows a
     *                             closing quote
     */
    static String[] fields(String line) {
        boolean quote = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\n' || c == '\r') {
                throw new DataFormatException("a line break (U+" + String.format("%04X", (int) c) + ") at character "
                        + (i + 1) + ": one line holds one row");
            }
            quote |= c == '"';
        }
        return quote ? parsed(line) : line.split(",", -1);
    }

    /** The fields of a line with no line break, through Commons CSV: what {@link #fields} gives. */
    static String[] parsed(String line) {
        try (CSVParser parser = CSVParser.parse(line, FORMAT)) {
            Iterator<CSVRecord> records = parser.iterator();
            try {
                String[] fields = records.hasNext() ? records.next().values() : new String[] {""};
                if (records.hasNext()) {
                    throw new DataFormatException("a line break outside quotes: one line holds one row");
                }
                return fields;
            } catch (UncheckedIOException e) {
                throw malformed(null, 1, parser, e.getCause());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // a String cannot fail to be read
        }
    }

    /** The one-line refusal of a record Commons CSV cannot split, or {@code e} itself when reading failed. */
    private static RuntimeException malformed(Path path, int start, CSVParser parser, IOException e)
            throws IOException {
        if (!(e instanceof CSVException)) {
            throw e;
        }
        // Commons CSV tells the two apart only in its message text; CsvQuotingTest expects each one-line refusal
        // on both paths, so an upgrade that rewords them (falling back to "not valid CSV") fails a test
        String m = String.valueOf(e.getMessage());
        if (m.contains("EOF reached before encapsulated token finished")) {
            return new DataFormatException(where(path, start) + "a quoted field is not closed (no quote ends the one "
                    + "that opens it " + (path == null ? "on the line: a quoted field cannot span lines here)"
                    : "before the end of the file)"), e);
        }
        if (m.contains("Invalid character between encapsulated token and delimiter")) {
            return new DataFormatException(where(path, (int) parser.getCurrentLineNumber()) + "text after the "
                    + "closing quote of a field (a quote inside a quoted field is written twice: \"\")", e);
        }
        return new DataFormatException(where(path, start) + "not valid CSV (" + m + ")", e);
    }

    /** Where a refusal happened: the file and line, or nothing for a single line (its caller names it). */
    private static String where(Path path, int line) {
        return path == null ? "" : path + ": line " + line + ": ";
    }

    /**
     * The reader under the parser: skips a leading byte-order mark, hands over at most {@link #CHUNK} characters a
     * read, and refuses a line longer than {@link CsvData#MAX_LINE_CHARS} (CRLF, LF and CR end one) or a record
     * that has run past the limit, before the parser can hold it.
     */
    private static final class Bounded extends FilterReader {
        private final Path path;
        private boolean started;
        private int line = 1;
        private int lineChars;
        private char last;
        private long read;
        private long recordRead;
        private int recordLine = 1;
        /**
         * The lines from the current record's on that start with a quote, ascending: at most the lines the parser
         * has read ahead or the record spans, so bounded as the record is.
         */
        private int[] quoted = new int[16];
        private int quotedHead;
        private int quotedTail;

        Bounded(Reader in, Path path) {
            super(in);
            this.path = path;
        }

        /** The parser is about to read the record that starts on {@code no}. */
        void recordStarts(int no) {
            recordRead = read;
            recordLine = no;
            while (quotedHead < quotedTail && quoted[quotedHead] < no) {
                quotedHead++;
            }
        }

        /** Whether line {@code no}, on or after the current record's, starts with a quote. */
        boolean quoteStarts(int no) {
            for (int i = quotedHead; i < quotedTail && quoted[i] <= no; i++) {
                if (quoted[i] == no) {
                    return true;
                }
            }
            return false;
        }

        private void quoteStartsLine() {
            if (quotedTail == quoted.length) {
                int live = quotedTail - quotedHead;
                int[] to = live * 2 > quoted.length ? new int[quoted.length * 2] : quoted;
                System.arraycopy(quoted, quotedHead, to, 0, live);
                quoted = to;
                quotedHead = 0;
                quotedTail = live;
            }
            quoted[quotedTail++] = line;
        }

        @Override
        public int read() throws IOException {
            char[] one = new char[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            int n = in.read(buf, off, Math.min(len, CHUNK));
            if (n > 0 && !started) {
                started = true;
                if (buf[off] == BOM) {
                    System.arraycopy(buf, off + 1, buf, off, --n);
                    if (n == 0) {
                        return read(buf, off, len);
                    }
                }
            }
            for (int i = off; i < off + n; i++) {
                char c = buf[i];
                if (c == '\n' || c == '\r') {
                    line += c == '\n' && last == '\r' ? 0 : 1;
                    lineChars = 0;
                } else if (lineChars == 0 && c == '"') {
                    quoteStartsLine();
                    lineChars++;
                } else if (++lineChars > CsvData.MAX_LINE_CHARS) {
                    throw new DataFormatException(path + ": line " + line + " is longer than "
                            + CsvData.MAX_LINE_CHARS + " characters");
                }
                last = c;
            }
            read += Math.max(n, 0);
            if (read - recordRead > CsvData.MAX_LINE_CHARS + (long) CHUNK) {
                throw new DataFormatException(path + ": line " + recordLine + ": a record longer than "
                        + CsvData.MAX_LINE_CHARS + " characters (a quoted field runs on over the line breaks: is a "
                        + "closing quote missing?)");
            }
            return n;
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public void mark(int limit) throws IOException {
            throw new IOException("mark not supported");
        }

        @Override
        public void reset() throws IOException {
            throw new IOException("reset not supported");
        }

        @Override
        public long skip(long n) throws IOException {
            throw new IOException("skip not supported");
        }
    }
}
