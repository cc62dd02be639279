package dev.backprop.data;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.DeviceType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.List;

/**
 * The one source of mini-batches: gathers examples of a host {@link Dataset} into device tensors that are
 * allocated once and reused for every batch, so a training loop allocates nothing per step for its inputs.
 * Features go to a tensor {@code [B, ...featureShape]} of the loader's floating dtype; class labels to an INT32
 * tensor {@code [B]}, real targets to a tensor {@code [B, T]} of the floating dtype. A last, partial batch of
 * {@code n < B} examples is served as views of the first {@code n} rows. Examples are stored as float32 on the
 * host; a FLOAT64 loader converts each batch on the host before uploading it.
 *
 * <p>Where the data lives is a {@link Placement}: on the host (each batch gathered there and uploaded) or, for a
 * FLOAT32 loader used over many epochs on a GPU, on the device (uploaded once; each batch is a small upload of its
 * indices and a gather on the device, as PyTorch does with a data set moved to the GPU).
 *
 * <p>A training loader may {@link Augmentation augment} each example as it gathers it: always on the host, so it never
 * keeps the data set on the device (on a GPU each batch is then uploaded, as PyTorch's {@code DataLoader} does). The
 * draws depend on the loader's seed, the epoch set by {@link #startEpoch} and the example's position in the epoch's
 * order, so they come out the same on every backend and after a resume.
 *
 * <p>A batch never holds more than the data set, as a PyTorch {@code DataLoader}'s: a batch size past it gives one
 * batch of every example, and the loader allocates only the data set's rows.
 *
 * <p>The tensors of a {@link Batch} are overwritten by the next {@link #load}: use one batch at a time. Not
 * thread-safe.
 */
public final class BatchLoader implements AutoCloseable {
    private final Dataset data;
    private final Backend backend;
    private final DType dtype;
    private final int batchSize;
    /** The rows the batch buffers hold: the batch size, or the whole data set when it is smaller. */
    private final int capacity;
    private final int featureSize;
    private final int targetSize;
    private final float[] hostFeatures;
    private final int[] hostLabels;
    private final float[] hostTargets;
    /** The FLOAT64 loader's conversion buffer, as long as the larger of a batch's features and targets. */
    private final double[] hostDoubles;
    private final Tensor features;
    private final Tensor targets;
    /** Device-resident copies of the whole data set and the batch's indices; null with {@link Placement#HOST}. */
    private final Tensor allFeatures;
    private final Tensor allTargets;
    private final Tensor indices;
    private final Augmentation augmentation;
    private final long seed;
    /** An augmenting loader's copy of one example; null without augmentation. */
    private final float[] scratch;
    private int epoch;

    /** Where the examples are gathered into batches. */
    public enum Placement {
        /** On the host: each batch is gathered there and uploaded (nothing of the data set on the device). */
        HOST,
        /**
         * On the device: the whole data set is uploaded once, then each batch is its indices uploaded and two
         * gathers on the device ({@link Elementwise#gatherRows}). Pays off over many passes on a GPU, where it
         * takes the per-step gather and copy off the host.
         */
        DEVICE,
        /**
         * {@link #DEVICE} for a FLOAT32 loader on a GPU or accelerator when the data set takes at most a quarter of
         * its memory (and the device then has room for it), otherwise {@link #HOST} (on the cpu backend the two do
         * the same work, and HOST copies less).
         */
        AUTO
    }

    /**
     * One batch on the device.
     *
     * @param features {@code [n, ...featureShape]} of the loader's dtype
     * @param targets  {@code [n]} INT32 labels, or {@code [n, T]} targets of the loader's dtype
     * @param rows     {@code n}
     */
    public record Batch(Tensor features, Tensor targets, int rows) {
    }

    /**
     * A FLOAT32 {@link Placement#HOST} loader: allocates the device tensors for batches of up to {@code batchSize}
     * examples of {@code data}.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}
     */
    public BatchLoader(Dataset data, Backend backend, int batchSize) {
        this(data, backend, DType.FLOAT32, batchSize, Placement.HOST);
    }

