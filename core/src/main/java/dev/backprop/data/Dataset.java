package dev.backprop.data;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Examples held on the host: a feature matrix (one row per example, float32, row-major) with either integer
 * class labels (classification) or float targets (regression, binary classification). Batches are gathered
 * from here and uploaded to a backend; shuffling happens here, from a seed, so every backend sees the same
 * batches.
 *
 * <p>A data set may be a {@link #view} of another's examples: it shares their storage and holds only an index array,
 * so a {@link HoldOut#split} costs 4 bytes per example, not a second copy of the features.
 */
public final class Dataset {
    private final float[] features;
    private final int[] featureShape;
    private final int featureSize;
    private final int size;
    private final int[] labels;
    private final int numClasses;
    private final float[] targets;
    private final int targetSize;
    private final List<String> classNames;
    /** Row of the storage that example {@code i} is, or null when example {@code i} is row {@code i}. */
    private final int[] index;
    /**
     * Whether the targets are per example of this data set ({@code targets} row {@code i} is example {@code i}'s)
     * rather than per storage row: a view's {@link #oneVsRest} makes targets for its own examples only.
     */
    private final boolean targetsPerExample;

    private Dataset(float[] features, int[] featureShape, int[] labels, int numClasses, float[] targets,
                    int targetSize, List<String> classNames) {
        this(features, featureShape, labels, numClasses, targets, targetSize, classNames, null, false);
    }

    private Dataset(float[] features, int[] featureShape, int[] labels, int numClasses, float[] targets,
                    int targetSize, List<String> classNames, int[] index, boolean checked) {
        this(features, featureShape, labels, numClasses, targets, targetSize, classNames, index, checked, false);
    }

    /**
     * {@code index}, when not null, holds rows of the storage checked by the caller. {@code checked} says that the
     * labels and class names are another data set's, checked when it was built, so that a view or reshape costs
     * O(its indices), not O(the storage). {@code targetsPerExample} says that {@code targets} holds one row per
     * example of this data set instead of one per storage row.
     */
    private Dataset(float[] features, int[] featureShape, int[] labels, int numClasses, float[] targets,
                    int targetSize, List<String> classNames, int[] index, boolean checked, boolean targetsPerExample) {
        this.features = features;
        this.featureShape = featureShape.clone();
        int fs = featureSize(featureShape);
        this.featureSize = fs;
        if (labels != null && numClasses < 1) {
            throw new IllegalArgumentException("a classification data set needs at least 1 class, got numClasses "
                    + numClasses);
        }
        if (targets != null && targetSize < 1) {
            throw new IllegalArgumentException("a regression data set needs at least 1 target per example, got "
                    + "targetSize " + targetSize);
        }
        if (features.length % fs != 0) {
            throw new IllegalArgumentException("features length " + features.length + " is not a multiple of the "
                    + "feature size " + fs + " " + Arrays.toString(featureShape));
        }
        int rows = features.length / fs;
        this.size = index == null ? rows : index.length;
        this.index = index;
        this.targetsPerExample = targetsPerExample;
        this.labels = labels;
        this.numClasses = numClasses;
        this.targets = targets;
        this.targetSize = targetSize;
        this.classNames = classNames == null ? null : List.copyOf(classNames);
        for (int k = 0; !checked && classNames != null && k < classNames.size(); k++) {
            String problem = classNameProblem(classNames.get(k));
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
        if (labels != null) {
            if (labels.length != rows) {
                throw new DataFormatException("label count " + labels.length + " differs from example count " + rows);
            }
            for (int i = 0; !checked && i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new DataFormatException("label " + labels[i] + " of example " + i + " is outside [0, "
                            + numClasses + ")");
                }
            }
        }
        int targetRows = targetsPerExample ? size : rows;
        if (targets != null && targets.length != (long) targetRows * targetSize) {
            throw new DataFormatException("target count " + targets.length + " differs from " + targetRows
                    + " examples × " + targetSize);
        }
    }

    /**
     * Why {@code name} may not name a class, or null when it may: it holds a code point a terminal acts on rather
     * than shows ({@link DataFormatException#hazardKind}). Class names are printed by {@code eval} and
     * {@code predict} and written into JSON and model files, where a line break, an escape sequence or a
     * right-to-left override is an attack, not a name; every reader of class names (CSV labels, image folders, model
     * and ONNX metadata) refuses them with this message, which quotes the name escaped and names the code point.
     */
    public static String classNameProblem(String name) {
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            String kind = DataFormatException.hazardKind(cp);
            if (kind != null) {
                return "class name '" + DataFormatException.oneLine(name) + "' holds " + String.format("U+%04X", cp)
                        + ", " + kind;
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    /**
     * A classification data set: {@code labels[i]} in {@code [0, numClasses)}.
     *
     * @throws IllegalArgumentException when a class name holds a character a terminal acts on
     *                                  ({@link #classNameProblem}), {@code numClasses} is below 1, a dimension of
     *                                  {@code featureShape} is below 1 or {@code features} is not whole examples
     */
    public static Dataset classification(float[] features, int[] featureShape, int[] labels, int numClasses,
                                         List<String> classNames) {
        return new Dataset(features, featureShape, labels, numClasses, null, 0, classNames);
    }

    /**
     * A regression (or binary, with 0/1 targets) data set with {@code targetSize} targets per example.
     *
     * @throws IllegalArgumentException when {@code targetSize} is below 1, a dimension of {@code featureShape} is
     *                                  below 1 or {@code features} is not whole examples
     */
    public static Dataset regression(float[] features, int[] featureShape, float[] targets, int targetSize) {
        return new Dataset(features, featureShape, null, 0, targets, targetSize, null);
    }

    /** Number of examples. */
    public int size() {
        return size;
    }

    /** Per-example feature dimensions, e.g. {@code [28, 28]}. */
    public int[] featureShape() {
        return featureShape.clone();
    }

    /** Features per example. */
    public int featureSize() {
        return featureSize;
    }

    /** Whether the examples carry class labels. */
    public boolean hasLabels() {
        return labels != null;
    }

    /** Number of classes (0 for regression). */
    public int numClasses() {
        return numClasses;
    }

    /** Targets per example (0 for classification). */
    public int targetSize() {
        return targetSize;
    }

    /** Class names when known, else null. */
    public List<String> classNames() {
        return classNames;
    }

    /** The label of example {@code i}. */
    public int label(int i) {
        if (labels == null) {
            throw new IllegalStateException("this data set has targets, not labels");
        }
        return labels[row(i)];
    }

    /** The storage row of example {@code i}. */
    private int row(int i) {
        return index == null ? i : index[i];
    }

    /**
     * The examples {@code indices} of this data set, in that order (an index may repeat), sharing this data set's
     * storage: the view holds a copy of the indices and nothing else, and sees the same features, labels, targets,
     * feature shape and class names. A view of a view maps its indices straight to the storage. For a copy that
     * holds only the chosen examples, see {@link HoldOut#select}.
     *
     * @throws IllegalArgumentException when an index is outside {@code [0, size())}
     */
    public Dataset view(int[] indices) {
        int[] rows = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= size) {
                throw new IllegalArgumentException("view: index " + i + " at position " + k + " is outside [0, "
                        + size + ")");
            }
            rows[k] = row(i);
        }
        if (targetsPerExample) {
            float[] t = new float[indices.length * targetSize];
            gatherTargets(indices, 0, indices.length, t);
            return new Dataset(features, featureShape, labels, numClasses, t, targetSize, classNames, rows, true, true);
        }
        return new Dataset(features, featureShape, labels, numClasses, targets, targetSize, classNames, rows, true);
    }

    /** Copies the features of examples {@code order[from..to)} into {@code dst}, row after row. */
    public void gatherFeatures(int[] order, int from, int to, float[] dst) {
        for (int i = from; i < to; i++) {
            System.arraycopy(features, row(order[i]) * featureSize, dst, (i - from) * featureSize, featureSize);
        }
    }

    /** Copies the labels of examples {@code order[from..to)} into {@code dst}. */
    public void gatherLabels(int[] order, int from, int to, int[] dst) {
        for (int i = from; i < to; i++) {
            dst[i - from] = label(order[i]);
        }
    }

    /** Copies the targets of examples {@code order[from..to)} into {@code dst}. */
    public void gatherTargets(int[] order, int from, int to, float[] dst) {
        if (targets == null) {
            throw new IllegalStateException("this data set has labels, not targets");
        }
        for (int i = from; i < to; i++) {
            int r = targetsPerExample ? order[i] : row(order[i]);
            System.arraycopy(targets, r * targetSize, dst, (i - from) * targetSize, targetSize);
        }
    }

    /** The features of example {@code i} (a copy). */
    public float[] features(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("example " + i + " of a data set of " + size);
        }
        int r = row(i);
        return Arrays.copyOfRange(features, r * featureSize, (r + 1) * featureSize);
    }

    /**
     * Binary targets for "class {@code positive} against the rest": a regression-form data set with one 0/1
     * target per example and the same features (shared, not copied). A view's result is a view with the same
     * indices whose targets are made for the view's examples only, so the cost follows the view, not its storage.
     */
    public Dataset oneVsRest(int positive) {
        if (labels == null || positive < 0 || positive >= numClasses) {
            throw new IllegalArgumentException("oneVsRest(" + positive + ") needs a labelled data set with that class");
        }
        float[] t = new float[size];
        for (int i = 0; i < size; i++) {
            t[i] = labels[row(i)] == positive ? 1f : 0f;
        }
        return new Dataset(features, featureShape, null, 0, t, 1, null, index, true, index != null);
    }

    /**
     * The same examples with each one's features as a single vector (feature shape {@code [featureSize]}), as a
     * network of dense layers takes them; the arrays are shared. This data set itself when it is flat already.
     */
    public Dataset flatten() {
        if (featureShape.length == 1) {
            return this;
        }
        return new Dataset(features, new int[] {featureSize}, labels, numClasses, targets, targetSize, classNames,
                index, true, targetsPerExample);
    }

    /**
     * The same examples with each one's features seen as {@code shape} (same element count, row-major: a flat
     * 784-pixel row becomes {@code [1, 28, 28]}, as a convolutional network takes it); the arrays are shared.
     *
     * @throws IllegalArgumentException when {@code shape} has a dimension below 1 or another element count
     */
    public Dataset withFeatureShape(int... shape) {
        int n = featureSize(shape);
        if (shape.length == 0 || n != featureSize) {
            throw new IllegalArgumentException("examples of " + featureSize + " features "
                    + Arrays.toString(featureShape) + " cannot be seen as " + Arrays.toString(shape) + " (" + n
                    + " values)");
        }
        return Arrays.equals(shape, featureShape) ? this
                : new Dataset(features, shape, labels, numClasses, targets, targetSize, classNames, index, true,
                        targetsPerExample);
    }

    /**
     * The number of values in one example of {@code shape}.
     *
     * @throws IllegalArgumentException when a dimension is below 1 or the count does not fit an {@code int}
     */
    private static int featureSize(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("feature shape " + Arrays.toString(shape) + ": dimensions must be "
                        + "at least 1");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("feature shape " + Arrays.toString(shape) + ": more than 2^31 "
                        + "values per example");
            }
        }
        return (int) n;
    }

    /**
     * The first {@code n} examples, or all of them when there are fewer (copied). For a seeded split into a training
     * and a test part, see {@link HoldOut#split}.
     *
     * @throws IllegalArgumentException when {@code n} is negative
     */
    public Dataset head(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("head: the number of examples must be >= 0, got " + n);
        }
        int[] first = new int[Math.min(n, size)];
        Arrays.setAll(first, i -> i);
        return HoldOut.select(this, first);
    }

    /** The identity order {@code 0..size-1}. */
    public int[] identityOrder() {
        int[] o = new int[size];
        for (int i = 0; i < size; i++) {
            o[i] = i;
        }
        return o;
    }

    /** Fisher–Yates shuffle of {@code order} in place, driven by {@code rng} (seeded by the caller). */
    public static void shuffle(int[] order, Random rng) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
