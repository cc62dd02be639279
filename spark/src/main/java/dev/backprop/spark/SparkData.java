package dev.backprop.spark;

import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.model.Task;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

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
     * numbers, an optional header line at the very start, blank lines ignored; the last column is the class label
     * ({@link Task#CLASSIFICATION}) or the last {@code targets} columns are the targets. Parsed by the executors,
     * then spread over {@code ranks} partitions.
     *
     * @throws IllegalArgumentException (from the executors, wrapped by Spark) naming a line that is not numbers
     */
    public static JavaRDD<Example> csv(JavaSparkContext sc, String path, Task task, int targets, int ranks) {
        if (task != Task.CLASSIFICATION && targets < 1) {
            throw new IllegalArgumentException("--targets must be at least 1, got " + targets);
        }
        int t = task == Task.CLASSIFICATION ? 1 : targets;
        boolean labelled = task == Task.CLASSIFICATION;
        JavaRDD<Example> parsed = sc.textFile(path).mapPartitionsWithIndex(
                (part, lines) -> parse(lines, part == 0, t, labelled, path), false);
        JavaRDD<Example> spread = parsed.getNumPartitions() == ranks ? parsed : parsed.repartition(ranks);
        return spread.persist(StorageLevel.MEMORY_ONLY());
    }

    private static Iterator<Example> parse(Iterator<String> lines, boolean mayHaveHeader, int targets,
                                           boolean labelled, String path) {
        List<Example> out = new ArrayList<>();
        boolean first = true;
        while (lines.hasNext()) {
            String line = lines.next().trim();
            if (line.isEmpty()) {
                continue;
            }
            float[] v;
            try {
                v = numbers(line);
            } catch (NumberFormatException e) {
                if (first && mayHaveHeader) {
                    first = false;
                    continue;
                }
                throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "' is not a line of numbers");
            }
            first = false;
            out.add(example(v, targets, labelled, path, line));
        }
        return out.iterator();
    }

    private static Example example(float[] v, int targets, boolean labelled, String path, String line) {
        if (v.length <= targets) {
            throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "' has " + v.length + " columns; "
                    + "need at least one feature and " + targets + " target column(s)");
        }
        float[] x = java.util.Arrays.copyOf(v, v.length - targets);
        if (!labelled) {
            return Example.withTargets(x, java.util.Arrays.copyOfRange(v, v.length - targets, v.length));
        }
        float label = v[v.length - 1];
        if (label < 0 || label != Math.rint(label)) {
            throw new IllegalArgumentException(path + ": '" + abbreviate(line) + "': the label " + label
                    + " is not a class number >= 0");
        }
        return Example.labelled(x, (int) label);
    }

    private static float[] numbers(String line) {
        String[] parts = line.split(",", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i].trim());
        }
        return out;
    }

    private static String abbreviate(String line) {
        return line.length() <= 60 ? line : line.substring(0, 57) + "...";
    }
}
