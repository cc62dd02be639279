package dev.backprop.spark.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ShardPlanTest {
    /** {@code S = min_r ceil(n_r / B)}: shards of 10 and 7 in batches of 4 make min(3, 2) steps. */
    @Test
    void stepsAreTheSmallestShardsBatchCount() {
        ShardPlan plan = new ShardPlan(new int[] {10, 7}, 4);
        assertEquals(2, plan.stepsPerEpoch());
        assertEquals(4, plan.count(0, 1));
        assertEquals(3, plan.count(1, 1));
        assertEquals(7, plan.globalCount(1));
        assertEquals(15, plan.examplesPerEpoch());
    }

    /**
     * A batch size past every shard (--batch-size 2147483647) is one step of each whole shard, as the one-machine
     * loader's one batch of it all; {@code n + B - 1} overflows an int there.
     */
    @Test
    void aBatchSizePastEveryShardIsOneStepOfItAll() {
        ShardPlan plan = new ShardPlan(new int[] {10, 7}, Integer.MAX_VALUE);
        assertEquals(1, plan.stepsPerEpoch());
        assertEquals(10, plan.count(0, 0));
        assertEquals(7, plan.count(1, 0));
        assertEquals(17, plan.examplesPerEpoch());
    }
}
