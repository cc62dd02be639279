package dev.backprop.model;

import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.Loss;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.loss.SquaredError;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Layers;
import dev.backprop.nn.Sequential;
import dev.backprop.train.Evaluation;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a network's outputs mean, which decides its loss, how its raw outputs turn into predictions and how it is
 * scored:
 * <ul>
 *   <li>{@link #CLASSIFICATION}: K logits per example, softmax cross-entropy against an INT32 label, predictions
 *       are the softmax probabilities, scored by accuracy (argmax against the label);</li>
 *   <li>{@link #BINARY}: one logit per example, binary cross-entropy on the logit against a 0/1 target,
 *       predictions are {@code σ(z)} (the probability of class 1), scored by accuracy at {@code z ≥ 0} (where
 *       {@code σ(z) ≥ 0.5});</li>
 *   <li>{@link #REGRESSION}: T values per example, mean squared error, predictions are the outputs themselves,
 *       scored by the root-mean-square error.</li>
 * </ul>
 */
public enum Task {
    /** Single-label classification over K classes. */
    CLASSIFICATION,
    /** Two classes, one output: the logit of class 1. */
    BINARY,
    /** Real-valued targets. */
    REGRESSION;

    /** The lower-case name used on the command line and in model files ({@code classification}). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The task named {@code id} (case-insensitive).
     *
     * @throws IllegalArgumentException listing the known names when there is no such task
     */
    public static Task parse(String id) {
        for (Task t : values()) {
            if (t.id().equalsIgnoreCase(id == null ? "" : id.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown task '" + id + "'; known tasks: classification, binary, "
                + "regression");
    }

    /** A new loss for this task, with PyTorch's default (mean) reduction. */
    public Loss loss() {
        return switch (this) {
            case CLASSIFICATION -> new SoftmaxCrossEntropy();
            case BINARY -> new BinaryCrossEntropyWithLogits();
            case REGRESSION -> new SquaredError();
        };
    }

    /** Whether the task is scored by accuracy (else by RMSE). */
    public boolean scoredByAccuracy() {
        return this != REGRESSION;
    }

    /**
     * The figure the task is scored by: the accuracy, or for regression the root of the mean squared error
     * (the RMSE).
     */
    public double metric(Evaluation e) {
        return scoredByAccuracy() ? e.accuracy() : Math.sqrt(e.loss());
    }

    /** The name of the test metric: {@code accuracy} or {@code rmse}. */
    public String metricName() {
        return scoredByAccuracy() ? "accuracy" : "rmse";
    }

    /**
     * How many outputs a network trained on {@code data} must have.
     *
     * @throws IllegalArgumentException when the data does not suit the task (see {@link #check}), or classification
     *                                  data holds fewer than 2 classes
     */
    public int outputs(Dataset data) {
        check(data);
        return switch (this) {
            case CLASSIFICATION -> classesToTrain(data.numClasses(), data.classNames());
            case BINARY -> 1;
            case REGRESSION -> data.targetSize();
        };
    }

    /**
     * The outputs of a classifier trained on {@code numClasses} classes: the hook every trainer that counts the
     * classes itself (the Spark engine) shares with {@link #outputs}.
     *
     * @param classNames the classes' names in label order, or null
     * @throws IllegalArgumentException when {@code numClasses} is below 2
     */
    public static int classesToTrain(int numClasses, List<String> classNames) {
        if (numClasses < 2) {
            // Softmax over one logit is 1 whatever the weights: the loss is 0, no gradient flows, and every
            // prediction is right, so training would report a perfect model that learned nothing. Scoring a model
            // on one class's examples (check) is fine.
            throw new IllegalArgumentException("task classification needs at least 2 classes to train, but the data "
                    + "has " + numClasses + named(classNames) + "; give examples of another class");
        }
        return numClasses;
    }

    /**
     * Checks that {@code data} suits the task: labels for classification, one 0/1 target per example for binary
     * classification, targets for regression.
     *
     * @throws IllegalArgumentException saying what the data holds and what the task needs
     */
    public void check(Dataset data) {
        switch (this) {
            case CLASSIFICATION -> {
                if (!data.hasLabels()) {
                    throw new IllegalArgumentException("task classification needs class labels, but the data has "
                            + data.targetSize() + " real-valued target column(s); use --task regression or binary");
                }
            }
            case BINARY -> checkBinary(data);
            case REGRESSION -> {
                if (data.hasLabels()) {
                    throw new IllegalArgumentException("task regression needs real-valued targets, but the data "
                            + "has class labels; use --task classification");
                }
            }
        }
    }

    /**
     * Refuses a binary model whose output is not one logit per example: one that ends with a sigmoid (the task applies
     * the sigmoid itself, so predictions would be {@code σ(p)}, never below 0.5, and a saved model would be scored
     * with the loss on logits), or that gives more than one output ({@link Layers#outputFeatures}).
     *
     * @throws IllegalArgumentException naming the last layer and what to do instead
     */
    void checkOutput(Layer model) {
        if (this != BINARY) {
            return;
        }
        int outputs = Layers.outputFeatures(model.spec());
        if (outputs > 1) {
            throw new IllegalArgumentException("task binary takes one output per example (the logit of class 1), but "
                    + "the network's last layer gives " + outputs + "; use task classification for " + outputs
                    + " classes");
        }
        Layer last = lastLayer(model);
        if (last instanceof Activation a && a.kind() == Activation.Kind.SIGMOID) {
            throw new IllegalArgumentException("task binary applies the sigmoid to the network's output (a logit) "
                    + "itself, but the network already ends with a sigmoid, so every probability would be "
                    + "sigmoid(p) >= 0.5; drop the last sigmoid and train with BinaryCrossEntropyWithLogits "
                    + "(Task.BINARY.loss())");
        }
    }

    /** The last layer that computes something: dropout and identity layers after it change no prediction. */
    private static Layer lastLayer(Layer model) {
        if (!(model instanceof Sequential s)) {
            return model;
        }
        List<Layer> layers = s.layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            Layer l = lastLayer(layers.get(i));
            boolean passes = l instanceof Dropout || l instanceof Activation a && a.kind() == Activation.Kind.IDENTITY;
            if (!passes) {
                return l;
            }
        }
        return model;
    }

    /** {@code names} quoted after a space, as one printable line (they come from the user's files), or "". */
    private static String named(List<String> names) {
        return names == null || names.isEmpty() ? "" : " ('" + DataFormatException.oneLine(String.join("', '", names))
                + "')";
    }

    private static void checkBinary(Dataset data) {
        if (data.hasLabels() || data.targetSize() != 1) {
            throw new IllegalArgumentException("task binary needs one 0/1 target per example, but the data has "
                    + (data.hasLabels() ? data.numClasses() + " classes (choose the positive class)"
                    : data.targetSize() + " target columns"));
        }
        float[] t = new float[data.size()];
        data.gatherTargets(data.identityOrder(), 0, data.size(), t);
        for (int i = 0; i < t.length; i++) {
            if (t[i] != 0f && t[i] != 1f) {
                throw new IllegalArgumentException("task binary needs 0/1 targets, but example " + i + " has "
                        + t[i] + " (first targets: " + Arrays.toString(Arrays.copyOf(t, Math.min(5, t.length)))
                        + ")");
            }
        }
    }
}
