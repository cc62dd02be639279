package dev.backprop.spark;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.LabelColumn;
import dev.backprop.model.Task;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/** Training data as RDDs of {@link Example}s: Fashion-MNIST read on the driver, or a CSV read by the executors. */
public final class SparkData {
    private SparkData() {
    }

    /**
     * Fashion-MNIST's training split from {@code dir} (read on the driver, 47 MB of floats), optionally cut to
     * the first {@code limit} examples, in {@code ranks} partitions.
     */
    public static JavaRDD<Example> fashionMnist(JavaSparkContext sc, Path dir, Integer limit, int ranks) {
        Dataset train = FashionMnist.split(dir, "train");
        if (limit != null) {
            train = train.head(limit);
        }
        return SparkTrainer.parallelize(sc, train, ranks).persist(StorageLevel.MEMORY_ONLY());
    }

    /**
     * A numeric CSV at any path Spark reads ({@code hdfs://}, {@code s3a://}, a local file): comma-separated
     * numbers in {@link CsvData}'s strict grammar (RFC 4180 quoting included), an optional header line at the very
     * start, blank lines ignored; Spark reads the file line by line, so a quoted field cannot hold a line break (a
     * quote left open on its line is refused, naming the line; {@link CsvData#isHeader} tells a header, and
     * {@link CsvData#headerProblem} refuses one whose first name is empty, a pandas index or R's row names); the last
     * column is the class label
     * ({@link Task#CLASSIFICATION}: a number, or one of {@code classNames}, whose index it becomes) or the last
     * {@code targets} columns are the targets. Parsed by the executors, then spread over {@code ranks} partitions.
     *
     * @param classNames the names of the classes when the label column names them ({@link #csvClassNames}), else
     *                   empty
     * @throws IllegalArgumentException (from the executors, wrapped by Spark) naming a line that is not numbers, or
     *                                  whose label is not one of the names
     */
    public static JavaRDD<Example> csv(JavaSparkContext sc, String path, Task task, int targets, int ranks,
                                       List<String> classNames) {
        return csv(sc, path, task, targets, ranks, classNames, LabelColumn.LAST);
    }

    /**
     * The CSV as {@link #csv(JavaSparkContext, String, Task, int, int, List)} reads it, with the label (the first of
     * the {@code targets} consecutive target columns) in {@code column}, found from the file's first line on the
     * driver (its header for a name, its column count for an index); the features are the other columns in file
     * order.
     *
     * @throws DataFormatException when {@code column} is not in the file's first line
     */
    public static JavaRDD<Example> csv(JavaSparkContext sc, String path, Task task, int targets, int ranks,
                                       List<String> classNames, LabelColumn column) {
        if (task != Task.CLASSIFICATION && targets < 1) {
            throw new IllegalArgumentException("--targets must be at least 1, got " + targets);
        }
        int t = task == Task.CLASSIFICATION ? 1 : targets;
        boolean labelled = task == Task.CLASSIFICATION;
        List<String> names = labelled ? List.copyOf(classNames) : List.of();
        int at = labelIndex(sc, path, column, t);
        JavaRDD<Example> parsed = sc.textFile(path).mapPartitionsWithIndex(
                (part, lines) -> parse(lines, part == 0, t, at, labelled, names, path), false);
        JavaRDD<Example> spread = parsed.getNumPartitions() == ranks ? parsed : parsed.repartition(ranks);
        return spread.persist(StorageLevel.MEMORY_ONLY());
    }

    /**
     * The class names in a CSV's last column, sorted, as {@link dev.backprop.data.CsvData#readClassColumn} gives
     * them for a local file; empty when every label is a number. One pass over the file by the executors.
     *
     * @throws IllegalArgumentException when a name is empty or holds a character a terminal acts on, or there are
     *                                  more than {@link CsvData#MAX_CLASSES}
     */
    public static List<String> csvClassNames(JavaSparkContext sc, String path) {
        return csvClassNames(sc, path, LabelColumn.LAST);
    }

