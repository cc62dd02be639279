package dev.backprop.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.backprop.data.Dataset;
import dev.backprop.loss.Loss;
import dev.backprop.loss.MissingClassException;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Task;
import dev.backprop.optim.OptimizerChoice;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How {@code train}'s classification loss is configured as PyTorch's {@code nn.CrossEntropyLoss(weight=w,
 * label_smoothing=eps)}: class weights, given or balanced over the training set, and label smoothing. The same
 * loss scores the test set after each epoch (a PyTorch evaluation loop reuses its {@code criterion}); the model file
 * and checkpoint record the settings under {@value #KEY}, and a {@code --resume} keeps them: left out, they take the
 * checkpoint's; given with other values, they are refused, since the loss shapes the optimizer state. Balanced
 * weights are counted from the data, so a resume of them is refused when this run's training data counts to other
 * weights than the checkpoint records.
 */
final class LossOptions {
    /** The metadata key of the loss settings, written only when one is set. */
    static final String KEY = SoftmaxCrossEntropy.METADATA_KEY;
    static final String WEIGHTS = "--class-weights";
    static final String SMOOTHING = "--label-smoothing";

    @Option(names = WEIGHTS, paramLabel = "balanced|W1,W2,...",
            description = "Classification: per-class loss weights, one per class in label order, or balanced "
                    + "(n / (K x count of the class) over the training set, scikit-learn's); the mean divides by the "
                    + "batch's sum of weights, as PyTorch's CrossEntropyLoss(weight=...). Default: none.")
    String classWeights;

    @Option(names = SMOOTHING, paramLabel = "EPS",
            description = "Classification: label smoothing in [0, 1), as PyTorch's CrossEntropyLoss("
                    + "label_smoothing=...) (default: 0).")
    double labelSmoothing;

    /**
     * On {@code --resume} of a checkpoint trained with balanced weights: the file and the weights it records, which
     * the weights counted over this run's training data must equal (null otherwise).
     */
    private String resumedFile;
    private double[] resumedBalanced;

    /** Checks what can be checked without the data: the values, and that the task is classification. */
    void check(Task task, CommandSpec spec) {
        for (String option : new String[] {WEIGHTS, SMOOTHING}) {
            if (task != Task.CLASSIFICATION && spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new IllegalArgumentException(option + " applies to --task classification (softmax "
                        + "cross-entropy), not to --task " + task.id());
            }
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException(SMOOTHING + " must lie in [0, 1), got " + labelSmoothing);
        }
        if (classWeights != null && !isBalanced()) {
            given();
        }
    }

    /**
     * The task's loss, with these settings for classification; the task's plain loss when none is set.
     *
     * @throws IllegalArgumentException when balanced weights cannot be counted, or on {@code --resume} count to
     *                                  other weights than the checkpoint's (both named)
     */
    Loss loss(Task task, Dataset train) {
        if (task != Task.CLASSIFICATION || classWeights == null && labelSmoothing == 0) {
            return task.loss();
        }
        SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder().labelSmoothing(labelSmoothing);
        if (isBalanced()) {
            try {
                b.balancedWeights(train);
            } catch (IllegalArgumentException e) {
                throw balancedRefusal(e);
            }
            double[] counted = b.build().weights();
            if (resumedBalanced != null && !Arrays.equals(counted, resumedBalanced)) {
                throw new IllegalArgumentException(WEIGHTS + " balanced: the training data balances to weights "
                        + numbers(counted) + ", but " + resumedFile + " was trained with balanced weights "
                        + numbers(resumedBalanced) + " (other class counts); resume on the same training data, or "
                        + "start a new run without --resume");
            }
        } else if (classWeights != null) {
            b.weights(givenFor(train.numClasses()));
        }
        return b.build();
    }

    /**
     * The weights given as numbers for data of {@code classes} classes (local training's and Spark's check).
     *
     * @throws IllegalArgumentException when their number is not the number of classes
     */
    double[] givenFor(int classes) {
        double[] w = given();
        if (w.length != classes) {
            throw new IllegalArgumentException(WEIGHTS + " has " + w.length + " weights, but the data has " + classes
                    + " classes");
        }
        return w;
    }

    /** What the model line adds after the loss's name: {@code " (class weights 0.5,2, label smoothing 0.1)"}. */
    static String describe(Loss loss) {
        SoftmaxCrossEntropy ce = configured(loss);
        if (ce == null) {
            return "";
        }
        String w = ce.weights() == null ? null : "class weights " + Arrays.stream(ce.weights())
                .mapToObj(v -> String.format(Locale.ROOT, "%.4g", v)).collect(Collectors.joining(","));
        String s = ce.labelSmoothing() == 0 ? null : "label smoothing " + OptimizerChoice.number(ce.labelSmoothing());
        return " (" + (w == null ? s : s == null ? w : w + ", " + s) + ")";
    }

    /** Adds {@value #KEY} to a model file's or checkpoint's metadata when a setting is on. */
    void putMetadata(Map<String, String> meta, Loss loss) {
        SoftmaxCrossEntropy ce = configured(loss);
        if (ce != null) {
            meta.put(KEY, ce.settings(isBalanced()));
        }
    }

    /**
     * For {@code --resume}: takes the checkpoint's settings where the options were left out and refuses given
     * values that differ (a checkpoint without {@value #KEY} was trained with neither). Balanced weights keep the
     * checkpoint's numbers for {@link #loss} to compare with the ones it counts.
     *
     * @throws IllegalArgumentException naming the option, its value here and the checkpoint's
     */
    void reconcile(Map<String, String> meta, String file, CommandSpec spec) {
        Saved o = saved(meta, file);
        String savedWeights = o == null || o.classWeights() == null ? "none" : o.classWeights();
        double savedSmoothing = o == null ? 0 : o.loss().labelSmoothing();
        if (spec.commandLine().getParseResult().hasMatchedOption(WEIGHTS)) {
            refuseOther(WEIGHTS, normalized(), savedWeights, file);
        } else {
            classWeights = savedWeights.equals("none") ? null : savedWeights;
        }
        if (isBalanced()) {
            resumedFile = file;
            resumedBalanced = o.loss().weights();
        }
        if (spec.commandLine().getParseResult().hasMatchedOption(SMOOTHING)) {
            refuseOther(SMOOTHING, OptimizerChoice.number(labelSmoothing), OptimizerChoice.number(savedSmoothing),
                    file);
        } else {
            labelSmoothing = savedSmoothing;
        }
    }

    /**
     * The loss a model file was trained with, for {@code eval} to report the test loss {@code train} reported: the
     * task's plain loss when the file records no settings.
     *
     * @throws IllegalArgumentException when {@value #KEY} is malformed
     */
    static Loss trainedWith(Map<String, String> meta, Task task, String file) {
        Saved o = saved(meta, file);
        return o == null || task != Task.CLASSIFICATION ? task.loss() : o.loss();
    }

    /**
     * What {@value #KEY} records: {@code class_weights} as given ({@code balanced} or the numbers), or null for none,
     * and the loss built from {@code weight} and {@code label_smoothing}.
     */
    private record Saved(String classWeights, SoftmaxCrossEntropy loss) {
    }

    /**
     * The settings {@value #KEY} records, or null when the file has none; parsed strictly, since the file may come
     * from anyone: each value of the type {@link #putMetadata} writes and valid for the loss.
     *
     * @throws IllegalArgumentException naming the file, the key and what is wrong
     */
    private static Saved saved(Map<String, String> meta, String file) {
        String json = meta.get(KEY);
        if (json == null) {
            return null;
        }
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder()
                    .labelSmoothing(number(o.get("label_smoothing"), "label_smoothing"));
            JsonElement given = o.get("class_weights");
            if (given == null) {
                if (o.has("weight")) {
                    throw new IllegalStateException("weight without class_weights");
                }
                return new Saved(null, b.build());
            }
            if (!given.isJsonPrimitive() || !given.getAsJsonPrimitive().isString() || !o.has("weight")
                    || !o.get("weight").isJsonArray()) {
                throw new IllegalStateException("class_weights needs a string and weight an array of numbers");
            }
            JsonArray w = o.getAsJsonArray("weight");
            double[] weights = new double[w.size()];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = number(w.get(i), "weight " + i);
            }
            if (!given.getAsString().equals("balanced") && !given.getAsString().equals(numbers(weights))) {
                throw new IllegalStateException("class_weights is neither balanced nor the weights "
                        + numbers(weights));
            }
            return new Saved(given.getAsString(), b.weights(weights).build());
        } catch (JsonParseException | IllegalStateException | IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": metadata '" + KEY + "' is not a loss setting: " + json + " ("
                    + e.getMessage() + ")", e);
        }
    }

    /** The JSON number {@code e}, which {@code what} names in the error. */
    private static double number(JsonElement e, String what) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalStateException(what + " is not a number");
        }
        return e.getAsDouble();
    }

    /**
     * The refusal of {@code --class-weights balanced} for data it cannot balance, from the loss's
     * ({@link MissingClassException}), in the option's words: the one message of local and Spark training. Any
     * other exception is returned as it is.
     */
    static IllegalArgumentException balancedRefusal(IllegalArgumentException e) {
        return e instanceof MissingClassException m ? new IllegalArgumentException(WEIGHTS + " balanced: "
                + m.reason(), e) : e;
    }

    /** {@code loss} when it is a cross-entropy with class weights or label smoothing, else null. */
    private static SoftmaxCrossEntropy configured(Loss loss) {
        return loss instanceof SoftmaxCrossEntropy ce && (ce.weights() != null || ce.labelSmoothing() > 0) ? ce : null;
    }

    private static void refuseOther(String option, String here, String saved, String file) {
        if (!here.equals(saved)) {
            throw new IllegalArgumentException(option + " " + here + ": " + file + " was trained with " + option
                    + " " + saved + "; leave " + option + " out to resume with it, or start a new run without "
                    + "--resume");
        }
    }

    /** Whether {@value #WEIGHTS} is {@code balanced}. */
    boolean isBalanced() {
        return classWeights != null && classWeights.trim().equalsIgnoreCase("balanced");
    }

    /** {@code balanced}, or the given weights as numbers ({@code 1,2.5}). */
    private String normalized() {
        return isBalanced() ? "balanced" : numbers(given());
    }

    /** The weights as {@code --class-weights} takes them: {@code 1,2.5}. */
    private static String numbers(double[] weights) {
        return Arrays.stream(weights).mapToObj(OptimizerChoice::number).collect(Collectors.joining(","));
    }

    /** The weights given as numbers, checked as the loss checks them. */
    private double[] given() {
        String[] parts = classWeights.split(",", -1);
        double[] w = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                w[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(WEIGHTS + " takes balanced or numbers separated by commas; '"
                        + parts[i].trim() + "' (weight " + (i + 1) + ") is not a number", e);
            }
            if (!(w[i] > 0) || !Double.isFinite(w[i])) {
                throw new IllegalArgumentException(WEIGHTS + ": weights must be positive and finite, got "
                        + parts[i].trim() + " for class " + i);
            }
        }
        return w;
    }
}