    /**
     * A FLOAT32 loader for batches of up to {@code batchSize} examples of {@code data}, gathered where
     * {@code placement} says ({@link Placement#DEVICE} uploads the whole data set here, once).
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}
     */
    public BatchLoader(Dataset data, Backend backend, int batchSize, Placement placement) {
        this(data, backend, DType.FLOAT32, batchSize, placement);
    }

    /**
     * A loader for batches of up to {@code batchSize} examples of {@code data} in {@code dtype} (FLOAT32 or
     * FLOAT64), gathered where {@code placement} says.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}, {@code dtype} is not floating, or a FLOAT64
     *                                  loader is asked for {@link Placement#DEVICE}
     */
    public BatchLoader(Dataset data, Backend backend, DType dtype, int batchSize, Placement placement) {
        this(data, backend, dtype, batchSize, placement, Augmentation.NONE, 0);
    }

    /**
     * A {@link Placement#HOST} loader in {@code dtype} (FLOAT32 or FLOAT64) that augments every example it gathers
     * with {@code augmentation}, drawn from {@code seed}, the epoch ({@link #startEpoch}) and the example's position.
     * {@link Augmentation#NONE} gives a plain host loader.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}, {@code dtype} is not floating, or the examples are
     *                                  not images ({@link Augmentation#checkImageShape})
     */
    public BatchLoader(Dataset data, Backend backend, DType dtype, int batchSize, Augmentation augmentation,
                       long seed) {
        this(data, backend, dtype, batchSize, Placement.HOST, augmentation, seed);
    }

    private BatchLoader(Dataset data, Backend backend, DType dtype, int batchSize, Placement placement,
                        Augmentation augmentation, long seed) {
        if (!augmentation.isNone()) {
            Augmentation.checkImageShape(data.featureShape());
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("batches are FLOAT32 or FLOAT64, not " + dtype);
        }
        if (dtype != DType.FLOAT32 && placement == Placement.DEVICE) {
            throw new IllegalArgumentException("a data set is kept on the device as FLOAT32 only, not " + dtype);
        }
        this.data = data;
        this.backend = backend;
        this.dtype = dtype;
        this.batchSize = batchSize;
        // A batch never holds more than the data set (as a PyTorch DataLoader's), so a batch size past it
        // allocates nothing it could not fill.
        this.capacity = Math.min(batchSize, Math.max(1, data.size()));
        this.featureSize = data.featureSize();
        this.targetSize = data.hasLabels() ? 1 : data.targetSize();
        boolean resident = placement == Placement.DEVICE
                || placement == Placement.AUTO && dtype == DType.FLOAT32 && pays(backend);
        Tensor[] made = new Tensor[5];
        try {
            made[0] = Tensor.empty(backend, dtype, capacity, featureSize);
            made[1] = targetTensor(backend, capacity);
            if (resident) {
                try {
                    made[2] = Tensor.empty(backend, DType.INT32, capacity);
                    made[3] = Tensor.empty(backend, DType.FLOAT32, data.size(), featureSize);
                    made[4] = targetTensor(backend, data.size());
                    uploadAll(made[3], made[4]);
                } catch (DeviceOutOfMemoryException e) {
                    if (placement != Placement.AUTO) {
                        throw e;
                    }
                    closeAll(made, 2); // AUTO: the device is fuller than its size said; gather on the host
                    resident = false;
                }
            }
        } catch (RuntimeException e) {
            closeAll(made, 0);
            throw e;
        }
        this.hostFeatures = resident ? null : new float[Math.multiplyExact(capacity, featureSize)];
        this.hostLabels = resident || !data.hasLabels() ? null : new int[capacity];
        this.hostTargets = resident || data.hasLabels() ? null : new float[Math.multiplyExact(capacity, targetSize)];
        this.hostDoubles = dtype == DType.FLOAT32 ? null
                : new double[Math.multiplyExact(capacity, Math.max(featureSize, targetSize))];
        this.features = made[0];
        this.targets = made[1];
        this.indices = made[2];
        this.allFeatures = made[3];
        this.allTargets = made[4];
        this.augmentation = augmentation;
        this.seed = seed;
        this.scratch = augmentation.isNone() ? null : new float[featureSize];
    }

    private static void closeAll(Tensor[] made, int from) {
        for (int i = from; i < made.length; i++) {
            if (made[i] != null) {
                made[i].close();
                made[i] = null;
            }
        }
    }

