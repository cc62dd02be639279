package dev.backprop.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads Fashion-MNIST (or MNIST: the same format) from IDX files, images scaled to [0, 1]. The default
 * directory is Debian's {@code dataset-fashion-mnist} package; the environment variable
 * {@code FASHION_MNIST_DIR} or an explicit path overrides it.
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} package puts the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The ten Fashion-MNIST classes, by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** The training and test splits. */
    public record Splits(Dataset train, Dataset test) {
    }

    private FashionMnist() {
    }

    /** The directory to read: {@code FASHION_MNIST_DIR} when set, else {@link #DEBIAN_DIR}. */
    public static Path defaultDir() {
        String env = System.getenv("FASHION_MNIST_DIR");
        return env != null && !env.isBlank() ? Path.of(env) : DEBIAN_DIR;
    }

    /** Loads both splits from {@code dir} ({@code train-images-idx3-ubyte[.gz]} and friends). */
    public static Splits load(Path dir) {
        return new Splits(split(dir, "train"), split(dir, "t10k"));
    }

    /** Loads one split: {@code prefix} is {@code train} or {@code t10k}. */
    public static Dataset split(Path dir, String prefix) {
        checkDir(dir);
        IdxFile images = IdxFile.read(find(dir, prefix + "-images-idx3-ubyte"));
        IdxFile labels = IdxFile.read(find(dir, prefix + "-labels-idx1-ubyte"));
        return fromIdx(images, labels, 10, CLASS_NAMES);
    }

    /** Builds a classification data set from an image file and a label file, checking they agree. */
    static Dataset fromIdx(IdxFile images, IdxFile labels, int numClasses, List<String> classNames) {
        if (images.dims().length < 2) {
            throw new DataFormatException(images.path() + ": images need at least 2 dimensions, got "
                    + java.util.Arrays.toString(images.dims()));
        }
        if (labels.dims().length != 1) {
            throw new DataFormatException(labels.path() + ": labels need 1 dimension, got "
                    + java.util.Arrays.toString(labels.dims()));
        }
        for (int i = 1; i < images.dims().length; i++) {
            if (images.dims()[i] == 0) {
                throw new DataFormatException(images.path() + ": images of shape " + java.util.Arrays.toString(
                        java.util.Arrays.copyOfRange(images.dims(), 1, images.dims().length)) + " hold no pixels");
            }
        }
        if (images.count() != labels.count()) {
            throw new DataFormatException("image/label count mismatch: " + images.path() + " has " + images.count()
                    + " images, " + labels.path() + " has " + labels.count() + " labels");
        }
        byte[] px = images.data();
        String shortfall = HeapBudget.shortfall(4L * px.length + 4L * labels.data().length);
        if (shortfall != null) {
            throw new DataFormatException(images.path() + ": " + images.count() + " images as floats " + shortfall);
        }
        float[] f = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            f[i] = (px[i] & 0xFF) / 255.0f;
        }
        int[] shape = java.util.Arrays.copyOfRange(images.dims(), 1, images.dims().length);
        byte[] lb = labels.data();
        int[] l = new int[lb.length];
        for (int i = 0; i < lb.length; i++) {
            l[i] = lb[i] & 0xFF;
            if (l[i] >= numClasses) {
                throw new DataFormatException(labels.path() + ": label " + l[i] + " at index " + i
                        + " is outside [0, " + numClasses + ")");
            }
        }
        return Dataset.classification(f, shape, l, numClasses, classNames);
    }

    /** Refuses a {@code dir} that is not a directory, saying whether it is missing or something else. */
    private static void checkDir(Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (Files.exists(dir)) {
            throw new DataFormatException(dir + ": is a file, not a directory; pass --data DIR, the directory that "
                    + "holds the IDX files (train-images-idx3-ubyte.gz and friends)");
        }
        throw new DataFormatException(dir + ": no such directory; install Debian's dataset-fashion-mnist package "
                + "(apt-get install dataset-fashion-mnist) or pass --data DIR");
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new DataFormatException(dir + ": missing " + base + ".gz (or " + base + ")");
    }
}
