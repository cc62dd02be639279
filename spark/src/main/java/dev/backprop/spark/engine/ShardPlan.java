package dev.backprop.spark.engine;

import dev.backprop.data.BatchLoader;
import dev.backprop.data.EpochOrder;

import java.util.Arrays;

/**
 * Which examples every rank uses at every step, known to every rank from the shard sizes alone.
 *
 * <p>An epoch has {@code S = min_r ceil(n_r / B)} steps, the same on every rank, so uneven shards cannot leave
 * a rank waiting for a step its peers never take. At step {@code s} of an epoch rank {@code r} uses examples
 * {@code [s·B, min(n_r, (s+1)·B))} of its epoch order, a seeded shuffle of its shard that depends only on the
 * seed, the epoch and the rank (so a resumed run sees the same batches). Examples of a larger shard beyond
 * {@code S·B} are left out of that epoch and come up in other epochs' shuffles.
 */
public final class ShardPlan {
    private final int[] shardSizes;
    private final int batchSize;
    private final int stepsPerEpoch;

    /**
     * @throws IllegalArgumentException naming the rank whose shard is empty
     */
    public ShardPlan(int[] shardSizes, int batchSize) {
        if (shardSizes.length == 0 || batchSize < 1) {
            throw new IllegalArgumentException("need at least one shard and a batch size >= 1, got "
                    + Arrays.toString(shardSizes) + " and " + batchSize);
        }
        int steps = Integer.MAX_VALUE;
        for (int r = 0; r < shardSizes.length; r++) {
            if (shardSizes[r] < 1) {
                throw new IllegalArgumentException("rank " + r + "'s partition is empty (shard sizes "
                        + Arrays.toString(shardSizes) + "); repartition the data so that every partition holds "
                        + "examples");
            }
            steps = Math.min(steps, BatchLoader.batchesPerEpoch(shardSizes[r], batchSize));
        }
        this.shardSizes = shardSizes.clone();
        this.batchSize = batchSize;
        this.stepsPerEpoch = steps;
    }

    /** Number of ranks. */
    public int ranks() {
        return shardSizes.length;
    }

    /** The shard size of {@code rank}. */
    public int shardSize(int rank) {
        return shardSizes[rank];
    }

    /** Examples per rank per step (a rank's last batch of an epoch may be smaller). */
    public int batchSize() {
        return batchSize;
    }

    /** Steps in every epoch. */
    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Examples {@code rank} uses at step {@code step} of an epoch. */
    public int count(int rank, int step) {
        return Math.min(batchSize, shardSizes[rank] - step * batchSize);
    }

    /** Examples all ranks use at step {@code step} of an epoch: the global batch. */
    public int globalCount(int step) {
        int t = 0;
        for (int r = 0; r < shardSizes.length; r++) {
            t += count(r, step);
        }
        return t;
    }

    /** Examples all ranks use in one epoch. */
    public long examplesPerEpoch() {
        long t = 0;
        for (int s = 0; s < stepsPerEpoch; s++) {
            t += globalCount(s);
        }
        return t;
    }

    /** The order in which {@code rank} visits its shard in {@code epoch} (0-based). */
    public int[] order(long seed, int rank, int epoch) {
        return EpochOrder.of(shardSizes[rank], rankSeed(seed, rank), epoch, true);
    }

    /** A distinct shuffle seed per rank, derived from the run's seed. */
    static long rankSeed(long seed, int rank) {
        long z = seed + 0x9E3779B97F4A7C15L * (rank + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
