package dev.backprop.model;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.nn.Layer;
import dev.backprop.nn.ModeSwitch;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Softmax;
import dev.backprop.tensor.Tensor;

/**
 * Batched inference for a trained network: uploads examples in batches (shaped as the network takes them, e.g.
 * {@code [n, 1, 28, 28]} for a convolutional one), runs the forward pass in evaluation mode without recording a
 * graph, turns the raw outputs into predictions as the {@link Task} says (softmax probabilities, the probability of
 * class 1, or the regression values) and copies them back to the host. Every device tensor of a batch is freed
 * before the next batch is uploaded.
 *
 * <pre>{@code
 * Predictor p = new Predictor(model, Task.CLASSIFICATION);
 * float[] probs = p.predict(images, 16);   // 16 rows of 784 features in, 16 rows of 10 probabilities out
 * int[] classes = p.classify(images, 16);
 * }</pre>
 * Predictors may be called from several threads at once, also several predictors of one model (a service that
 * loads a model once): their forward passes on one model take turns, with each other and with
 * {@link dev.backprop.train.Evaluator}, since each switches the model to evaluation mode for its pass and back (the
 * backend runs one call at a time anyway). The model must not be trained or closed while a call runs.
 */
public final class Predictor {
    /** Examples per forward pass unless another size is given: large enough to keep GEMMs efficient. */
    public static final int DEFAULT_BATCH = 1000;

    private final Layer model;
    private final Task task;
    private final int batchSize;
    private final int[] exampleShape;
    private final boolean takesImages;
    private final Backend backend;

    /** A predictor running batches of {@value #DEFAULT_BATCH} examples. */
    public Predictor(Layer model, Task task) {
        this(model, task, DEFAULT_BATCH);
    }

    /**
     * A predictor running batches of up to {@code batchSize} examples, each given to the model as a flat row, or
     * to a network that takes images as one square channel ({@link InputShape#image}: 784 values as
     * {@code [1, 28, 28]}).
     *
     * @throws IllegalArgumentException when {@code batchSize < 1} or the model has no parameters (nothing says
     *                                  which backend it lives on)
     */
    public Predictor(Layer model, Task task, int batchSize) {
        this(model, task, batchSize, null);
    }

    /**
     * A predictor running batches of up to {@code batchSize} examples, each given to the model with dimensions
     * {@code exampleShape} ({@code [1, 28, 28]}: a batch of {@code n} becomes {@code [n, 1, 28, 28]};
     * {@link InputShape#of} finds them for a network), or when null as {@link #Predictor(Layer, Task, int)} does.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}, a dimension is below 1, the model has no
     *                                  parameters (nothing says which backend it lives on), or a binary model ends
     *                                  with a sigmoid (the task applies it) or more than one output
     */
    public Predictor(Layer model, Task task, int batchSize, int[] exampleShape) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (exampleShape != null && (exampleShape.length == 0 || java.util.Arrays.stream(exampleShape)
                .anyMatch(d -> d < 1))) {
            throw new IllegalArgumentException("example shape " + java.util.Arrays.toString(exampleShape)
                    + ": dimensions must be at least 1");
        }
        this.model = java.util.Objects.requireNonNull(model, "model");
        this.task = java.util.Objects.requireNonNull(task, "task");
        task.checkOutput(model);
        this.batchSize = batchSize;
        this.exampleShape = exampleShape == null ? null : exampleShape.clone();
        this.takesImages = exampleShape == null && InputShape.takesImages(model.spec());
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
     * probability of class 1, regression the predicted values. No rows (an empty {@code features} and
     * {@code rows == 0}) give no values, as a PyTorch model gives an empty batch's empty output.
     *
     * @throws IllegalArgumentException when {@code features} does not make {@code rows} rows of equal, positive width,
     *                                  or a feature is NaN or infinite (naming the row and feature)
     * @throws ShapeMismatchException   when the feature width does not fit the model's first layer
     * @throws IllegalStateException    when the model or its backend is closed
     */
    public float[] predict(float[] features, int rows) {
        return run(features, rows, false).outputs();
    }

    /** The outputs {@link #predict} gives and, with {@code classes}, each example's class from the same pass. */
    private Decided run(float[] features, int rows, boolean classes) {
        model.parameters().forEach((name, p) -> {
            if (p.value().isClosed()) {
                throw new IllegalStateException("predict: the model's parameter '" + name + "' is closed (the model "
                        + "or its backend was closed); predict before closing it, or load the model again");
            }
        });
        if (rows == 0 && features.length == 0) {
            return new Decided(new float[0], classes ? new int[0] : null);  // nothing to hand the backend
        }
        int width = width(features, rows);
        int[] shape = exampleShape(width);
        checkFinite(features, width);
        float[] out = null;
        int[] decided = classes ? new int[rows] : null;
        int outputs = 0;
        for (int from = 0; from < rows; from += batchSize) {
            int n = Math.min(batchSize, rows - from);
            Decided part = forwardBatch(features, from * width, n, width, shape, classes);
            if (out == null) {
                outputs = part.outputs().length / n;
                out = new float[Math.multiplyExact(rows, outputs)];
            }
            System.arraycopy(part.outputs(), 0, out, from * outputs, part.outputs().length);
            if (classes) {
                System.arraycopy(part.classes(), 0, decided, from, n);
            }
        }
        return new Decided(out, decided);
    }