    /**
     * The class names in a CSV's {@code column}, as {@link #csvClassNames(JavaSparkContext, String)} reads the last.
     *
     * @throws DataFormatException when {@code column} is not in the file's first line
     */
    public static List<String> csvClassNames(JavaSparkContext sc, String path, LabelColumn column) {
        int at = labelIndex(sc, path, column, 1);
        List<String> labels = sc.textFile(path).mapPartitionsWithIndex((part, lines) -> labels(lines, part == 0, at,
                path), false).distinct().take(CsvData.MAX_CLASSES + 1);
        if (labels.stream().allMatch(SparkData::isNumber)) {
            return List.of();
        }
        if (labels.size() > CsvData.MAX_CLASSES) {
            throw new IllegalArgumentException(path + ": the last column holds more than " + CsvData.MAX_CLASSES
                    + " distinct labels, too many classes");
        }
        for (String name : labels) {
            String problem = name.isEmpty() ? "label '' is empty" : Dataset.classNameProblem(name);
            if (problem != null) {
                throw new IllegalArgumentException(DataFormatException.oneLine(path + ": " + problem));
            }
        }
        return labels.stream().sorted().toList();
    }

    /**
     * The 0-based index of the first target column {@code column} names, read from the file's first non-blank line
     * ({@link #firstLine}), or -1 for {@link LabelColumn#LAST}: each line's last columns.
     */
    private static int labelIndex(JavaSparkContext sc, String path, LabelColumn column, int targets) {
        if (column.isLast()) {
            return -1;
        }
        String[] fields = firstLine(sc, path);
        boolean isHeader = CsvData.isHeader(fields);
        List<String> header = isHeader ? Arrays.stream(fields).map(String::trim).toList() : null;
        return column.resolve(path, header, fields.length, targets);
    }

    /** Whether the CSV at {@code path} starts with a header line ({@link #firstLine}). */
    static boolean hasHeader(JavaSparkContext sc, String path) {
        return CsvData.isHeader(firstLine(sc, path));
    }

