package dev.backprop.data;

import java.nio.file.Path;

/** The IDX reader as the fuzzer and the hostile-input cases drive it, from outside the package. */
public final class IdxProbe {
    private IdxProbe() {
    }

    /**
     * Reads {@code p} as IDX and, when it holds images, turns them into a data set with as many labels: every check
     * the Fashion-MNIST path makes on an images file.
     *
     * @throws DataFormatException when the file is refused
     */
    public static void readAsImages(Path p) {
        IdxFile images = IdxFile.read(p);
        // Labels as many as the images; a count of items without pixels is backed by no data, so keep it small.
        if (images.dims().length >= 2 && (images.itemSize() > 0 || images.count() <= 1 << 16)) {
            IdxFile labels = new IdxFile(p, new int[] {images.count()}, new byte[images.count()]);
            FashionMnist.fromIdx(images, labels, 10, null);
        }
    }
}
