package dev.backprop.loss;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Softmax cross-entropy on logits {@code [N, K]} with INT32 class labels {@code [N]}, like PyTorch's
 * {@code nn.CrossEntropyLoss}: per sample {@code ln Σ_ℓ e^{z_ℓ} - z_label}, averaged over the batch (or summed).
 * Forward and backward are the SPI's fused kernels ({@code ∂/∂z = softmax(z) - onehot(label)}). A label
 * outside {@code [0, K)} yields a NaN loss (labels stay on the device; {@link dev.backprop.data.Dataset}
 * checks them when it is built).
 *
 * <p>{@link #builder} adds PyTorch's {@code weight} and {@code label_smoothing} (1.13's formulas): per-class
 * weights {@code w} make a sample's term {@code w[y]·(-log p_y)} and the mean divides by {@code Σ w[y_i]} over the
 * batch, not by N; smoothing ε mixes the target with the uniform distribution,
 * {@code (1-ε)·w[y]·(-log p_y) + (ε/K)·Σ_c w_c·(-log p_c)}:
 * <pre>{@code
 * Loss loss = SoftmaxCrossEntropy.builder().weights(0.5, 2.0, 1.0).labelSmoothing(0.1).build();
 * }</pre>
 * Without either the loss is exactly the plain one above (the same launches).
 */
public final class SoftmaxCrossEntropy implements Loss {
    /** The metadata key of the loss settings ({@link #settings}), written only when one is set. */
    public static final String METADATA_KEY = "backprop.loss";
    private final Reduction reduction;
    /** Per-class weights, or null for none. */
    private final double[] weights;
    private final double labelSmoothing;

    /** With the mean over the batch. */
    public SoftmaxCrossEntropy() {
        this(Reduction.MEAN);
    }

    /**
     * With the given reduction.
     *
     * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
     */
    public SoftmaxCrossEntropy(Reduction reduction) {
        this(Objects.requireNonNull(reduction, "reduction"), null, 0);
    }

    private SoftmaxCrossEntropy(Reduction reduction, double[] weights, double labelSmoothing) {
        this.reduction = reduction;
        this.weights = weights;
        this.labelSmoothing = labelSmoothing;
    }

    /**
     * Starts a softmax cross-entropy with PyTorch's defaults: the mean, no class weights, no label smoothing.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Variable compute(Variable logits, Tensor labels) {
        Tensor z = logits.value();
        labels.checkOpen();
        if (labels.dtype() != DType.INT32) {
            throw new DTypeMismatchException("cross_entropy: labels must be INT32 class indices, got "
                    + labels.dtype() + " " + labels.shape());
        }
        if (z.shape().rank() != 2 || labels.size() != z.shape().dim(0) || z.shape().dim(0) == 0) {
            throw new ShapeMismatchException("cross_entropy: needs logits [N, K] and labels [N] with N > 0, got "
                    + "logits " + z.shape() + " and labels " + labels.shape());
        }
        if (weights != null && weights.length != z.shape().dim(1)) {
            throw new ShapeMismatchException("cross_entropy: " + weights.length + " class weights, but the logits "
                    + z.shape() + " have " + z.shape().dim(1) + " classes");
        }
        if (weights != null || labelSmoothing > 0) {
            return WeightedCrossEntropy.compute(name(), logits, labels, reduction, weights, labelSmoothing);
        }
        int n = z.shape().dim(0);
        Tensor losses = Tensor.empty(z.backend(), z.dtype(), n);
        Tensor probs = Tensor.empty(z.backend(), z.dtype(), z.shape());
        Tensor value;
        try {
            Softmax.softmaxCrossEntropy(z, labels, losses, probs);
            value = LossSupport.reduce(losses, reduction);
        } catch (RuntimeException e) {
            losses.close();
            probs.close();
            throw e;
        }
        if (!Tape.needsGrad(logits)) {
            probs.close();
            return Tape.record(name(), value, null, logits);
        }
        return Tape.record(name(), value, (g, grads) -> {
            // Each row's upstream gradient, g/n under a mean: a constant and one broadcast product (two launches).
            Tensor perRow = Tensor.full(g.backend(), g.dtype(), reduction == Reduction.MEAN ? 1.0 / n : 1.0, n);
            Tensor dz;
            try {
                Elementwise.binary(BinaryOp.MUL, g, perRow, perRow);
                dz = Tensor.empty(g.backend(), g.dtype(), z.shape());
                try {
                    Softmax.softmaxCrossEntropyBackward(probs, labels, perRow, dz);
                } catch (RuntimeException e) {
                    dz.close();
                    throw e;
                }
            } finally {
                perRow.close();
            }
            grads.give(0, dz);
        }, logits);
    }

    @Override
    public Reduction reduction() {
        return reduction;
    }

    /** {@return a copy of the per-class weights, or null when the classes are not weighted} */
    public double[] weights() {
        return weights == null ? null : weights.clone();
    }

    /** {@return the label smoothing ε, 0 for none} */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * The class weights and label smoothing as model files and checkpoints record them under
     * {@value #METADATA_KEY}: a JSON object with {@code class_weights} ({@code balanced}, or the weights as
     * {@code 1,2.5}) and {@code weight} (the numbers) when the classes are weighted, and {@code label_smoothing}.
     * One writer for local training and Spark, so that a checkpoint of either resumes under the other's check.
     *
     * @param balanced whether the weights balance the training data's classes rather than being given
     */
    public String settings(boolean balanced) {
        JsonObject o = new JsonObject();
        if (weights != null) {
            o.addProperty("class_weights", balanced ? "balanced" : Arrays.stream(weights)
                    .mapToObj(OptimizerChoice::number).collect(Collectors.joining(",")));
            JsonArray w = new JsonArray();
            Arrays.stream(weights).forEach(w::add);
            o.add("weight", w);
        }
        o.addProperty("label_smoothing", labelSmoothing);
        return o.toString();
    }

    @Override
    public String name() {
        return "cross_entropy";
    }

    /** {@code Σ w[y_i]} over the batch's labels with class weights (read to the host), else the rows. */
    @Override
    public double meanDenominator(Tensor labels) {
        if (weights == null) {
            return labels.shape().dim(0);
        }
        double sum = 0;
        for (int y : labels.toIntArray()) {
            sum += y >= 0 && y < weights.length ? weights[y] : Double.NaN;   // the loss is NaN for such a label
        }
        return sum;
    }

    /** Each sample's class is the index of its largest logit (the first of equal ones). */
    @Override
    public Optional<Classified> classify(Tensor logits, Tensor labels) {
        int[] predicted;
        try (Tensor arg = Reductions.argmaxRows(logits)) {
            predicted = arg.toIntArray();
        }
        int[] truth = labels.toIntArray();
        if (truth.length != predicted.length) {
            throw new ShapeMismatchException("classify: logits " + logits.shape() + " and labels "
                    + labels.shape() + " differ in rows");
        }
        return Optional.of(new Classified(logits.shape().cols(), truth, predicted));
    }

    @Override
    public String toString() {
        return "SoftmaxCrossEntropy(" + reduction + (weights == null ? "" : ", weights=" + Arrays.toString(weights))
                + (labelSmoothing == 0 ? "" : ", labelSmoothing=" + labelSmoothing) + ")";
    }

    /**
     * Settings for a {@link SoftmaxCrossEntropy}, by PyTorch's names; each setter checks its value at once and
     * throws {@link IllegalArgumentException} naming it.
     */
    public static final class Builder {
        private Reduction reduction = Reduction.MEAN;
        private double[] weights;
        private double labelSmoothing;

        private Builder() {
        }

        /**
         * How the per-sample terms combine (default {@link Reduction#MEAN}).
         *
         * @param reduction {@link Reduction#SUM} or {@link Reduction#MEAN}
         * @return this builder
         */
        public Builder reduction(Reduction reduction) {
            this.reduction = Objects.requireNonNull(reduction, "reduction");
            return this;
        }

        /**
         * PyTorch's {@code weight}: one weight per class, in label order (default none). The logits' class count
         * must equal their number, checked at each call.
         *
         * @param weights positive and finite, at least one
         * @return this builder
         */
        public Builder weights(double... weights) {
            Objects.requireNonNull(weights, "weights");
            if (weights.length == 0) {
                throw new IllegalArgumentException("cross_entropy: weights must name at least one class, got none");
            }
            for (int c = 0; c < weights.length; c++) {
                if (!(weights[c] > 0) || !Double.isFinite(weights[c])) {
                    throw new IllegalArgumentException("cross_entropy: class weights must be positive and finite, "
                            + "got weight " + weights[c] + " for class " + c);
                }
            }
            this.weights = weights.clone();
            return this;
        }

        /**
         * Weights that balance the classes of {@code train} as scikit-learn's {@code class_weight="balanced"}:
         * {@code n / (K·count_k)} for {@code n} examples, {@code K} classes and {@code count_k} examples of class k.
         *
         * @param train labelled training data in which every class has an example
         * @return this builder
         * @throws IllegalArgumentException when the data has no labels
         * @throws MissingClassException     when a class has no example (named)
         */
        public Builder balancedWeights(Dataset train) {
            if (!train.hasLabels()) {
                throw new IllegalArgumentException("cross_entropy: balanced class weights need class labels, but the "
                        + "data has " + train.targetSize() + " real-valued target column(s)");
            }
            long[] count = new long[train.numClasses()];
            for (int i = 0; i < train.size(); i++) {
                count[train.label(i)]++;
            }
            return balancedWeights(count, train.classNames());
        }

        /**
         * Weights that balance classes of the given sizes as scikit-learn's {@code class_weight="balanced"}:
         * {@code n / (K·count_k)} for {@code n = Σ count_k} examples and {@code K} classes. For data counted
         * elsewhere (a distributed data set); {@link #balancedWeights(Dataset)} counts a host data set.
         *
         * @param classCounts the number of training examples of each class, in label order
         * @param classNames  the classes' names for the error message, or null
         * @return this builder
         * @throws IllegalArgumentException when there is no class
         * @throws MissingClassException     when a class has no example (named)
         */
        public Builder balancedWeights(long[] classCounts, List<String> classNames) {
            int k = classCounts.length;
            long n = Arrays.stream(classCounts).sum();
            double[] w = new double[k];
            for (int c = 0; c < k; c++) {
                if (classCounts[c] <= 0) {
                    throw new MissingClassException("class " + c
                            + (classNames != null && c < classNames.size() ? " (" + classNames.get(c) + ")" : "")
                            + " has no example among the " + n + " training examples");
                }
                w[c] = (double) n / ((double) k * classCounts[c]);
            }
            return weights(w);
        }

        /**
         * PyTorch's {@code label_smoothing} ε (default 0, none): the target becomes
         * {@code (1-ε)·onehot(y) + ε/K}.
         *
         * @param labelSmoothing in [0, 1)
         * @return this builder
         */
        public Builder labelSmoothing(double labelSmoothing) {
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("cross_entropy: label smoothing must lie in [0, 1), got "
                        + labelSmoothing);
            }
            this.labelSmoothing = labelSmoothing;
            return this;
        }

        /** {@return the loss} */
        public SoftmaxCrossEntropy build() {
            return new SoftmaxCrossEntropy(reduction, weights == null ? null : weights.clone(), labelSmoothing);
        }
    }
}
