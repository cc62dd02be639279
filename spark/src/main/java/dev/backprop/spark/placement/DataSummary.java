package dev.backprop.spark.placement;

import dev.backprop.model.Task;
import dev.backprop.spark.Example;

import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one partition (or, merged, the whole RDD) holds: example count, feature length, and labels (with the
 * examples of each class) or target width. The driver computes it in one pass before training, so that bad data
 * fails at once with a clear message instead of in every rank of every stage attempt.
 *
 * @param examples    number of examples
 * @param features    features per example (-1 when there are no examples)
 * @param labelled    whether the examples carry labels (meaningless when empty)
 * @param targets     targets per example for unlabelled data, else 0
 * @param maxLabel    the largest label seen, or -1
 * @param labelCounts the number of examples of each label seen (a map, since a label may be large before it is
 *                    checked against the classes)
 */
public record DataSummary(long examples, int features, boolean labelled, int targets, int maxLabel,
                          Map<Integer, Long> labelCounts) implements Serializable {
    /** Takes a copy of the counts. */
    public DataSummary {
        labelCounts = new TreeMap<>(labelCounts);
    }

    /** Summarises one partition. */
    public static DataSummary of(Iterator<Example> it, int partition) {
        long n = 0;
        int features = -1;
        int targets = 0;
        int maxLabel = -1;
        boolean labelled = false;
        Map<Integer, Long> counts = new TreeMap<>();
        while (it.hasNext()) {
            Example e = it.next();
            if (n == 0) {
                features = e.features().length;
                labelled = e.hasLabel();
                targets = labelled ? 0 : e.targets().length;
            } else if (e.features().length != features || e.hasLabel() != labelled
                    || (!labelled && e.targets().length != targets)) {
                throw new IllegalArgumentException("partition " + partition + ", example " + n + ": " + e
                        + " differs from the partition's first example (" + describe(features, labelled, targets)
                        + ")");
            }
            if (labelled) {
                maxLabel = Math.max(maxLabel, e.label());
                counts.merge(e.label(), 1L, Long::sum);
            }
            n++;
        }
        return new DataSummary(n, features, labelled, targets, maxLabel, counts);
    }

    private static String describe(int features, boolean labelled, int targets) {
        return features + " features, " + (labelled ? "a label" : targets + " targets");
    }

    /**
     * Merges the partitions' summaries.
     *
     * @throws IllegalArgumentException naming the partition whose examples differ from the first non-empty one
     */
    public static DataSummary merge(List<DataSummary> parts) {
        DataSummary first = parts.stream().filter(p -> p.examples > 0).findFirst().orElse(null);
        if (first == null) {
            throw new IllegalArgumentException("the training data is empty (" + parts.size() + " empty partitions)");
        }
        long n = 0;
        int maxLabel = -1;
        Map<Integer, Long> counts = new TreeMap<>();
        for (int i = 0; i < parts.size(); i++) {
            DataSummary p = parts.get(i);
            if (p.examples > 0 && (p.features != first.features || p.labelled != first.labelled
                    || p.targets != first.targets)) {
                throw new IllegalArgumentException("partition " + i + " holds examples with "
                        + describe(p.features, p.labelled, p.targets) + " but an earlier partition has "
                        + describe(first.features, first.labelled, first.targets));
            }
            n += p.examples;
            maxLabel = Math.max(maxLabel, p.maxLabel);
            p.labelCounts.forEach((label, c) -> counts.merge(label, c, Long::sum));
        }
        return new DataSummary(n, first.features, first.labelled, first.targets, maxLabel, counts);
    }

    /** The partition sizes, for messages and the shard plan. */
    public static int[] sizes(List<DataSummary> parts) {
        return parts.stream().mapToInt(p -> Math.toIntExact(p.examples)).toArray();
    }

    /**
     * The number of classes to train with: {@code given} when positive (checked against the labels), else the
     * largest label plus one; 0 for unlabelled data. Also checks that the data suits {@code task}.
     *
     * @param classNames the classes' names in label order (for the messages), or null
     * @throws IllegalArgumentException saying what the data holds and what the task needs, or that classification
     *                                  needs at least 2 classes to train ({@link Task#classesToTrain})
     */
    public int classes(Task task, int given, List<String> classNames) {
        if (task == Task.CLASSIFICATION) {
            if (!labelled) {
                throw new IllegalArgumentException("task classification needs labelled examples, but they have "
                        + targets + " target(s); use task regression or binary");
            }
            if (given > 0 && maxLabel >= given) {
                throw new IllegalArgumentException("label " + maxLabel + " is outside the " + given
                        + " classes given");
            }
            return Task.classesToTrain(given > 0 ? given : maxLabel + 1, classNames);
        }
        if (labelled) {
            throw new IllegalArgumentException("task " + task.id() + " needs examples with targets, but they carry "
                    + "class labels");
        }
        if (task == Task.BINARY && targets != 1) {
            throw new IllegalArgumentException("task binary needs one 0/1 target per example, got " + targets);
        }
        return 0;
    }

    /**
     * The number of examples of each of {@code classes} classes, in label order (0 for a class without examples);
     * the labels must lie in the classes ({@link #classes} checks that).
     */
    public long[] classCounts(int classes) {
        long[] out = new long[classes];
        labelCounts.forEach((label, c) -> out[label] += c);
        return out;
    }

    @Override
    public String toString() {
        return examples + " examples of " + describe(features, labelled, targets)
                + (labelled ? " (largest label " + maxLabel + ")" : "");
    }
}
