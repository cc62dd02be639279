package dev.backprop.train;

import dev.backprop.data.Augmentation;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@link Trainer}'s checkpoint holds beside the model, optimizer and schedule ({@link Checkpoint}): the
 * progress counters (epochs done, the shuffling seed, the batch size) and the augmentation, and the checks that a
 * restored file was written with this trainer's settings, so that training continues exactly.
 */
final class TrainerCheckpoint {
    private static final String EPOCH = "epoch";
    private static final String SEED = "seed";
    private static final String BATCH_SIZE = "batch_size";

    private TrainerCheckpoint() {
    }

    /**
     * Saves {@code trainer}'s checkpoint after {@code batchesDone} batches of its current epoch, with {@code extra}
     * metadata and {@code kept} tensors.
     *
     * @throws IllegalStateException when an epoch is half done (checkpoints are taken between epochs)
     */
    static void save(Path path, Trainer trainer, int batchesDone, Augmentation augmentation,
                     Map<String, String> extra, Map<String, Tensor> kept) throws IOException {
        if (batchesDone != 0) {
            throw new IllegalStateException("a checkpoint is taken between epochs; epoch " + (trainer.epoch() + 1)
                    + " is at batch " + batchesDone);
        }
        Map<String, String> meta = extra;
        if (!augmentation.isNone()) {
            meta = new LinkedHashMap<>(extra);
            meta.put(Augmentation.METADATA_KEY, augmentation.toString());
        }
        Checkpoint.save(path, trainer.model(), trainer.optimizer(), trainer.schedule(), Map.of(EPOCH,
                (long) trainer.epoch(), SEED, trainer.seed(), BATCH_SIZE, (long) trainer.batchSize()), meta, kept);
    }

    /**
     * Restores the model, optimizer and schedule of {@code trainer} from {@code f}; returns the epochs done it
     * records.
     *
     * @throws dev.backprop.io.ModelFileException when the file does not fit the trainer (nothing is changed then)
     */
    static int restore(SafeTensorsFile f, Trainer trainer, Augmentation augmentation) throws IOException {
        Map<String, Long> p = Checkpoint.restore(f, trainer.model(), trainer.optimizer(), trainer.schedule(),
                progress -> {
                    Long s = progress.get(SEED), bs = progress.get(BATCH_SIZE), e = progress.get(EPOCH);
                    if (s == null || bs == null || e == null || e < 0 || e > Integer.MAX_VALUE) {
                        return "progress counters epoch, seed and batch_size are missing or invalid: " + progress;
                    }
                    if (s != trainer.seed() || bs != trainer.batchSize()) {
                        return "the checkpoint was trained with seed " + s + " and batch size " + bs + ", this run "
                                + "uses seed " + trainer.seed() + " and batch size " + trainer.batchSize()
                                + "; resume with the same settings";
                    }
                    return augmentationProblem(f.metadata(), augmentation);
                });
        return Math.toIntExact(p.get(EPOCH));
    }

    /** Null when the augmentation a checkpoint's {@code meta} records is {@code now}, else what differs. */
    private static String augmentationProblem(Map<String, String> meta, Augmentation now) {
        Augmentation was;
        try {
            was = Augmentation.recorded(meta);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return was.equals(now) ? null : "the checkpoint was trained with augmentation " + was + ", this run "
                + "uses " + now + "; resume with the same settings";
    }
}
