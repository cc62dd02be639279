package dev.backprop.model;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.tensor.Tensor;

/**
 * Gathers mini-batches of a host {@link Dataset} into device tensors that are allocated once and reused for every
 * batch, so a training loop allocates nothing per step for its inputs. Features go to a FLOAT32 tensor
 * {@code [B, F]}; class labels to an INT32 tensor {@code [B]}, real targets to a FLOAT32 tensor {@code [B, T]}.
 * A last, partial batch of {@code n < B} examples is served as views of the first {@code n} rows.
 *
 * <p>The tensors of a {@link Batch} are overwritten by the next {@link #load}: use one batch at a time. Not
 * thread-safe.
 */
public final class BatchLoader implements AutoCloseable {
    private final Dataset data;
    private final Backend backend;
    private final int batchSize;
    private final int featureSize;
    private final int targetSize;
    private final float[] hostFeatures;
    private final int[] hostLabels;
    private final float[] hostTargets;
    private final Tensor features;
    private final Tensor targets;

    /**
     * One batch on the device.
     *
     * @param features {@code [n, F]} FLOAT32
     * @param targets  {@code [n]} INT32 labels, or {@code [n, T]} FLOAT32 targets
     * @param rows     {@code n}
     */
    public record Batch(Tensor features, Tensor targets, int rows) {
    }

    /**
     * Allocates the device tensors for batches of up to {@code batchSize} examples of {@code data}.
     *
     * @throws IllegalArgumentException when {@code batchSize < 1}
     */
    public BatchLoader(Dataset data, Backend backend, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.data = data;
        this.backend = backend;
        this.batchSize = batchSize;
        this.featureSize = data.featureSize();
        this.targetSize = data.hasLabels() ? 1 : data.targetSize();
        this.hostFeatures = new float[Math.multiplyExact(batchSize, featureSize)];
        this.hostLabels = data.hasLabels() ? new int[batchSize] : null;
        this.hostTargets = data.hasLabels() ? null : new float[Math.multiplyExact(batchSize, targetSize)];
        this.features = Tensor.empty(backend, DType.FLOAT32, batchSize, featureSize);
        try {
            this.targets = data.hasLabels() ? Tensor.empty(backend, DType.INT32, batchSize)
                    : Tensor.empty(backend, DType.FLOAT32, batchSize, targetSize);
        } catch (RuntimeException e) {
            features.close();
            throw e;
        }
    }

    /** The largest batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Number of batches in one pass over the data (the last one may be partial). */
    public int batchesPerEpoch() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    /**
     * Copies examples {@code order[from..to)} to the device and returns them as one batch.
     *
     * @throws IllegalArgumentException when the range is empty, larger than the batch size or outside
     *                                  {@code order}
     */
    public Batch load(int[] order, int from, int to) {
        int n = to - from;
        if (from < 0 || to > order.length || n < 1 || n > batchSize) {
            throw new IllegalArgumentException("batch [" + from + ", " + to + ") of an order of " + order.length
                    + " examples does not fit a batch of at most " + batchSize);
        }
        data.gatherFeatures(order, from, to, hostFeatures);
        backend.upload(hostFeatures, 0, features.buffer(), features.offset(), n * featureSize);
        if (hostLabels != null) {
            data.gatherLabels(order, from, to, hostLabels);
            backend.upload(hostLabels, 0, targets.buffer(), targets.offset(), n);
        } else {
            data.gatherTargets(order, from, to, hostTargets);
            backend.upload(hostTargets, 0, targets.buffer(), targets.offset(), n * targetSize);
        }
        if (n == batchSize) {
            return new Batch(features, targets, n);
        }
        return new Batch(features.rows(0, n), targets.rows(0, n), n);
    }

    /** Frees the device tensors. Idempotent. */
    @Override
    public void close() {
        features.close();
        targets.close();
    }
}
