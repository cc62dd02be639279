package dev.backprop.train;

import dev.backprop.autograd.Tape;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.loss.Loss;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The results of up to {@code capacity} training steps, kept on the device until one read brings them all to the
 * host: each step's loss, and for a loss that classifies, the step's predictions and targets (copied, since a
 * {@link dev.backprop.model.BatchLoader} reuses its batch tensors). On a GPU this replaces a wait for the device
 * after every step by one wait per window; the copies are device-side and asynchronous.
 *
 * <p>Whether the loss classifies is found on the first step recorded, by counting its correct predictions at
 * once; a regression loss then keeps only the losses. With a capacity of 1 nothing but the loss is copied: the
 * window is read before the batch tensors change, so correct counts are taken at once.
 */
final class StepWindow implements AutoCloseable {
    /** One step's results on the host. */
    record Step(int batch, int rows, double loss, OptionalLong correct) {
    }

    private final Loss loss;
    private final int capacity;
    private final int maxRows;
    private final int[] batches;
    private final int[] rows;
    private final int[][] outDims;
    private final int[][] targetDims;
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
     * @param capacity steps kept between reads
     * @param maxRows  rows of the largest batch
     */
    StepWindow(Loss loss, Backend backend, DType dtype, int capacity, int maxRows) {
        this.loss = loss;
        this.capacity = capacity;
        this.maxRows = maxRows;
        this.losses = Tensor.empty(backend, dtype, capacity);
        this.batches = new int[capacity];
        this.rows = new int[capacity];
        this.outDims = new int[capacity][];
        this.targetDims = new int[capacity][];
        this.known = new OptionalLong[capacity];
    }

    /**
     * Keeps a step's results: its scalar loss value, and the prediction {@code out} and {@code target} it was
     * computed from (both with the batch's rows first). Called with the step's tape open; windows allocated here
     * are kept past it.
     */
    void record(Tape tape, int batch, Tensor lossValue, Tensor out, Tensor target, int batchRows) {
        int slot = count;
        Elementwise.copy(lossValue.reshape(1), losses.rows(slot, slot + 1));
        known[slot] = null;
        if (classifies == null || capacity == 1) { // read before the batch tensors change: count now
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
        batches[slot] = batch;
        rows[slot] = batchRows;
        outDims[slot] = out.shape().dims();
        targetDims[slot] = target.shape().dims();
        count++;
    }

    private static void copyInto(Tensor src, Tensor window, long offset) {
        Elementwise.copy(src.reshape(Math.toIntExact(src.size())), window.rows(Math.toIntExact(offset),
                Math.toIntExact(offset + src.size())));
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
            out.add(new Step(batches[i], rows[i], values[i], correct));
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
