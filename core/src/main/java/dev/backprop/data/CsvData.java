package dev.backprop.data;

import dev.backprop.io.IoErrors;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads numeric CSV files: comma-separated numbers, an optional header line (a first line none of whose fields is a
 * number, or pandas' default column names {@code 0,1,...,N-1}: {@link #isHeader}), blank lines ignored, a UTF-8
 * byte-order mark skipped. Fields are quoted as RFC 4180 has it (R's
 * {@code write.csv}, pandas and Python's {@code csv} module write them so): a field that starts with a double quote
 * runs to the next lone one, and commas, line breaks and doubled quotes ({@code ""}, one quote) inside it are its
 * text; the split is Apache Commons CSV's. A quoted number is a number. Spaces and tabs around a field, or around
 * the text inside its quotes, are ignored; a quote after a space opens nothing (as in Python's {@code csv}). The
 * last {@code targetColumns} columns are the targets (or, for {@link #readClassification}, the single last column is
 * the class: an integer label, or a name from a list such as {@link #readClassColumn} gives); the others are the
 * features. Each reader also takes a {@link LabelColumn} that puts the label (the first target) elsewhere, by header
 * name or 0-based index, as Kaggle's {@code label,pixel1,...} files have it; the features stay in file order. A
 * header whose first field is empty is refused ({@link #headerProblem}): pandas' {@code to_csv} writes its index
 * there by default and R's {@code write.csv} its row names, row numbers that would otherwise be read as a feature.
 *
 * <p>Numbers are strict: an optional sign, digits with an optional fraction, an optional exponent
 * ({@code -1.5e3}, {@code .5}, {@code 2.}), surrounded by nothing but spaces and tabs. Java's own suffixes and hex
 * forms ({@code 5d}, {@code 5f}, {@code 0x1p3}), {@code NaN}, {@code Infinity} and control characters are refused,
 * and so is a value that overflows float32 ({@code 1e39}), checked after the conversion. Labels are whole numbers
 * below {@link #MAX_CLASSES}, or names from a given list. Lines are at most {@link #MAX_LINE_CHARS} characters, and
 * so is a record whose quoted field spans lines (refused once past the limit by at most 8 Ki characters read ahead);
 * an unclosed quote or text after a closing quote is refused with its line. The arrays grow only while the heap has
 * room for them.
 */
public final class CsvData {
    /** The most classes a label column may ask for: a million-class output layer is a typo, not a data set. */
    public static final int MAX_CLASSES = 10_000;
    /**
     * The longest line read: 4 Mi characters, over 100,000 features at full float precision. A record that spans
     * lines is held to the same bound.
     */
    public static final int MAX_LINE_CHARS = 1 << 22;
    private static final Pattern NUMBER =
            Pattern.compile("[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?");

    private CsvData() {
    }

    /** Regression (or binary 0/1) data: the last {@code targetColumns} columns are float targets. */
    public static Dataset readRegression(Path path, int targetColumns) {
        return readRegression(path, targetColumns, LabelColumn.LAST);
    }

    /**
     * Regression (or binary 0/1) data: {@code targetColumns} consecutive columns from {@code column} (for
     * {@link LabelColumn#LAST}, the last ones) are float targets, the others the features in file order.
     *
     * @throws DataFormatException when {@code column} is not in the file or its targets run past the last column
     */
    public static Dataset readRegression(Path path, int targetColumns, LabelColumn column) {
        Table t = read(path, null, column, targetColumns);
        if (targetColumns < 1 || targetColumns >= t.cols) {
            throw new DataFormatException(path + ": " + columns(t.cols) + " cannot hold " + targetColumns
                    + " target column(s) and at least one feature");
        }
        int nf = t.cols - targetColumns;
        float[] f = new float[t.rows * nf];
        float[] y = new float[t.rows * targetColumns];
        for (int r = 0; r < t.rows; r++) {
            System.arraycopy(t.values, r * t.cols, f, r * nf, nf);
            System.arraycopy(t.values, r * t.cols + nf, y, r * targetColumns, targetColumns);
        }
        return Dataset.regression(f, new int[] {nf}, y, targetColumns);
    }

    /**
     * Classification data: the last column is an integer label in {@code [0, numClasses)}.
     *
     * @throws IllegalArgumentException when {@code numClasses} is not in {@code [1, MAX_CLASSES]}
     */
    public static Dataset readClassification(Path path, int numClasses) {
        return readClassification(path, numClasses, LabelColumn.LAST);
    }

    /**
     * Classification data: {@code column} (for {@link LabelColumn#LAST}, the last one) is an integer label in
     * {@code [0, numClasses)}, the other columns the features in file order.
     *
     * @throws IllegalArgumentException when {@code numClasses} is not in {@code [1, MAX_CLASSES]}
     * @throws DataFormatException      when {@code column} is not in the file
     */
    public static Dataset readClassification(Path path, int numClasses, LabelColumn column) {
        Table t = read(path, (p, field, number, no) -> numberLabel(p, field, number, no, column), column, 1);
        if (numClasses < 1 || numClasses > MAX_CLASSES) {
            throw new IllegalArgumentException(path + ": " + numClasses + " classes is outside [1, " + MAX_CLASSES
                    + "]");
        }
        return classification(path, t, numClasses, null);
    }

    /**
     * Classification data whose last column names the class: label {@code k} is {@code classNames.get(k)}, matched
     * exactly (spaces and tabs around it aside). The names travel with the data set ({@link Dataset#classNames}), and
     * a model saved with them prints them. Read a training and a test file with the same list
     * ({@link #readClassColumn} finds a file's).
     *
     * @throws IllegalArgumentException when the list is empty, longer than {@link #MAX_CLASSES}, repeats a name or
     *                                  holds a character a terminal acts on ({@link Dataset#classNameProblem})
     * @throws DataFormatException      when a label is not one of the names
     */
    public static Dataset readClassification(Path path, List<String> classNames) {
        return readClassification(path, classNames, LabelColumn.LAST);
    }

    /**
     * Classification data whose {@code column} (for {@link LabelColumn#LAST}, the last one) names the class, as
     * {@link #readClassification(Path, List)} reads the last; the other columns are the features in file order.
     *
     * @throws IllegalArgumentException as {@link #readClassification(Path, List)}
     * @throws DataFormatException      when a label is not one of the names, or {@code column} is not in the file
     */
    public static Dataset readClassification(Path path, List<String> classNames, LabelColumn column) {
        if (classNames.isEmpty() || classNames.size() > MAX_CLASSES) {
            throw new IllegalArgumentException(path + ": " + classNames.size() + " class names is outside [1, "
                    + MAX_CLASSES + "]");
        }
        Map<String, Integer> index = new HashMap<>();
        for (String name : classNames) {
            String problem = Dataset.classNameProblem(name);
            if (problem != null) {
                throw new IllegalArgumentException(DataFormatException.oneLine(path + ": " + problem));
            }
            if (index.putIfAbsent(name, index.size()) != null) {
                throw new IllegalArgumentException(path + ": the class name '" + printable(name) + "' is listed twice");
            }
        }
        Table t = read(path, (p, field, number, no) -> {
            Integer k = index.get(trim(field));
            if (k == null) {
                throw new DataFormatException(path + ": line " + no + ": label '" + printable(trim(field))
                        + "' is not one of the " + classNames.size() + " classes " + shortList(classNames));
            }
            return k;
        }, column, 1);
        return classification(path, t, classNames.size(), List.copyOf(classNames));
    }

    /**
     * What a file's last column holds, found in one pass: class names, or class numbers.
     *
     * @param names      the distinct names, sorted, for {@link #readClassification(Path, List)}; empty when every
     *                   label is a number
     * @param numClasses how many classes: the names', else one more than the largest number (at most
     *                   {@link #MAX_CLASSES}; {@link #readClassification(Path, int)} checks each label)
     */
    public record ClassColumn(List<String> names, int numClasses) {
        /** Whether the column names the classes. */
        public boolean named() {
            return !names.isEmpty();
        }
    }

    /**
     * Reads what a file's last column holds: class names when any label is not a number (then every label is a
     * name), else class numbers.
     *
     * @throws DataFormatException when the file is not valid CSV, a label is empty or holds a character a terminal
     *                             acts on, or the file names more than {@link #MAX_CLASSES} classes
     */
    public static ClassColumn readClassColumn(Path path) {
        return readClassColumn(path, LabelColumn.LAST);
    }

    /**
     * Reads what a file's {@code column} (for {@link LabelColumn#LAST}, the last one) holds, as
     * {@link #readClassColumn(Path)} reads the last.
     *
     * @throws DataFormatException as {@link #readClassColumn(Path)}, and when {@code column} is not in the file
     */
    public static ClassColumn readClassColumn(Path path, LabelColumn column) {
        TreeSet<String> names = new TreeSet<>();
        boolean[] named = {false};
        double[] largest = {0};
        read(path, (p, field, number, no) -> {
            String name = trim(field);
            if (name.isEmpty()) {
                throw new DataFormatException(path + ": line " + no + ": label '' is empty");
            }
            String problem = Dataset.classNameProblem(name);
            if (problem != null) {
                throw new DataFormatException(path + ": line " + no + ": label: " + problem);
            }
            named[0] |= Double.isNaN(number);
            largest[0] = Double.isNaN(number) ? largest[0] : Math.max(largest[0], number);
            if (names.size() <= MAX_CLASSES) {
                names.add(name);
            }
            if (named[0] && names.size() > MAX_CLASSES) {
                throw new DataFormatException(path + ": line " + no + ": the " + (column.isLast() ? "last"
                        : "label") + " column holds more than " + MAX_CLASSES + " distinct labels, too many classes");
            }
            return 0;
        }, column, 1);
        return named[0] ? new ClassColumn(List.copyOf(names), names.size())
                : new ClassColumn(List.of(), (int) Math.min(largest[0], MAX_CLASSES - 1) + 1);
    }

    private static Dataset classification(Path path, Table t, int numClasses, List<String> classNames) {
        if (t.cols < 2) {
            throw new DataFormatException(path + ": needs at least one feature column and a label column");
        }
        int nf = t.cols - 1;
        float[] f = new float[t.rows * nf];
        int[] l = new int[t.rows];
        for (int r = 0; r < t.rows; r++) {
            System.arraycopy(t.values, r * t.cols, f, r * nf, nf);
            l[r] = (int) t.values[r * t.cols + nf];  // a whole number below MAX_CLASSES, checked while reading
            if (l[r] >= numClasses) {
                throw new DataFormatException(path + ": line " + t.lines[r] + ": label " + l[r]
                        + " is not a class in [0, " + numClasses + ")");
            }
        }
        return Dataset.classification(f, new int[] {nf}, l, numClasses, classNames);
    }

    /**
     * A label that must be a whole number in {@code [0, MAX_CLASSES)}: the exact value, so 2.0000001 is none.
     *
     * @param column the label column, named in the message for a label that is no number
     */
    private static float numberLabel(Path path, String field, double number, int no, LabelColumn column) {
        String held = column.isLast() ? "the last column" : column.name() != null
                ? "column '" + printable(column.name()) + "'" : "column " + column.index() + " (0-based)";
        String problem = Double.isNaN(number) ? "is not a class number; " + held + " holds each example's class "
                + "as 0, 1, 2, ... (a column of class names reads with readClassColumn)"
                : number != Math.rint(number) ? "is not a whole number"
                : number < 0 ? "is negative"
                : number >= MAX_CLASSES ? "is past the limit of " + MAX_CLASSES + " classes (real-valued targets "
                + "need a regression task)" : null;
        if (problem != null) {
            String shown = printable(trim(field));
            throw new DataFormatException(path + ": line " + no + ": label "
                    + (Double.isNaN(number) ? "'" + shown + "'" : shown) + " " + problem);
        }
        return (float) number;
    }

    private static String shortList(List<String> names) {
        List<String> shown = names.stream().limit(10).map(CsvData::printable).toList();
        return shown + (names.size() > shown.size() ? " (and " + (names.size() - shown.size()) + " more)" : "");
    }

    /**
     * Rows of features and nothing else (for {@code predict --rows}): every column is a feature, read under the same
     * grammar as the other readers (header line, blank lines, byte-order mark, strict numbers, equal column counts).
     */
    public static Rows readRows(Path path) {
        Table t = read(path, null, LabelColumn.LAST, 0);
        return new Rows(Arrays.copyOf(t.values, t.rows * t.cols), t.rows, t.cols, Arrays.copyOf(t.lines, t.rows));
    }

    /**
     * The rows of a file of features.
     *
     * @param values  {@code rows × columns} numbers, row after row
     * @param rows    how many rows (at least one)
     * @param columns how many numbers each row has
     * @param lines   each row's line number in the file, from 1 (header and blank lines are skipped)
     */
    public record Rows(float[] values, int rows, int columns, int[] lines) {
    }

    /**
     * Parses one CSV line of numbers (for {@code predict} on a single row, and for readers handed a file line by
     * line), as strictly as a file's lines: {@link #fields}, then {@link #parseFields}.
     *
     * @throws DataFormatException when the line is not valid CSV or a field is not a number
     */
    public static float[] parseRow(String line) {
        return parseFields(fields(line));
    }

    /**
     * The fields of one line of CSV under the file readers' RFC 4180 grammar, unquoted and not trimmed: a field
     * that starts with a quote ends at the next lone quote, a doubled quote inside it stands for one. A quoted
     * line break cannot be seen one line at a time, so a quote left open on the line is refused, and so is a line
     * break in {@code line}, trailing or quoted.
     *
     * @throws DataFormatException when the line holds a line break, a quote is left open on it or text follows a
     *                             closing quote
     */
    public static String[] fields(String line) {
        return CsvRecords.fields(line);
    }

    /**
     * The numbers of fields such as {@link #fields} gives, under the strict grammar, each checked to fit float32.
     *
     * @throws DataFormatException naming the column (from 1) of the first field that is not a number or overflows
     */
    public static float[] parseFields(String[] parts) {
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = toFloat(parse(parts[i]), parts[i], "column " + (i + 1));
        }
        return out;
    }

    /**
     * The value of one field under the strict grammar, or NaN when it is not a number.
     */
    private static double parse(String field) {
        String s = trim(field);
        return NUMBER.matcher(s).matches() ? Double.parseDouble(s) : Double.NaN;
    }

    /** {@code v} as a float, refusing a field that is not a number or overflows float32. */
    private static float toFloat(double v, String field, String where) {
        if (Double.isNaN(v)) {
            throw new DataFormatException(where + ": '" + printable(trim(field)) + "' is not a number");
        }
        float f = (float) v;
        if (!Float.isFinite(f)) {
            throw new DataFormatException(where + ": " + printable(trim(field)) + " overflows float32 (largest "
                    + Float.MAX_VALUE + ")");
        }
        return f;
    }

    private static String trim(String s) {
        int b = 0, e = s.length();
        while (b < e && (s.charAt(b) == ' ' || s.charAt(b) == '\t')) {
            b++;
        }
        while (e > b && (s.charAt(e - 1) == ' ' || s.charAt(e - 1) == '\t')) {
            e--;
        }
        return s.substring(b, e);
    }

    /** A field for a one-line message, long ones shortened; the exception escapes what a terminal acts on. */
    private static String printable(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** The numbers of a file, row after row ({@code rows × cols} of {@code values}), and each row's line number. */
    private record Table(int cols, int rows, float[] values, int[] lines) {
    }

    /** How the label column of a data row becomes its label value (the field, its number or NaN, the line). */
    @FunctionalInterface
    private interface LabelReader {
        float label(Path path, String field, double number, int no);
    }

    /**
     * Whether a file's first record is its header line rather than data: none of its fields is a number, or its
     * fields are exactly {@code 0,1,2,...,N-1} for {@code N >= 3} columns, the column names pandas writes for a
     * frame made from an array ({@code pd.DataFrame(array).to_csv(f, index=False)}); a data row of exactly those
     * numbers is implausible. Spaces and tabs around a field are ignored.
     *
     * @param fields the record's fields, as {@link #fields} gives them
     */
    public static boolean isHeader(String[] fields) {
        if (Arrays.stream(fields).allMatch(f -> Double.isNaN(parse(f)))) {
            return true;
        }
        if (fields.length < 3) {
            return false;
        }
        for (int i = 0; i < fields.length; i++) {
            if (!trim(fields[i]).equals(Integer.toString(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why a header line cannot be read, or null when it can: its first field is empty (spaces and tabs ignored,
     * quoted {@code ""} too), the layout of pandas' {@code to_csv} with its default {@code index=True} (the frame's
     * index first) and of R's {@code write.csv} (row names first). That column holds row numbers, which would be
     * read as a feature and, in a file sorted by class, give the label away. An empty name in another column is no
     * problem here.
     *
     * @param header the fields of a record {@link #isHeader} takes for a header, as {@link #fields} gives them
     * @return the problem, without the file's name, or null
     */
    public static String headerProblem(String[] header) {
        if (header.length == 0 || !trim(header[0]).isEmpty()) {
            return null;
        }
        return "the first column has no header name, as pandas' to_csv writes its index and R's write.csv its row "
                + "names; it would be read as a feature: write the file with index=False (pandas) or "
                + "row.names=FALSE (R)";
    }

    /**
     * The file's rows, each with its {@code targets} target columns from {@code column} moved after the features
     * (file order kept on both sides); {@code labels} reads the single label column, or is null when every column
     * is a number.
     */
    private static Table read(Path path, LabelReader labels, LabelColumn column, int targets) {
        TableBuilder t = new TableBuilder(path, labels, column, targets);
        records(path, t::line);
        return t.build();
    }

    /**
     * Whether the file's first record is a header line ({@link #isHeader}), as the readers take it (after a UTF-8
     * byte-order mark and blank lines, which they skip); false for a file without a record. Reads no further than that
     * record, so a caller can say what a header name needs before the rows are read.
     *
     * @param path the CSV file
     * @return whether the readers would take its first record for a header line
     * @throws DataFormatException when the file cannot be read or is not UTF-8 text, naming it, or when its first
     *                             record is malformed
     */
    public static boolean hasHeader(Path path) {
        boolean[] header = new boolean[1];
        try {
            records(path, (parts, no) -> {
                header[0] = isHeader(parts);
                throw FirstRecord.SEEN;
            });
        } catch (FirstRecord seen) {
            return header[0];
        }
        return false;  // no record at all
    }

    /** Ends {@link #hasHeader}'s walk at the first record; carries no stack trace, as it reports no error. */
    private static final class FirstRecord extends RuntimeException {
        static final FirstRecord SEEN = new FirstRecord();

        private FirstRecord() {
            super(null, null, false, false);
        }
    }

    /** Sends each record of the file to {@code sink} ({@link CsvRecords#forEach}), naming the file on any failure. */
    private static void records(Path path, CsvRecords.RecordSink sink) {
        try (BufferedReader in = Files.newBufferedReader(IoErrors.checkFile(path), StandardCharsets.UTF_8)) {
            CsvRecords.forEach(path, in, sink);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(path + ": file not found");
        } catch (CharacterCodingException e) {
            throw new DataFormatException(path + ": not UTF-8 text (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataFormatException(IoErrors.message(path, e), e);
        }
    }

    /** Collects the rows of a file, checking each field as it comes. */
    private static final class TableBuilder {
        private final Path path;
        private final LabelReader labels;
        private final LabelColumn column;
        private final int targets;
        private int cols = -1;
        private List<String> header;
        private int first = -1;
        private int rows;
        private float[] values = new float[1024];
        private int[] lines = new int[64];

        TableBuilder(Path path, LabelReader labels, LabelColumn column, int targets) {
            this.path = path;
            this.labels = labels;
            this.column = column;
            this.targets = targets;
        }

        void line(String[] parts, int no) {
            if (rows == 0 && header == null && isHeader(parts)) {
                String problem = headerProblem(parts);
                if (problem != null) {
                    throw new DataFormatException(path + ": line " + no + ": " + problem);
                }
                header = Arrays.stream(parts).map(CsvData::trim).toList();
                cols = parts.length;
                return;
            }
            double[] v = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                v[i] = parse(parts[i]);
            }
            if (cols >= 0 && parts.length != cols) {
                throw new DataFormatException(path + ": line " + no + " has " + columns(parts.length) + ", expected "
                        + cols);
            }
            cols = parts.length;
            if (first < 0) {
                first = column.isLast() ? Math.max(cols - targets, 0)
                        : column.resolve(path.toString(), header, cols, targets);
            }
            String where = path + ": line " + no + ", column ";
            float[] f = new float[cols];
            for (int i = 0; i < cols; i++) {
                f[i] = labels != null && i == first ? labels.label(path, parts[i], v[i], no)
                        : toFloat(v[i], parts[i], where + (i + 1));
            }
            add(column.isLast() ? f : LabelColumn.targetsLast(f, first, targets), no);
        }

        private void add(float[] v, int no) {
            long need = (long) (rows + 1) * cols;
            if (need > values.length) {
                values = Arrays.copyOf(values, grown(values.length, need, Float.BYTES));
            }
            if (rows == lines.length) {
                lines = Arrays.copyOf(lines, grown(lines.length, rows + 1L, Integer.BYTES));
            }
            System.arraycopy(v, 0, values, rows * cols, cols);
            lines[rows++] = no;
        }

        /** A capacity of at least {@code need}, half again the old one, once the heap is known to have room. */
        private int grown(int old, long need, int elementBytes) {
            long capacity = Math.max(need, old + (old >> 1));
            if (capacity > Integer.MAX_VALUE - 8) {
                capacity = need;
            }
            if (capacity > Integer.MAX_VALUE - 8) {
                throw new DataFormatException(path + ": more values than one array can hold (" + need + ")");
            }
            String shortfall = HeapBudget.shortfall(capacity * elementBytes);
            if (shortfall != null) {
                throw new DataFormatException(path + ": reading row " + (rows + 1) + " " + shortfall);
            }
            return (int) capacity;
        }

        Table build() {
            if (rows == 0) {
                throw new DataFormatException(path + ": no data rows");
            }
            return new Table(cols, rows, values, lines);
        }
    }

    private static String columns(int n) {
        return n + (n == 1 ? " column" : " columns");
    }
}