    /**
     * The fields of the file's first non-blank line: a header by {@link CsvData#isHeader}, refused as
     * {@link CsvData#headerProblem} has it, or a data row.
     *
     * @throws DataFormatException when the file has no such line or a header it refuses
     */
    private static String[] firstLine(JavaSparkContext sc, String path) {
        List<String> first = sc.textFile(path).filter(l -> !l.replace("\uFEFF", "").isBlank()).take(1);
        if (first.isEmpty()) {
            throw new DataFormatException(path + ": no data rows");
        }
        String[] fields;
        try {
            fields = CsvData.fields(first.get(0).trim().replace("\uFEFF", ""));
        } catch (DataFormatException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine(path + ": line 1: " + e.getMessage()));
        }
        String problem = CsvData.isHeader(fields) ? CsvData.headerProblem(fields) : null;
        if (problem != null) {
            throw new DataFormatException(path + ": " + problem);
        }
        return fields;
    }

    /** The distinct label fields (column {@code at}, or the last when -1) of a partition's data lines. */
    private static Iterator<String> labels(Iterator<String> lines, boolean mayHaveHeader, int at, String path) {
        Set<String> out = new LinkedHashSet<>();
        forEachDataLine(lines, mayHaveHeader, path,
                (line, fields) -> out.add(fields[at < 0 ? fields.length - 1 : within(at, 1, fields, line, path)]
                        .trim()));
        return out.iterator();
    }

    private static Iterator<Example> parse(Iterator<String> lines, boolean mayHaveHeader, int targets, int at,
                                           boolean labelled, List<String> names, String path) {
        Map<String, Integer> index = new HashMap<>();
        names.forEach(n -> index.put(n, index.size()));
        List<Example> out = new ArrayList<>();
        forEachDataLine(lines, mayHaveHeader, path, (line, fields) -> out.add(example(at < 0
                ? values(line, fields, index, path) : targetsLast(line, fields, index, at, targets, path), targets,
                labelled, path, line)));
        return out.iterator();
    }

    /** {@code at}, once the line has {@code targets} columns from it. */
    private static int within(int at, int targets, String[] fields, String line, String path) {
        if (at + targets > fields.length) {
            throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "' has " + fields.length
                    + " columns; the label column " + at + (targets > 1 ? " and its " + targets + " targets" : "")
                    + " need " + (at + targets));
        }
        return at;
    }

    /**
     * A line's numbers with the {@code targets} columns from {@code at} moved after the features (file order kept on
     * both sides), the label field replaced by its class index when {@code index} maps class names.
     */
    private static float[] targetsLast(String line, String[] fields, Map<String, Integer> index, int at, int targets,
                                       String path) {
        within(at, targets, fields, line, path);
        String[] numbers = fields.clone();
        Integer k = null;
        if (!index.isEmpty()) {
            String name = fields[at].trim();
            k = index.get(name);
            if (k == null) {
                throw new IllegalArgumentException(DataFormatException.oneLine(path + ": '" + abbreviate(line)
                        + "': the label '" + name + "' is not one of the " + index.size() + " classes"));
            }
            numbers[at] = "0";  // parsed in place, so an error names the file's column
        }
        float[] v;
        try {
            v = CsvData.parseFields(numbers);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine(path + ": '" + abbreviate(line) + "': "
                    + e.getMessage()));
        }
        if (k != null) {
            v[at] = k;
        }
        return LabelColumn.targetsLast(v, at, targets);
    }

    /**
     * Runs {@code action} on a partition's data lines, trimmed, and their fields ({@link CsvData#fields} of each
     * line untrimmed, so that a quote after leading spaces opens nothing, as in the local reader), as the local
     * reader takes them: blank lines skipped, and in the first partition a byte-order mark and a header (a first
     * line none of whose fields is a number, or pandas' {@code 0,1,...,N-1}: {@link CsvData#isHeader}), refused
     * when {@link CsvData#headerProblem} finds one. Spark hands over a file line by line, so a quoted field that
     * holds a line break is refused as a quote left open on its line.
     */
    private static void forEachDataLine(Iterator<String> lines, boolean mayHaveHeader, String path,
                                        BiConsumer<String, String[]> action) {
        boolean first = mayHaveHeader;
        while (lines.hasNext()) {
            String text = lines.next();
            String line = text.trim();
            if (first && line.startsWith("\uFEFF")) {
                text = text.substring(text.indexOf('\uFEFF') + 1);
                line = text.trim();
            }
            if (line.isEmpty()) {
                continue;
            }
            String[] fields;
            try {
                // The untrimmed text, as the local reader splits it: a quote after a space opens nothing there
                fields = CsvData.fields(text);
            } catch (DataFormatException e) {
                throw new IllegalArgumentException(DataFormatException.oneLine(path + ": '" + abbreviate(line) + "': "
                        + e.getMessage()));
            }
            if (first) {
                first = false;
                if (CsvData.isHeader(fields)) {
                    String problem = CsvData.headerProblem(fields);
                    if (problem != null) {
                        throw new IllegalArgumentException(path + ": " + problem);
                    }
                    continue;
                }
            }
            action.accept(line, fields);
        }
    }

    /**
     * A line's numbers in the local reader's grammar (the same file reads the same on the driver and on a cluster),
     * the last field replaced by its class index when {@code index} maps class names.
     */
    private static float[] values(String line, String[] fields, Map<String, Integer> index, String path) {
        try {
            if (index.isEmpty()) {
                return CsvData.parseFields(fields);
            }
            // A lone field is a label with no feature before it: an empty feature, refused as not a number
            float[] features = CsvData.parseFields(fields.length == 1 ? new String[] {""}
                    : Arrays.copyOf(fields, fields.length - 1));
            String name = fields[fields.length - 1].trim();
            Integer k = index.get(name);
            if (k == null) {
                throw new IllegalArgumentException(DataFormatException.oneLine(path + ": '" + abbreviate(line)
                        + "': the label '" + name + "' is not one of the " + index.size() + " classes"));
            }
            float[] v = Arrays.copyOf(features, features.length + 1);
            v[features.length] = k;
            return v;
        } catch (DataFormatException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine(path + ": '" + abbreviate(line) + "': "
                    + e.getMessage()));
        }
    }

    private static Example example(float[] v, int targets, boolean labelled, String path, String line) {
        if (v.length <= targets) {
            throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "' has " + v.length + " columns; "
                    + "need at least one feature and " + targets + " target column(s)");
        }
        float[] x = Arrays.copyOf(v, v.length - targets);
        if (!labelled) {
            return Example.withTargets(x, Arrays.copyOfRange(v, v.length - targets, v.length));
        }
        float label = v[v.length - 1];
        if (label < 0 || label != Math.rint(label)) {
            throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "': the label " + label
                    + " is not a class number >= 0");
        }
        return Example.labelled(x, (int) label);
    }

    private static boolean isNumber(String field) {
        try {
            CsvData.parseFields(new String[] {field});
            return true;
        } catch (DataFormatException e) {
            return false;
        }
    }

    private static String abbreviate(String line) {
        return line.length() <= 60 ? line : line.substring(0, 57) + "...";
    }
}
