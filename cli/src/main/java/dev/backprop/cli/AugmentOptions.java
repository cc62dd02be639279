package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.data.Augmentation;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Map;

/**
 * {@code train --augment}: torchvision's {@code RandomCrop(size, padding=N)} and {@code RandomHorizontalFlip(p)} on
 * the training images ({@link Augmentation}), for image data only: {@code --images}, or Fashion-MNIST with
 * {@code --arch cnn}. The model file and checkpoint record it under {@value #KEY}; a {@code --resume} keeps it (left
 * out, it takes the checkpoint's; given otherwise, it is refused), while {@code eval} and {@code predict} never
 * apply it.
 */
final class AugmentOptions {
    /** The metadata key of the augmentation, written only when there is one. */
    static final String KEY = Augmentation.METADATA_KEY;
    static final String NAME = "--augment";

    @Option(names = NAME, paramLabel = "ITEMS",
            description = "Images only (--images, or Fashion-MNIST with --arch cnn): augment every training example, "
                    + "drawn afresh each epoch from --seed, as torchvision's RandomCrop(size, padding=N) then "
                    + "RandomHorizontalFlip(P): comma-separated crop:N (N zeros of padding, 1 to "
                    + Augmentation.MAX_PADDING + ") and hflip (P 0.5) or hflip:P, e.g. hflip,crop:4. The test set, "
                    + "eval and predict are never augmented; batches are gathered on the host (default: none).")
    String augment;

    /** The augmentation asked for, {@link Augmentation#NONE} when none. */
    Augmentation augmentation() {
        if (augment == null) {
            return Augmentation.NONE;
        }
        try {
            return Augmentation.parse(augment);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(NAME + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks, before anything is read, that the value parses and the network takes images: refused for CSV, and
     * without {@code --arch cnn} (the MLP takes flat features); a resumed network, which the options need not name,
     * is checked when its loader is made ({@link #loader}).
     */
    void check(DataOptions data, ModelOptions model, boolean resuming) {
        Augmentation a = augmentation();
        if (a.isNone()) {
            return;
        }
        if (data.csv != null || data.testCsv != null) {
            throw new IllegalArgumentException(NAME + " " + augment + " applies to images, not to the rows of "
                    + (data.csv != null ? "--csv " + data.csv : "--test-csv " + data.testCsv));
        }
        if (!model.cnn() && !resuming) {
            throw new IllegalArgumentException(NAME + " " + augment + " applies to images, which the MLP takes as "
                    + "flat features; give --arch cnn (Fashion-MNIST as [1, 28, 28], or --images DIR)");
        }
    }

    /**
     * The training loader: {@link BatchLoader.Placement#AUTO} without augmentation (today's path), else an
     * augmenting host loader drawing from {@code seed}.
     *
     * @throws IllegalArgumentException naming the option and the shape when the network's examples are not images
     */
    static BatchLoader loader(Augmentation a, Dataset train, Backend backend, int batchSize, long seed) {
        if (a.isNone()) {
            return new BatchLoader(train, backend, batchSize, BatchLoader.Placement.AUTO);
        }
        if (train.featureShape().length != 3) {
            throw new IllegalArgumentException(NAME + " " + a + " applies to images [C, H, W], but the network takes "
                    + "examples of shape " + Arrays.toString(train.featureShape()));
        }
        return new BatchLoader(train, backend, dev.backprop.backend.DType.FLOAT32, batchSize, a, seed);
    }

    /** Records the augmentation in {@code facts}; nothing for none. */
    void putMetadata(Map<String, String> facts) {
        Augmentation a = augmentation();
        if (!a.isNone()) {
            facts.put(KEY, a.toString());
        }
    }

    /**
     * Settles {@code --augment} on a resume: left out, it takes the checkpoint's (none when it records none); given
     * with another value, it is refused naming both.
     *
     * @throws IllegalArgumentException naming both values, or the checkpoint's that cannot be read
     */
    void reconcile(Map<String, String> meta, String file, CommandSpec spec) {
        Augmentation saved;
        try {
            saved = Augmentation.recorded(meta);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine(file + ": " + e.getMessage()), e);
        }
        if (!spec.commandLine().getParseResult().hasMatchedOption(NAME)) {
            augment = saved.isNone() ? null : saved.toString();
        } else if (!augmentation().equals(saved)) {
            throw new IllegalArgumentException(NAME + " " + augmentation() + ": " + file + " was trained with "
                    + NAME + " " + saved + "; leave " + NAME + " out to resume with it, or start a new run without "
                    + "--resume");
        }
    }
}
