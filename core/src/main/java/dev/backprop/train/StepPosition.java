package dev.backprop.train;

/**
 * Where a training step sits in a run.
 *
 * @param epoch   the epoch, from 1 (counting epochs restored from a checkpoint)
 * @param batch   the batch within the epoch, from 1
 * @param batches batches per epoch
 * @param rows    examples in this step's batch (the last batch of an epoch may be smaller)
 */
public record StepPosition(int epoch, int batch, int batches, int rows) {
    /** The step's number in the whole run, from 1: {@code (epoch - 1) * batches + batch}. */
    public long globalStep() {
        return (long) (epoch - 1) * batches + batch;
    }

    @Override
    public String toString() {
        return "step " + globalStep() + " (epoch " + epoch + ", batch " + batch + " of " + batches + ")";
    }
}
