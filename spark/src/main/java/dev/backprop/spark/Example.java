package dev.backprop.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One training example as it travels in an RDD: a flat feature vector and either a class label
 * (classification) or real-valued targets (regression, or a single 0/1 target for binary classification).
 *
 * @param features the features, row-major when they come from an image ({@code 28·28 = 784} for Fashion-MNIST)
 * @param label    the class in {@code [0, classes)}, or {@code -1} when the example has targets
 * @param targets  the targets, or {@code null} when the example has a label
 */
public record Example(float[] features, int label, float[] targets) implements Serializable {
    /** Checks that exactly one of label and targets is present. */
    public Example {
        if (features == null || features.length == 0) {
            throw new IllegalArgumentException("an example needs at least one feature");
        }
        if ((label >= 0) == (targets != null) || label < -1) {
            throw new IllegalArgumentException("an example has either a label >= 0 or targets, got label " + label
                    + " and " + (targets == null ? "no targets" : targets.length + " targets"));
        }
    }

    /** A classification example with class {@code label >= 0}. */
    public static Example labelled(float[] features, int label) {
        if (label < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + label);
        }
        return new Example(features, label, null);
    }

    /** A regression (or binary 0/1) example. */
    public static Example withTargets(float[] features, float... targets) {
        if (targets == null || targets.length == 0) {
            throw new IllegalArgumentException("an example with targets needs at least one");
        }
        return new Example(features, -1, targets);
    }

    /** Whether this example carries a class label. */
    public boolean hasLabel() {
        return targets == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example e && label == e.label && Arrays.equals(features, e.features)
                && Arrays.equals(targets, e.targets);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(features) + label) + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        return "Example[" + features.length + " features, " + (hasLabel() ? "label " + label
                : "targets " + Arrays.toString(targets)) + "]";
    }
}
