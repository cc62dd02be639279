package dev.backprop.model;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.nn.Layer;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

/**
 * Batched inference for a trained network: uploads examples in batches, runs the forward pass without recording a
 * graph, turns the raw outputs into predictions as the {@link Task} says (softmax probabilities, the probability of
 * class 1, or the regression values) and copies them back to the host. Every device tensor of a batch is freed
 * before the next batch is uploaded.
 *
 * <pre>{@code
 * Predictor p = new Predictor(model, Task.CLASSIFICATION);
 * float[] probs = p.predict(images, 16);   // 16 rows of 784 features in, 16 rows of 10 probabilities out
 * int[] classes = p.classify(images, 16);
 * }</pre>
 * The model must not change while a call runs; a predictor is confined to one thread at a time (the backend's
 * own thread rules apply).
 */
public final class Predictor {
    /** Examples per forward pass unless another size is given: large enough to keep GEMMs efficient. */
    public static final int DEFAULT_BATCH = 1000;

    private final Layer model;
    private final Task task;
    private final int batchSize;
    private final Backend backend;

    /** A predictor running batches of {@value #DEFAULT_BATCH} examples. */
    public Predictor(Layer model, Task task) {
        this(model, task, DEFAULT_BATCH);
    }

    /**
     * A predictor running batches of up to {@code batchSize} examples.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1} or the model has no parameters (nothing says
     *                                  which backend it lives on)
     */
    public Predictor(Layer model, Task task, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.model = java.util.Objects.requireNonNull(model, "model");
        this.task = java.util.Objects.requireNonNull(task, "task");
        this.batchSize = batchSize;
        this.backend = backendOf(model);
    }

    /** The backend holding the model's parameters. */
    static Backend backendOf(Layer model) {
        return model.parameters().values().stream().findFirst().map(Variable::backend)
                .orElseThrow(() -> new IllegalArgumentException("the model has no parameters, so it has no backend "
                        + "to run on"));
    }

    /** The task whose predictions this predictor makes. */
    public Task task() {
        return task;
    }

    /**
     * Predictions for {@code rows} examples stored row after row in {@code features} ({@code rows × F} floats,
     * {@code F} the model's input width): {@code rows × K} values, row after row, where K is the model's number of
     * outputs. Classification gives the class probabilities (each row sums to 1), binary classification the
     * probability of class 1, regression the predicted values.
     *
     * @throws IllegalArgumentException when {@code features.length} is not a positive multiple of {@code rows}
     * @throws ShapeMismatchException   when the feature width does not fit the model's first layer
     */
    public float[] predict(float[] features, int rows) {
        int width = width(features, rows);
        float[] out = null;
        int outputs = 0;
        for (int from = 0; from < rows; from += batchSize) {
            int n = Math.min(batchSize, rows - from);
            float[] part = forwardBatch(features, from * width, n, width);
            if (out == null) {
                outputs = part.length / n;
                out = new float[Math.multiplyExact(rows, outputs)];
            }
            System.arraycopy(part, 0, out, from * outputs, part.length);
        }
        return out;
    }

    /** {@link #predict(float[], int)} for examples given as one array per row (all the same length). */
    public float[][] predict(float[][] examples) {
        if (examples.length == 0) {
            return new float[0][];
        }
        int width = examples[0].length;
        float[] flat = new float[Math.multiplyExact(examples.length, width)];
        for (int i = 0; i < examples.length; i++) {
            if (examples[i].length != width) {
                throw new IllegalArgumentException("example " + i + " has " + examples[i].length
                        + " features, example 0 has " + width);
            }
            System.arraycopy(examples[i], 0, flat, i * width, width);
        }
        float[] p = predict(flat, examples.length);
        int k = p.length / examples.length;
        float[][] out = new float[examples.length][];
        for (int i = 0; i < examples.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(p, i * k, (i + 1) * k);
        }
        return out;
    }

    /**
     * The predicted class of each example: the most probable class (classification) or 1 when the probability
     * of class 1 is at least 0.5 (binary).
     *
     * @throws IllegalStateException for a regression model, which predicts values, not classes
     */
    public int[] classify(float[] features, int rows) {
        if (!task.scoredByAccuracy()) {
            throw new IllegalStateException("a regression model predicts values, not classes; use predict()");
        }
        float[] p = predict(features, rows);
        int k = p.length / rows;
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            if (task == Task.BINARY) {
                out[r] = p[r] >= 0.5f ? 1 : 0;
                continue;
            }
            int best = 0;
            for (int c = 1; c < k; c++) {
                if (p[r * k + c] > p[r * k + best]) {
                    best = c;
                }
            }
            out[r] = best;
        }
        return out;
    }

    private static int width(float[] features, int rows) {
        if (rows < 1 || features.length == 0 || features.length % rows != 0) {
            throw new IllegalArgumentException("predict: " + features.length + " feature values do not make "
                    + rows + " example rows of equal width");
        }
        return features.length / rows;
    }

    private float[] forwardBatch(float[] features, int offset, int n, int width) {
        try (Scope scope = Scope.open(); NoGrad off = NoGrad.open()) {
            Tensor x = Tensor.empty(backend, DType.FLOAT32, n, width);
            backend.upload(features, offset, x.buffer(), x.offset(), n * width);
            Tensor out = model.forward(Variable.constant(x)).value();
            if (out.shape().rank() != 2 || out.shape().dim(0) != n) {
                throw new ShapeMismatchException("predict: the model maps [" + n + ", " + width + "] to "
                        + out.shape() + ", expected [" + n + ", K]");
            }
            Tensor head = switch (task) {
                case CLASSIFICATION -> Softmax.softmax(out);
                case BINARY -> Elementwise.unary(UnaryOp.SIGMOID, out);
                case REGRESSION -> out;
            };
            return head.toFloatArray();
        }
    }
}