    /** Whether {@link Placement#AUTO} puts the data set on {@code backend}'s device. */
    private boolean pays(Backend backend) {
        long bytes = 4L * data.size() * (featureSize + targetSize);
        return backend.device().type() != DeviceType.CPU && bytes <= backend.device().memoryBytes() / 4;
    }

    private Tensor targetTensor(Backend on, int rows) {
        return data.hasLabels() ? Tensor.empty(on, DType.INT32, rows) : Tensor.empty(on, dtype, rows, targetSize);
    }

    /** Uploads the whole data set in chunks of rows (the host never holds a second full copy). */
    private void uploadAll(Tensor toFeatures, Tensor toTargets) {
        int[] order = data.identityOrder();
        int chunk = Math.max(1, Math.min(data.size(), (1 << 20) / Math.max(1, featureSize)));
        float[] f = new float[Math.multiplyExact(chunk, featureSize)];
        int[] labels = data.hasLabels() ? new int[chunk] : null;
        float[] t = data.hasLabels() ? null : new float[Math.multiplyExact(chunk, targetSize)];
        for (int from = 0; from < data.size(); from += chunk) {
            int to = Math.min(data.size(), from + chunk), n = to - from;
            data.gatherFeatures(order, from, to, f);
            backend.upload(f, 0, toFeatures.buffer(), toFeatures.offset() + (long) from * featureSize, n * featureSize);
            if (labels != null) {
                data.gatherLabels(order, from, to, labels);
                backend.upload(labels, 0, toTargets.buffer(), toTargets.offset() + from, n);
            } else {
                data.gatherTargets(order, from, to, t);
                backend.upload(t, 0, toTargets.buffer(), toTargets.offset() + (long) from * targetSize,
                        n * targetSize);
            }
        }
    }

    /** Whether the data set lives on the device (see {@link Placement}). */
    public boolean resident() {
        return allFeatures != null;
    }

    /** The examples batches are drawn from. */
    public Dataset dataset() {
        return data;
    }

    /** The floating dtype of the features (and of real targets). */
    public DType dtype() {
        return dtype;
    }

    /** How the loader augments its examples ({@link Augmentation#NONE}: not at all). */
    public Augmentation augmentation() {
        return augmentation;
    }

    /** The seed of the augmentation's draws. */
    public long seed() {
        return seed;
    }

