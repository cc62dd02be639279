package dev.backprop.train;

/** Receives progress from {@link Trainer#fit}. Runs on the training thread. */
@FunctionalInterface
public interface EpochListener {
    /** After each epoch (and its validation); may call {@link Trainer#requestStop()} or save a checkpoint. */
    void onEpoch(EpochMetrics metrics);

    /** After each training batch ({@code batch} from 1 to {@code batches}) with that batch's loss. */
    default void onBatch(int epoch, int batch, int batches, double loss) {
    }
}
