package dev.backprop.train;

import dev.backprop.backend.DType;
import dev.backprop.data.Augmentation;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.Dataset;

import java.util.Arrays;

/**
 * The refusals of {@link Trainer#fit}'s arguments, each naming the values, made before anything trains: so a bad
 * call fails at once rather than after an epoch, and leaves the trainer as it was.
 */
final class FitChecks {
    private FitChecks() {
    }

    /** Refuses a negative epoch count, an empty training set, or validation examples of another size. */
    static void checkData(Dataset train, Dataset validation, int epochs) {
        if (epochs < 0) {
            throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        }
        if (train.size() == 0) {
            throw new IllegalArgumentException("the training set is empty");
        }
        if (validation != null && validation.featureSize() != train.featureSize()) {  // found only after an epoch
            throw new IllegalArgumentException("the validation set has " + validation.featureSize() + " features per "
                    + "example " + Arrays.toString(validation.featureShape()) + ", the training set "
                    + train.featureSize() + " " + Arrays.toString(train.featureShape()));
        }
    }

    /**
     * Refuses a loader whose batches differ from the trainer's ({@code batchSize}, {@code dtype}), or that augments
     * otherwise (with {@code augmentation} drawn from {@code seed}).
     */
    static void checkLoader(BatchLoader train, int batchSize, DType dtype, Augmentation augmentation, long seed) {
        if (train.batchSize() != batchSize || train.dtype() != dtype) {
            throw new IllegalArgumentException("the loader's batches (" + train.batchSize() + " examples, "
                    + train.dtype() + ") differ from this trainer's (" + batchSize + ", " + dtype + ")");
        }
        if (!train.augmentation().equals(augmentation) || !augmentation.isNone() && train.seed() != seed) {
            throw new IllegalArgumentException("the loader augments with " + drawn(train.augmentation(), train.seed())
                    + ", this trainer with " + drawn(augmentation, seed));
        }
    }

    /**
     * The steps of each epoch: {@code stepsPerEpoch} (0: all of the loader's batches).
     *
     * @throws IllegalArgumentException when the loader has fewer batches
     * @throws IllegalStateException    when the run resumed after {@code batchesDone} batches of an epoch that has
     *                                  no more
     */
    static int steps(BatchLoader train, int stepsPerEpoch, int batchesDone) {
        int all = train.batchesPerEpoch();
        if (stepsPerEpoch > all) {
            throw new IllegalArgumentException(stepsPerEpoch + " steps per epoch asked for, but "
                    + train.dataset().size() + " examples make only " + all + " batches of " + train.batchSize());
        }
        int steps = stepsPerEpoch > 0 ? stepsPerEpoch : all;
        if (batchesDone >= steps) {
            throw new IllegalStateException("resumed after batch " + batchesDone + " of an epoch of " + steps);
        }
        return steps;
    }

    /** {@code a} with the seed of its draws, which only an augmentation that does something has. */
    private static String drawn(Augmentation a, long seed) {
        return a.isNone() ? a.toString() : a + " (seed " + seed + ")";
    }
}