    /**
     * Sets the 0-based epoch whose draws the examples staged next get; position {@code i} of the order passed to
     * {@link #stage} is example {@code i} of that epoch. Changes nothing for a loader that does not augment.
     *
     * @throws IllegalArgumentException when {@code epoch < 0}
     */
    public void startEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        this.epoch = epoch;
    }

    /** The largest batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Number of batches in one pass over the data (the last one may be partial). */
    public int batchesPerEpoch() {
        return batchesPerEpoch(data.size(), batchSize);
    }

    /**
     * Number of batches of up to {@code batchSize} that {@code examples} examples make (the last one may be partial):
     * {@code ceil(examples / batchSize)}, for every batch size up to {@link Integer#MAX_VALUE}.
     *
     * @throws IllegalArgumentException when {@code examples < 0} or {@code batchSize < 1}
     */
    public static int batchesPerEpoch(int examples, int batchSize) {
        if (examples < 0 || batchSize < 1) {
            throw new IllegalArgumentException("batches of " + batchSize + " from " + examples + " examples: need at "
                    + "least 0 examples and a batch size of at least 1");
        }
        // (examples + batchSize - 1) / batchSize would overflow for a batch size near Integer.MAX_VALUE
        return examples == 0 ? 0 : (examples - 1) / batchSize + 1;
    }

    /**
     * Copies examples {@code order[from..to)} to the device and returns them as one batch: {@link #stage} then
     * {@link #gather}.
     *
     * @throws IllegalArgumentException when the range is empty, larger than the batch size (or than the data set,
     *                                  when that is smaller) or outside {@code order}
     */
    public Batch load(int[] order, int from, int to) {
        return gather(stage(order, from, to));
    }

    /**
     * The host's part of {@link #load}: checks the range and uploads what the batch is made from, its examples, or
     * for a data set on the device their indices. What is left, {@link #gather}, is device work only, on buffers
     * fixed for a batch size: the part of a training step a backend may record and replay.
     *
     * @return the batch's rows, {@code to - from}
     * @throws IllegalArgumentException when the range is empty, larger than the batch size (or than the data set,
     *                                  when that is smaller) or outside {@code order}
     */
    public int stage(int[] order, int from, int to) {
        int n = to - from;
        if (from < 0 || to > order.length || n < 1 || n > capacity) {
            throw new IllegalArgumentException("batch [" + from + ", " + to + ") of an order of " + order.length
                    + " examples does not fit a batch of at most " + capacity);
        }
        if (resident()) {
            for (int i = from; i < to; i++) {
                if (order[i] < 0 || order[i] >= data.size()) { // the device gather would give a zero row
                    throw new IllegalArgumentException("order[" + i + "] = " + order[i] + " is not an example index "
                            + "of a data set of " + data.size());
                }
            }
            backend.upload(order, from, indices.buffer(), indices.offset(), n);
            return n;
        }
        Tensor t = n == capacity ? targets : targets.rows(0, n);
        // The batch tensors are the same every step: a backward pass through a batch loaded before must see this.
        features.incrementVersion();
        targets.incrementVersion();
        data.gatherFeatures(order, from, to, hostFeatures);
        if (scratch != null) {
            int[] shape = data.featureShape();
            for (int i = from; i < to; i++) {
                augmentation.apply(hostFeatures, (i - from) * featureSize, shape, augmentation.draw(seed, epoch, i),
                        scratch);
            }
        }
        upload(hostFeatures, n == capacity ? features : features.rows(0, n), n * featureSize);
        if (hostLabels != null) {
            data.gatherLabels(order, from, to, hostLabels);
            backend.upload(hostLabels, 0, t.buffer(), t.offset(), n);
        } else {
            data.gatherTargets(order, from, to, hostTargets);
            upload(hostTargets, t, n * targetSize);
        }
        return n;
    }

    /**
     * The device's part of {@link #load} for the {@code rows} examples {@link #stage}d last: for a data set on the
     * device, the gathers of their features and targets; then the batch.
     *
     * @throws IllegalArgumentException when {@code rows} is not a batch size of this loader
     */
    public Batch gather(int rows) {
        if (rows < 1 || rows > capacity) {
            throw new IllegalArgumentException("a batch of " + rows + " rows does not fit a batch of at most "
                    + capacity);
        }
        Tensor f = rows == capacity ? features : features.rows(0, rows);
        Tensor t = rows == capacity ? targets : targets.rows(0, rows);
        if (resident()) {
            Tensor ix = rows == capacity ? indices : indices.rows(0, rows);
            Elementwise.gatherRows(allFeatures, ix, f);
            Elementwise.gatherRows(allTargets, ix, t);
        }
        return new Batch(shaped(f, rows), t, rows);
    }

    /** {@return the device tensors of the loader: the batch's, and those of a data set on the device} */
    public List<Tensor> tensors() {
        return resident() ? List.of(features, targets, indices, allFeatures, allTargets) : List.of(features, targets);
    }

    /** Uploads {@code count} host floats into {@code dst}, converted to the loader's dtype. */
    private void upload(float[] src, Tensor dst, int count) {
        if (hostDoubles == null) {
            backend.upload(src, 0, dst.buffer(), dst.offset(), count);
            return;
        }
        for (int i = 0; i < count; i++) {
            hostDoubles[i] = src[i];
        }
        backend.upload(hostDoubles, 0, dst.buffer(), dst.offset(), count);
    }

    /** The features {@code [n, F]} seen as {@code [n, ...featureShape]} (a view; itself for flat data). */
    private Tensor shaped(Tensor f, int n) {
        int[] fs = data.featureShape();
        if (fs.length == 1) {
            return f;
        }
        int[] dims = new int[fs.length + 1];
        dims[0] = n;
        System.arraycopy(fs, 0, dims, 1, fs.length);
        return f.reshape(dims);
    }

    /** Frees the device tensors. Idempotent. */
    @Override
    public void close() {
        features.close();
        targets.close();
        if (resident()) {
            indices.close();
            allFeatures.close();
            allTargets.close();
        }
    }
}
