package dev.backprop.spark.placement;

import dev.backprop.data.Dataset;
import dev.backprop.model.Task;
import dev.backprop.spark.Example;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Conversions between a partition of {@link Example}s and the host {@link Dataset} a rank trains on. */
public final class Shards {
    private Shards() {
    }

    /**
     * Collects a partition into a data set for {@code task}.
     *
     * @param classes the number of classes (classification), else ignored
     * @throws IllegalArgumentException when the examples do not suit the task or differ in shape
     */
    public static Dataset toDataset(Iterator<Example> examples, Task task, int classes) {
        List<Example> list = new ArrayList<>();
        examples.forEachRemaining(list::add);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("this rank's partition is empty; repartition the data so that every "
                    + "partition holds examples");
        }
        int f = list.get(0).features().length;
        float[] x = new float[Math.multiplyExact(list.size(), f)];
        for (int i = 0; i < list.size(); i++) {
            float[] e = list.get(i).features();
            if (e.length != f) {
                throw new IllegalArgumentException("example " + i + " of this partition has " + e.length
                        + " features, the first has " + f);
            }
            System.arraycopy(e, 0, x, i * f, f);
        }
        Dataset d = task == Task.CLASSIFICATION ? labelled(list, x, f, classes) : withTargets(list, x, f);
        task.check(d);
        return d;
    }

    private static Dataset labelled(List<Example> list, float[] x, int f, int classes) {
        int[] y = new int[list.size()];
        for (int i = 0; i < y.length; i++) {
            if (!list.get(i).hasLabel()) {
                throw new IllegalArgumentException("task classification needs labels; example " + i + " has targets");
            }
            y[i] = list.get(i).label();
        }
        return Dataset.classification(x, new int[] {f}, y, classes, null);
    }

    private static Dataset withTargets(List<Example> list, float[] x, int f) {
        if (list.get(0).hasLabel()) {
            throw new IllegalArgumentException("this task needs examples with targets; they carry class labels");
        }
        int t = list.get(0).targets().length;
        float[] y = new float[Math.multiplyExact(list.size(), t)];
        for (int i = 0; i < list.size(); i++) {
            float[] e = list.get(i).targets();
            if (e == null || e.length != t) {
                throw new IllegalArgumentException("example " + i + " of this partition has "
                        + (e == null ? "a label" : e.length + " targets") + ", the first has " + t + " targets");
            }
            System.arraycopy(e, 0, y, i * t, t);
        }
        return Dataset.regression(x, new int[] {f}, y, t);
    }

    /** The examples of a host data set, flattened features, in order (for {@code parallelize}). */
    public static List<Example> toExamples(Dataset data) {
        List<Example> out = new ArrayList<>(data.size());
        int t = data.hasLabels() ? 0 : data.targetSize();
        float[] targets = new float[t];
        int[] one = new int[1];
        for (int i = 0; i < data.size(); i++) {
            if (data.hasLabels()) {
                out.add(Example.labelled(data.features(i), data.label(i)));
            } else {
                one[0] = i;
                data.gatherTargets(one, 0, 1, targets);
                out.add(Example.withTargets(data.features(i), targets.clone()));
            }
        }
        return out;
    }
}
