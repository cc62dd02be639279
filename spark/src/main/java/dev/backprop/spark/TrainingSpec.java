package dev.backprop.spark;

import dev.backprop.loss.Loss;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Task;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.spark.transport.TransportOptions;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Everything a rank needs to train: the model factory, the optimizer and its schedule, the task and its loss
 * settings (class weights, label smoothing), the batch schedule, the synchronisation mode, checkpoints, the backend
 * request and the transport settings. Immutable and serializable: the driver sends it to every rank. Build it with
 * {@link #builder}.
 */
public final class TrainingSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ModelFactory model;
    private final OptimizerChoice optimizer;
    private final Task task;
    private final int classes;
    /** Per-class loss weights, or null for none (or for balanced weights not yet counted). */
    private final double[] classWeights;
    private final boolean balancedClassWeights;
    private final double labelSmoothing;
    private final int batchSize;
    private final int epochs;
    private final long seed;
    private final double clipNorm;
    private final SyncMode sync;
    private final String checkpointDir;
    private final int checkpointEvery;
    private final String backend;
    private final Integer threads;
    private final TransportOptions transport;
    private final String bindHost;
    private final int port;
    private final String advertiseHost;
    private final StepListener listener;
    private final int[] inputShape;
    private final String labelColumn;

    private TrainingSpec(Builder b) {
        this.model = b.model;
        this.optimizer = b.optimizer;
        this.task = b.task;
        this.classes = b.classes;
        this.classWeights = b.classWeights;
        this.balancedClassWeights = b.balancedClassWeights;
        this.labelSmoothing = b.labelSmoothing;
        this.batchSize = b.batchSize;
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.clipNorm = b.clipNorm;
        this.sync = b.sync;
        this.checkpointDir = b.checkpointDir;
        this.checkpointEvery = b.checkpointEvery;
        this.backend = b.backend;
        this.threads = b.threads;
        this.transport = b.transport;
        this.bindHost = b.bindHost;
        this.port = b.port;
        this.advertiseHost = b.advertiseHost;
        this.listener = b.listener;
        this.inputShape = b.inputShape;
        this.labelColumn = b.labelColumn;
    }

    /**
     * A builder for training the model {@code model} makes with the optimizer (and per-epoch schedule)
     * {@code optimizer} chooses.
     *
     * @throws IllegalArgumentException for the plateau schedule ({@link OptimizerChoice#onPlateau}), which follows
     *                                  a validation value that the ranks do not compute
     */
    public static Builder builder(ModelFactory model, OptimizerChoice optimizer) {
        return new Builder(model, optimizer);
    }

    /** A builder starting from this spec's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(model, optimizer);
        b.task = task;
        b.classes = classes;
        b.classWeights = classWeights;
        b.balancedClassWeights = balancedClassWeights;
        b.labelSmoothing = labelSmoothing;
        b.batchSize = batchSize;
        b.epochs = epochs;
        b.seed = seed;
        b.clipNorm = clipNorm;
        b.sync = sync;
        b.checkpointDir = checkpointDir;
        b.checkpointEvery = checkpointEvery;
        b.backend = backend;
        b.threads = threads;
        b.transport = transport;
        b.bindHost = bindHost;
        b.port = port;
        b.advertiseHost = advertiseHost;
        b.listener = listener;
        b.inputShape = inputShape;
        b.labelColumn = labelColumn;
        return b;
    }

    /** Builds the model on each rank. */
    public ModelFactory model() {
        return model;
    }

    /** The optimizer and schedule each rank builds. */
    public OptimizerChoice optimizer() {
        return optimizer;
    }

    /** What the outputs mean, which decides the loss. */
    public Task task() {
        return task;
    }

    /** Number of classes for {@link Task#CLASSIFICATION}; 0 until known (the trainer infers it from the data). */
    public int classes() {
        return classes;
    }

    /**
     * The per-class weights of the cross-entropy, in label order, or null for none; with
     * {@link #balancedClassWeights()} null until {@link SparkTrainer#fit} has counted the classes.
     */
    public double[] classWeights() {
        return classWeights == null ? null : classWeights.clone();
    }

    /** Whether the class weights balance the training data's classes ({@link Builder#balancedClassWeights}). */
    public boolean balancedClassWeights() {
        return balancedClassWeights;
    }

    /** The cross-entropy's label smoothing ε; 0 for none. */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * The loss every rank trains with: the task's, or for classification with class weights or label smoothing the
     * {@link SoftmaxCrossEntropy} with them (PyTorch's {@code CrossEntropyLoss(weight=w, label_smoothing=eps)}, as
     * local training builds it).
     *
     * @throws IllegalStateException when balanced class weights have not been counted yet
     */
    public Loss loss() {
        if (balancedClassWeights && classWeights == null) {
            throw new IllegalStateException("balanced class weights are counted from the data by SparkTrainer.fit; "
                    + "this spec has not been through it");
        }
        if (classWeights == null && labelSmoothing == 0) {
            return task.loss();
        }
        SoftmaxCrossEntropy.Builder b = SoftmaxCrossEntropy.builder().labelSmoothing(labelSmoothing);
        return (classWeights == null ? b : b.weights(classWeights)).build();
    }

    /**
     * The loss settings as checkpoints and model files record them under {@link SoftmaxCrossEntropy#METADATA_KEY}
     * ({@link SoftmaxCrossEntropy#settings}), or null when the task's plain loss trains.
     *
     * @throws IllegalStateException when balanced class weights have not been counted yet
     */
    public String lossSettings() {
        return loss() instanceof SoftmaxCrossEntropy ce && (ce.weights() != null || ce.labelSmoothing() > 0)
                ? ce.settings(balancedClassWeights) : null;
    }

    /** Examples per rank per step; the global batch is this times the number of ranks. */
    public int batchSize() {
        return batchSize;
    }

    /** Epochs to train in total (counting those restored from a checkpoint). */
    public int epochs() {
        return epochs;
    }

    /** Seed of the per-rank shuffles. */
    public long seed() {
        return seed;
    }

    /** Maximum global gradient norm (after averaging), or 0 for no clipping. */
    public double clipNorm() {
        return clipNorm;
    }

    /** Gradient averaging every step, or parameter averaging every K steps. */
    public SyncMode sync() {
        return sync;
    }

    /** Where rank 0 keeps checkpoints (a Hadoop file system URI or a local path every executor sees), or null. */
    public String checkpointDir() {
        return checkpointDir;
    }

    /** Steps between checkpoints; 0 means at the end of every epoch. */
    public int checkpointEvery() {
        return checkpointEvery;
    }

    /** The backend each rank asks {@link dev.backprop.runtime.Backends} for: a name, or {@code auto}. */
    public String backend() {
        return backend;
    }

    /** Explicit cpu backend threads, or null to follow {@code spark.task.cpus}. */
    public Integer threads() {
        return threads;
    }

    /** Timeouts and simulated delay of the ranks' connections. */
    public TransportOptions transport() {
        return transport;
    }

    /** The address ranks listen on, or null for the address they announce (see {@link Builder#listen}). */
    public String bindHost() {
        return bindHost;
    }

    /** The port ranks listen on; 0 for any free port. */
    public int port() {
        return port;
    }

    /** The host name other ranks use to reach a rank, or null for the executor address Spark reports. */
    public String advertiseHost() {
        return advertiseHost;
    }

    /** The per-step callback, or null. */
    public StepListener listener() {
        return listener;
    }

    /** The dimensions each example is given to the model as ({@code [1, 28, 28]}), or null for flat rows. */
    public int[] inputShape() {
        return inputShape == null ? null : inputShape.clone();
    }

    /**
     * The CSV column the labels were read from when it is not the last, as checkpoints and model files record it
     * under {@link dev.backprop.model.SavedModel#LABEL_COLUMN_KEY} ({@link dev.backprop.data.LabelColumn#toString}),
     * or null for the last column or data that is not a CSV.
     */
    public String labelColumn() {
        return labelColumn;
    }

    /** One line for logs. */
    public String describe() {
        return String.format(Locale.ROOT, "task %s%s, batch %d per rank, %d epoch%s, seed %d, sync %s, backend %s%s%s",
                task.id(), describeLoss(), batchSize, epochs, epochs == 1 ? "" : "s", seed, sync, backend,
                clipNorm > 0 ? ", clip " + clipNorm : "",
                checkpointDir == null ? ", no checkpoints" : ", checkpoints in " + checkpointDir);
    }

    /** The loss settings for {@link #describe}: empty when none is set. */
    private String describeLoss() {
        String w = classWeights != null ? ", class weights " + Arrays.stream(classWeights)
                .mapToObj(v -> String.format(Locale.ROOT, "%.4g", v)).collect(Collectors.joining(","))
                + (balancedClassWeights ? " (balanced)" : "")
                : balancedClassWeights ? ", balanced class weights" : "";
        return w + (labelSmoothing > 0 ? ", label smoothing " + OptimizerChoice.number(labelSmoothing) : "");
    }

    /** Builds a {@link TrainingSpec}; every setter validates its argument. */
    public static final class Builder {
        private final ModelFactory model;
        private final OptimizerChoice optimizer;
        private Task task = Task.CLASSIFICATION;
        private int classes;
        private double[] classWeights;
        private boolean balancedClassWeights;
        private double labelSmoothing;
        private int batchSize = 128;
        private int epochs = 1;
        private long seed;
        private double clipNorm;
        private SyncMode sync = SyncMode.gradients();
        private String checkpointDir;
        private int checkpointEvery;
        private String backend = "auto";
        private Integer threads;
        private TransportOptions transport = TransportOptions.defaults();
        private String bindHost;
        private int port;
        private String advertiseHost;
        private StepListener listener;
        private int[] inputShape;
        private String labelColumn;

        private Builder(ModelFactory model, OptimizerChoice optimizer) {
            this.model = Objects.requireNonNull(model, "model factory");
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
            if (optimizer.onPlateau()) {
                throw new IllegalArgumentException("optimizer " + optimizer.describe() + ": the plateau schedule "
                        + "follows a validation value, which Spark training does not compute; choose none, step or "
                        + "cosine");
            }
        }

        /** The task (default classification). */
        public Builder task(Task t) {
            this.task = Objects.requireNonNull(t, "task");
            return this;
        }

        /** Number of classes; 0 (the default) infers it as the largest label plus one. */
        public Builder classes(int n) {
            this.classes = requireAtLeast("classes", n, 0);
            return this;
        }

        /**
         * Class weights of the cross-entropy, one per class in label order, as PyTorch's
         * {@code CrossEntropyLoss(weight=w)} (default none; null means none): a step's loss is
         * {@code Σ w[y_i]·loss_i / Σ w[y_i]} over the global batch, whose gradient the ranks compute together.
         *
         * @throws IllegalArgumentException for no weights, or a weight that is not positive and finite (named)
         */
        public Builder classWeights(double... weights) {
            if (weights != null) {
                SoftmaxCrossEntropy.builder().weights(weights);
            }
            this.classWeights = weights == null ? null : weights.clone();
            this.balancedClassWeights = false;
            return this;
        }

        /**
         * Class weights that balance the training data's classes, scikit-learn's {@code class_weight="balanced"}
         * ({@link SoftmaxCrossEntropy.Builder#balancedWeights(long[], java.util.List)}), counted over all
         * partitions by {@link SparkTrainer#fit} before training.
         */
        public Builder balancedClassWeights() {
            this.classWeights = null;
            this.balancedClassWeights = true;
            return this;
        }

        /** Balanced class weights as {@link SparkTrainer#fit} counted them from the data. */
        Builder countedClassWeights(double[] weights) {
            classWeights(weights);
            this.balancedClassWeights = true;
            return this;
        }

        /**
         * Label smoothing ε of the cross-entropy, as PyTorch's {@code CrossEntropyLoss(label_smoothing=eps)}
         * (default 0, none).
         *
         * @throws IllegalArgumentException for a value outside [0, 1)
         */
        public Builder labelSmoothing(double eps) {
            SoftmaxCrossEntropy.builder().labelSmoothing(eps);
            this.labelSmoothing = eps;
            return this;
        }

        /** Examples per rank per step (default 128). */
        public Builder batchSize(int n) {
            this.batchSize = requireAtLeast("batch size", n, 1);
            return this;
        }

        /** Epochs (default 1); an epoch is the common number of steps over the shards. */
        public Builder epochs(int n) {
            this.epochs = requireAtLeast("epochs", n, 1);
            return this;
        }

        /** Seed of the per-rank shuffles (default 0); the model factory has its own seed. */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Clips the averaged gradient to this global norm; 0 (default) does not clip. */
        public Builder clipNorm(double norm) {
            if (!(norm >= 0) || !Double.isFinite(norm)) {
                throw new IllegalArgumentException("clip norm must be finite and >= 0, got " + norm);
            }
            this.clipNorm = norm;
            return this;
        }

        /** How ranks keep their models together (default: gradient averaging every step). */
        public Builder sync(SyncMode s) {
            this.sync = Objects.requireNonNull(s, "sync mode");
            return this;
        }

        /**
         * Checkpoints in {@code dir} (a Hadoop file system URI such as {@code hdfs://nn/ckpt}, or a path every
         * executor sees) every {@code everySteps} steps, or at the end of every epoch when 0. A rerun of the
         * barrier stage, or a new run with the same directory, resumes from the newest checkpoint there.
         */
        public Builder checkpoints(String dir, int everySteps) {
            this.checkpointDir = dir;
            this.checkpointEvery = requireAtLeast("checkpoint interval", everySteps, 0);
            return this;
        }

        /**
         * The backend each rank asks {@link dev.backprop.runtime.Backends} for, with the GPU Spark assigned it as
         * the device: a name, or {@code auto} (the default; null means the same) for automatic selection.
         */
        public Builder backend(String name) {
            this.backend = name == null || name.isBlank() ? "auto" : name.trim().toLowerCase(Locale.ROOT);
            return this;
        }

        /** Threads of the cpu backend on every rank; default: {@code spark.task.cpus}. */
        public Builder threads(int n) {
            this.threads = requireAtLeast("threads", n, 1);
            return this;
        }

        /** Timeouts and simulated delay of the ranks' connections (default {@link TransportOptions#defaults()}). */
        public Builder transport(TransportOptions t) {
            this.transport = Objects.requireNonNull(t, "transport options");
            return this;
        }

        /**
         * Where ranks listen: the address ({@code null}, the default: the address each rank announces to the
         * others, which is its executor's own address, or loopback on a {@code local} master) and port (0, any
         * free one, by default; a fixed port {@code p} means the first free one of {@code p..p+31}, for firewalls).
         */
        public Builder listen(String host, int listenPort) {
            if (listenPort < 0 || listenPort > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], got " + listenPort);
            }
            this.bindHost = host;
            this.port = listenPort;
            return this;
        }

        /** The host name other ranks use to reach each rank; default: the executor address Spark reports. */
        public Builder advertiseHost(String host) {
            this.advertiseHost = host;
            return this;
        }

        /**
         * The dimensions each example is given to the model as, e.g. {@code [1, 28, 28]} for a convolutional
         * network on flat 784-pixel rows; null (the default) gives flat rows.
         *
         * @throws IllegalArgumentException for an empty shape or a dimension below 1
         */
        public Builder inputShape(int... shape) {
            if (shape != null && (shape.length == 0 || java.util.Arrays.stream(shape).anyMatch(d -> d < 1))) {
                throw new IllegalArgumentException("input shape " + java.util.Arrays.toString(shape)
                        + ": give at least one dimension, all >= 1");
            }
            this.inputShape = shape == null ? null : shape.clone();
            return this;
        }

        /**
         * The CSV column the labels are read from ({@link dev.backprop.data.LabelColumn#toString}), recorded in each
         * checkpoint so that a resumed run must read its data the same way; null (the default) for the last column
         * or data that is not a CSV.
         *
         * @throws IllegalArgumentException for a blank column
         */
        public Builder labelColumn(String column) {
            if (column != null && column.isBlank()) {
                throw new IllegalArgumentException("a label column is a header name or a 0-based index, got '"
                        + column + "'");
            }
            this.labelColumn = column;
            return this;
        }

        /** A callback run on every rank after each step; null for none. */
        public Builder listener(StepListener l) {
            this.listener = l;
            return this;
        }

        /**
         * The spec.
         *
         * @throws IllegalArgumentException when parameter averaging is combined with a checkpoint interval that
         *                                  is not a multiple of its period (checkpoints need averaged models), when
         *                                  class weights or label smoothing are set for a task other than
         *                                  classification, when the class weights do not match the classes, or when
         *                                  the optimizer's warmup is as long as the run or longer
         *                                  ({@link OptimizerChoice#checkWarmup})
         */
        public TrainingSpec build() {
            optimizer.checkWarmup(epochs);
            boolean weighted = classWeights != null || balancedClassWeights;
            if (task != Task.CLASSIFICATION && (weighted || labelSmoothing > 0)) {
                throw new IllegalArgumentException((weighted ? "class weights apply" : "label smoothing applies")
                        + " to task classification (softmax cross-entropy), not to task " + task.id());
            }
            if (classWeights != null && classes > 0 && classWeights.length != classes) {
                throw new IllegalArgumentException(classWeights.length + " class weights, but the data has "
                        + classes + " classes");
            }
            sync.checkCheckpointInterval(checkpointEvery);
            return new TrainingSpec(this);
        }

        private static int requireAtLeast(String what, int v, int min) {
            if (v < min) {
                throw new IllegalArgumentException(what + " must be >= " + min + ", got " + v);
            }
            return v;
        }
    }
}
