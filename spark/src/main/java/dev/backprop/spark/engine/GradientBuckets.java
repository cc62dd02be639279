package dev.backprop.spark.engine;

import dev.backprop.autograd.GradientListener;
import dev.backprop.autograd.Variable;
import dev.backprop.spark.transport.BucketedAllReduce;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Feeds a step's gradients to a {@link BucketedAllReduce} while the backward pass still runs: as the tape
 * announces a parameter's gradient (or a block of a weight gradient's rows) complete, its elements are copied into
 * the all-reduce vector and handed over in buckets of about {@code bucketElements}, so the ranks exchange the last
 * layers' gradients while the first layer's weight gradient is still being computed. The bucket sequence follows
 * the backward pass, which is the same on every rank, so every rank posts the same buckets; whatever the buckets,
 * each element is reduced by the same rank-order sum, so the result does not depend on them.
 */
final class GradientBuckets implements GradientListener {
    private final FlatParameters flat;
    private final int bucketElements;
    private final Map<Variable, Integer> index = new IdentityHashMap<>();
    private final int[] offsets;
    private final int[] sizes;
    /** Per parameter, how many of its leading elements are in the vector already this step. */
    private final int[] copied;
    private BucketedAllReduce reduce;
    private int lo;
    private int hi;

    /**
     * @param bucketElements bucket size: a pending range goes out once it holds half of this (smaller pieces wait
     *                       for their neighbours), and a weight gradient larger than this is computed in row blocks
     *                       of at most this
     */
    GradientBuckets(FlatParameters flat, int bucketElements) {
        this.flat = flat;
        this.bucketElements = bucketElements;
        List<Variable> params = flat.parameters();
        offsets = new int[params.size()];
        sizes = new int[params.size()];
        copied = new int[params.size()];
        for (int i = 0; i < params.size(); i++) {
            index.put(params.get(i), i);
            offsets[i] = flat.offset(i);
            sizes[i] = (int) params.get(i).value().size();
        }
    }

    /**
     * Starts a step whose gradients go to {@code r}, with {@code tail} (this rank's batch loss, and its weight sum
     * when the classes are weighted) in the vector's last elements (they sit right after the last layer's
     * parameters, whose gradients come first, so they travel with them).
     */
    void begin(BucketedAllReduce r, float... tail) {
        reduce = r;
        lo = hi = 0;
        Arrays.fill(copied, 0);
        int at = flat.parameterCount();
        System.arraycopy(tail, 0, r.data(), at, tail.length);
        add(at, at + tail.length);
    }

    @Override
    public int gemmRowBlock(Variable leaf) {
        Integer i = index.get(leaf);
        if (i == null || leaf.shape().rank() != 2 || sizes[i] <= bucketElements) {
            return 0;
        }
        int rows = leaf.shape().dim(0);
        int parts = (sizes[i] + bucketElements - 1) / bucketElements;
        return (rows + parts - 1) / parts;
    }

    @Override
    public void rowsReady(Variable leaf, int from, int to) {
        Integer i = index.get(leaf);
        if (i != null) {
            int cols = leaf.shape().dim(1);
            copyUpTo(i, to * cols);
        }
    }

    @Override
    public void gradientReady(Variable leaf) {
        Integer i = index.get(leaf);
        if (i != null) {
            copyUpTo(i, sizes[i]);
        }
    }

    /** After the backward pass: adds the parameters it never reached (their gradients are zero), posts the rest. */
    void finishStep() {
        for (int i = 0; i < sizes.length; i++) {
            copyUpTo(i, sizes[i]);
        }
        flush();
    }

    /** Copies parameter {@code i}'s gradient elements {@code [copied, upTo)} and queues them for posting. */
    private void copyUpTo(int i, int upTo) {
        if (upTo <= copied[i]) {
            return;
        }
        FlatParameters.gradientRangeTo(flat.parameters().get(i), copied[i], upTo, reduce.data(), offsets[i]);
        add(offsets[i] + copied[i], offsets[i] + upTo);
        copied[i] = upTo;
    }

    /** Adds {@code [a, b)} to the pending range when they touch; otherwise posts the pending range first. */
    private void add(int a, int b) {
        if (lo == hi) {
            lo = a;
            hi = b;
        } else if (b == lo) {
            lo = a;
        } else if (a == hi) {
            hi = b;
        } else {
            flush();
            lo = a;
            hi = b;
        }
        // Half a bucket is worth a message: a weight gradient's row blocks (at most a bucket each) go out as they
        // come, while the small pieces (biases, the loss) join a neighbour.
        if (hi - lo >= bucketElements / 2) {
            flush();
        }
    }

    private void flush() {
        if (hi > lo) {
            reduce.post(lo, hi);
        }
        lo = hi = 0;
    }
}
