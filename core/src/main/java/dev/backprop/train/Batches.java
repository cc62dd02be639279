package dev.backprop.train;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.random.TorchGenerator;
import dev.backprop.tensor.Tensor;


/**
 * Mini-batches gathered on the host and uploaded: seeded shuffling (the order of epoch {@code e} depends only on
 * the seed and {@code e}, so a resumed run sees the same batches) and the conversion to the model's dtype.
 */
public final class Batches {
    private Batches() {
    }

    /**
     * The example order of epoch {@code epoch} (0-based), or the identity when {@code shuffle} is false. Shuffled,
     * it is the {@code epoch+1}-th {@code torch.randperm(size, generator=torch.Generator().manual_seed(seed))}
     * ({@link TorchGenerator}), so a run sees the same batches as the PyTorch reference with the same seed, and a
     * resumed run the same batches as an uninterrupted one (earlier permutations are replayed: cheap next to an
     * epoch).
     */
    public static int[] order(int size, long seed, int epoch, boolean shuffle) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (!shuffle) {
            int[] o = new int[size];
            for (int i = 0; i < size; i++) {
                o[i] = i;
            }
            return o;
        }
        TorchGenerator g = new TorchGenerator(seed);
        for (int e = 0; e < epoch; e++) {
            g.randperm(size);
        }
        return g.randperm(size);
    }

    /** Features of examples {@code order[from..to)} as a {@code [B, ...featureShape]} tensor of {@code dtype}. */
    public static Tensor features(Dataset data, int[] order, int from, int to, Backend backend, DType dtype) {
        int b = to - from;
        float[] f = new float[Math.multiplyExact(b, data.featureSize())];
        data.gatherFeatures(order, from, to, f);
        return floating(backend, dtype, f, batchShape(data, b));
    }

    /** The dimensions {@code [b, ...featureShape]} of a batch of {@code b} examples of {@code data}. */
    public static int[] batchShape(Dataset data, int b) {
        int[] fs = data.featureShape();
        int[] dims = new int[fs.length + 1];
        dims[0] = b;
        System.arraycopy(fs, 0, dims, 1, fs.length);
        return dims;
    }

    /**
     * Targets of examples {@code order[from..to)}: INT32 labels {@code [B]} for a classification set, else
     * {@code [B, targetSize]} of {@code dtype}.
     */
    public static Tensor targets(Dataset data, int[] order, int from, int to, Backend backend, DType dtype) {
        int b = to - from;
        if (data.hasLabels()) {
            int[] l = new int[b];
            data.gatherLabels(order, from, to, l);
            return Tensor.of(backend, l, b);
        }
        float[] t = new float[Math.multiplyExact(b, data.targetSize())];
        data.gatherTargets(order, from, to, t);
        return floating(backend, dtype, t, b, data.targetSize());
    }

    private static Tensor floating(Backend backend, DType dtype, float[] f, int... dims) {
        if (dtype == DType.FLOAT32) {
            return Tensor.of(backend, f, dims);
        }
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return Tensor.of(backend, d, dims);
    }
}
