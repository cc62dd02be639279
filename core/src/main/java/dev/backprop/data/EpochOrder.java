package dev.backprop.data;

import dev.backprop.random.TorchGenerator;

/**
 * The order in which an epoch visits a data set: a seeded shuffle whose result for epoch {@code e} depends only on
 * the seed and {@code e}, so a resumed run sees the same batches as an uninterrupted one.
 */
public final class EpochOrder {
    private EpochOrder() {
    }

    /**
     * The example order of epoch {@code epoch} (0-based), or the identity when {@code shuffle} is false. Shuffled,
     * it is the {@code epoch+1}-th {@code torch.randperm(size, generator=torch.Generator().manual_seed(seed))}
     * ({@link TorchGenerator}), so a run sees the same batches as the PyTorch reference with the same seed, and a
     * resumed run the same batches as an uninterrupted one (earlier permutations are replayed: cheap next to an
     * epoch).
     */
    public static int[] of(int size, long seed, int epoch, boolean shuffle) {
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
}
