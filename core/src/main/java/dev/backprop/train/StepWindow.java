package dev.backprop.train;

import dev.backprop.autograd.Tape;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.Loss;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The deferred, non-blocking read of step results: the results of up to {@code capacity} training steps, kept on
 * the device until one read brings them all to the host: each step's loss, and when accuracy is tracked for a loss
 * that classifies, the step's predictions and targets (copied, since a {@link dev.backprop.data.BatchLoader} reuses
 * its batch tensors). On a GPU this replaces a wait for the device after every step by one wait per window; the
 * copies are device-side and asynchronous.
 *
 * <p>Whether the loss classifies is found on the first step recorded, by counting its correct predictions at
 * once; a regression loss (or a window that tracks no accuracy) then keeps only the losses. With a capacity of 1
 * nothing but the loss is copied: the window is read before the batch tensors change, so correct counts are taken
 * at once. A hook may set the value a step is judged by ({@link #judge}), which the read returns beside the
 * step's own loss.
 */
final class StepWindow implements AutoCloseable {
    /**
     * One step's results on the host.
     *
     * @param judgedBy  the value {@link #judge} set for the step, if any
     * @param decisions what {@link #correct} counts over ({@link Loss#countDecisions})
     */
    record Step(StepPosition position, double loss, OptionalDouble judgedBy, OptionalLong correct, long decisions) {
        /** The value the step is judged by: {@link #judgedBy} when set, else its own loss. */
        double judged() {
            return judgedBy.orElse(loss);
        }
    }

    private final Loss loss;
    private final int capacity;
    private final int maxRows;
    private final StepPosition[] positions;
    private final double[] judged;
    private final boolean[] hasJudged;
    private final int[][] outDims;
    private final int[][] targetDims;
    private final long[] decisions;
    private final Tensor losses;
    private Tensor outputs;
    private Tensor targets;
    private long outputSlot;
    private long targetSlot;
    /** Correct counts already known at {@link #record}: the first step's, and every step's when capacity is 1. */
    private final OptionalLong[] known;
    private Boolean classifies;
    private int count;

    /**
     * @param capacity      steps kept between reads
     * @param maxRows       rows of the largest batch
     * @param trackAccuracy whether to count correct predictions of a loss that classifies
     */
    StepWindow(Loss loss, Backend backend, DType dtype, int capacity, int maxRows, boolean trackAccuracy) {
        this.loss = loss;
        this.capacity = capacity;
        this.maxRows = maxRows;
        this.losses = Tensor.empty(backend, dtype, capacity);
        this.positions = new StepPosition[capacity];
        this.judged = new double[capacity];
        this.hasJudged = new boolean[capacity];
        this.classifies = trackAccuracy ? null : Boolean.FALSE;
        this.outDims = new int[capacity][];
        this.targetDims = new int[capacity][];
        this.decisions = new long[capacity];
        this.known = new OptionalLong[capacity];
    }

    /**
     * Keeps a step's results: its scalar loss value, and the prediction {@code out} and {@code target} it was
     * computed from (both with the batch's rows first). Called with the step's tape open; windows allocated here
     * are kept past it.
     */
    void record(Tape tape, StepPosition position, Tensor lossValue, Tensor out, Tensor target) {
        int slot = count;
        int batchRows = position.rows();
        Elementwise.copy(lossValue.reshape(1), losses.rows(slot, slot + 1));
        known[slot] = null;
        if (classifies == null || capacity == 1 && classifies) { // read before the batch changes: count now
            known[slot] = loss.countCorrect(out, target);
        }
        if (classifies == null) {
            classifies = known[slot].isPresent();
            if (classifies && capacity > 1) {
                outputSlot = out.size() / batchRows * maxRows;
                targetSlot = target.size() / batchRows * maxRows;
                outputs = tape.keep(Tensor.empty(out.backend(), out.dtype(), Math.toIntExact(outputSlot * capacity)));
                targets = tape.keep(Tensor.empty(target.backend(), target.dtype(),
                        Math.toIntExact(targetSlot * capacity)));
            }
        } else if (classifies && known[slot] == null) {
            copyInto(out, outputs, slot * outputSlot);
            copyInto(target, targets, slot * targetSlot);
        }
        positions[slot] = position;
        hasJudged[slot] = false;
        outDims[slot] = out.shape().dims();
        targetDims[slot] = target.shape().dims();
        decisions[slot] = loss.countDecisions(out, target);
        count++;
    }

    private static void copyInto(Tensor src, Tensor window, long offset) {
        Elementwise.copy(src.reshape(Math.toIntExact(src.size())), window.rows(Math.toIntExact(offset),
                Math.toIntExact(offset + src.size())));
    }

    /** Rows of the largest batch. */
    int maxRows() {
        return maxRows;
    }

    /** Sets the value the step recorded last is judged by (see {@link Step#judged}). */
    void judge(double value) {
        judged[count - 1] = value;
        hasJudged[count - 1] = true;
    }

    /** Whether the next {@link #record} would overflow: read first. */
    boolean full() {
        return count == capacity;
    }

    /** Brings the recorded steps to the host (one wait for the device) and empties the window. */
    List<Step> read() {
        List<Step> out = new ArrayList<>(count);
        if (count == 0) {
            return out;
        }
        double[] values = losses.rows(0, count).toDoubles();
        for (int i = 0; i < count; i++) {
            OptionalLong correct;
            if (known[i] != null) {
                correct = known[i];
            } else if (Boolean.TRUE.equals(classifies)) {
                correct = loss.countCorrect(view(outputs, i * outputSlot, outDims[i]),
                        view(targets, i * targetSlot, targetDims[i]));
            } else {
                correct = OptionalLong.empty();
            }
            out.add(new Step(positions[i], values[i], hasJudged[i] ? OptionalDouble.of(judged[i])
                    : OptionalDouble.empty(), correct, decisions[i]));
        }
        count = 0;
        return out;
    }

    /** The elements of {@code window} from {@code offset} seen with shape {@code dims}. */
    private static Tensor view(Tensor window, long offset, int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return window.rows(Math.toIntExact(offset), Math.toIntExact(offset + n)).reshape(dims);
    }

    /** Frees the device windows. Idempotent. */
    @Override
    public void close() {
        for (Tensor t : new Tensor[] {losses, outputs, targets}) {
            if (t != null) {
                t.close();
            }
        }
    }
}