    /** {@link #predict(float[], int)} for examples given as one array per row (all the same length). */
    public float[][] predict(float[][] examples) {
        if (examples.length == 0) {
            predict(new float[0], 0);  // the flat form's checks of the model, which an empty batch still needs
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
     * The predicted class of each example, decided on the logits by the rule the loss's accuracy and report use:
     * the class of the largest logit, the first of equal ones (classification; probabilities can round two logits to
     * one value), or for a binary model class 1 where the logit is at least 0
     * ({@link BinaryCrossEntropyWithLogits#predictedClass}; the probability {@link #predict} gives can round to 0.5
     * for a logit just below 0).
     *
     * @throws IllegalStateException for a regression model, which predicts values, not classes
     */
    public int[] classify(float[] features, int rows) {
        return decide(features, rows).classes();
    }

    /**
     * What {@link #predict} and {@link #classify} give, from one forward pass.
     *
     * @param outputs the predictions, as {@link #predict} gives them
     * @param classes each example's predicted class, as {@link #classify} gives them (null from a caller that
     *                pairs a regression's values with no classes)
     */
    public record Decided(float[] outputs, int[] classes) {
    }

    /**
     * The predictions and the predicted classes of {@code rows} examples from one forward pass, for a caller that
     * shows both (a probability and the decision).
     *
     * @throws IllegalArgumentException as {@link #predict} does
     * @throws IllegalStateException    for a regression model, which predicts values, not classes
     */
    public Decided decide(float[] features, int rows) {
        if (!task.scoredByAccuracy()) {
            throw new IllegalStateException("a regression model predicts values, not classes; use predict()");
        }
        return run(features, rows, true);
    }

    private int width(float[] features, int rows) {
        if (rows < 1 || features.length == 0 || features.length % rows != 0) {
            throw new IllegalArgumentException("predict: " + features.length + " feature values do not make "
                    + rows + " example rows of equal width");
        }
        int width = features.length / rows;
        if (exampleShape != null && java.util.Arrays.stream(exampleShape).asLongStream().reduce(1, (a, b) -> a * b)
                != width) {
            throw new IllegalArgumentException("predict: the model takes examples of shape "
                    + java.util.Arrays.toString(exampleShape) + ", but the rows hold " + width + " values");
        }
        return width;
    }

    /** Refuses a non-finite feature: the network would turn it into a NaN or a meaningless finite prediction. */
    private static void checkFinite(float[] features, int width) {
        for (int i = 0; i < features.length; i++) {
            if (!Float.isFinite(features[i])) {
                throw new IllegalArgumentException("predict: row " + i / width + " holds " + features[i]
                        + " in feature " + i % width + "; the model can only predict from finite features");
            }
        }
    }

    /** The dimensions one example of {@code width} values is given to the model as, or null for a flat row. */
    private int[] exampleShape(int width) {
        if (exampleShape != null || !takesImages) {
            return exampleShape;
        }
        try {
            return InputShape.image(new int[] {width});
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("predict: " + e.getMessage() + "; give the Predictor the example "
                    + "shape", e);
        }
    }

    /**
     * One batch's predictions and, with {@code classes}, its classes; the model's lock keeps another pass from
     * switching its mode meanwhile.
     */
    private Decided forwardBatch(float[] features, int offset, int n, int width, int[] shape, boolean classes) {
        synchronized (model) {
            return forwardLocked(features, offset, n, width, shape, classes);
        }
    }

    private Decided forwardLocked(float[] features, int offset, int n, int width, int[] shape, boolean classes) {
        try (Scope scope = Scope.open(); NoGrad off = NoGrad.open(); ModeSwitch eval = ModeSwitch.to(model, false)) {
            int[] dims = shape == null ? new int[] {n, width} : new int[shape.length + 1];
            if (shape != null) {
                dims[0] = n;
                System.arraycopy(shape, 0, dims, 1, shape.length);
            }
            Tensor x = Tensor.empty(backend, DType.FLOAT32, dims);
            backend.upload(features, offset, x.buffer(), x.offset(), n * width);
            Tensor out = model.forward(Variable.constant(x)).value();
            if (out.shape().rank() != 2 || out.shape().dim(0) != n) {
                throw new ShapeMismatchException("predict: the model maps " + java.util.Arrays.toString(dims) + " to "
                        + out.shape() + ", expected [" + n + ", K]");
            }
            Tensor head = switch (task) {
                case CLASSIFICATION -> Softmax.softmax(out);
                case BINARY -> Elementwise.unary(UnaryOp.SIGMOID, out);
                case REGRESSION -> out;
            };
            return new Decided(head.toFloatArray(), classes ? classes(out) : null);
        }
    }

    /**
     * Each row's class from the logits, by the rule the loss's accuracy and report use: the first largest logit
     * ({@link Reductions#argmaxRows}, as {@code SoftmaxCrossEntropy.classify}), or for a binary model
     * {@link BinaryCrossEntropyWithLogits#predictedClass}; probabilities could round two logits to one value.
     */
    private int[] classes(Tensor logits) {
        if (task == Task.BINARY) {
            float[] z = logits.toFloatArray();
            int[] out = new int[z.length];
            for (int r = 0; r < z.length; r++) {
                out[r] = BinaryCrossEntropyWithLogits.predictedClass(z[r]);
            }
            return out;
        }
        try (Tensor arg = Reductions.argmaxRows(logits)) {
            return arg.toIntArray();
        }
    }
}
