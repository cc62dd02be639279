package dev.backprop.data;

import dev.backprop.io.IoErrors;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * Reads a folder of images with one subfolder per class, the layout of torchvision's {@code datasets.ImageFolder}
 * ({@code root/cat/001.png}, {@code root/dog/xyz.jpg}), as a classification {@link Dataset} of {@code [C, H, W]}
 * images with values in [0, 1], as {@code ToTensor()} gives them.
 *
 * <p>As torchvision: the classes are the names of the root's subfolders in sorted order (label {@code k} is the
 * {@code k}-th; a folder read against given classes takes their order), and each class folder is walked with its
 * subfolders, following symbolic links, every folder's files in sorted name order and the folders in sorted path order;
 * a file is an image by its extension ({@link #EXTENSIONS}, any case) and other files are skipped. Unlike torchvision,
 * hidden files and folders (names starting with a dot) are skipped, a link that leads back into a folder being walked
 * is refused rather than walked forever, and a class folder with no image is refused, naming it. Names sort by Unicode
 * code point, as Python's {@code sorted} does.
 *
 * <p>Channels: with {@link #AUTO_CHANNELS}, 1 when every image is grayscale (see {@link ImageFile#gray}), else 3;
 * 3 expands gray images, 1 turns RGB images into their luma, as PIL's {@code convert("L")}. An
 * {@link ImageTransform} resizes and crops each image as soon as it is decoded (only the result is kept); every
 * image must then have the first one's height and width, which without a transform are the file's own. Each image is
 * checked against the limits of {@link ImageFile} before it is decoded, and the folder against the heap at the size
 * it is read as. Each folder is listed once.
 *
 * <p>After the first image, the images are decoded on {@link #threads()} threads at once (the system property
 * {@value #THREADS_PROPERTY}, else one per available processor); the dataset is the same bit for bit whatever
 * the number, the heap checks count the images in flight, and a failure names the first failing file in file order,
 * as reading them one at a time would.
 */
public final class ImageFolder {
    /** The file extensions read as images, as torchvision's {@code IMG_EXTENSIONS} among those the JDK decodes. */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");
    /** For {@code channels}: 1 when every image is grayscale, else 3. */
    public static final int AUTO_CHANNELS = 0;
    /**
     * The system property that sets how many threads decode a folder's images ({@link #threads()}): a whole number
     * from 1 to 9999; 1 reads them one at a time on the calling thread.
     */
    public static final String THREADS_PROPERTY = "backprop.images.threads";

    private ImageFolder() {
    }

    /** Reads {@code root} with {@link #AUTO_CHANNELS}; see {@link #read(Path, int, List)}. */
    public static Dataset read(Path root) {
        return read(root, AUTO_CHANNELS, null);
    }

    /** Reads {@code root} with no {@link ImageTransform}; see {@link #read(Path, int, List, ImageTransform)}. */
    public static Dataset read(Path root, int channels, List<String> classNames) {
        return read(root, channels, classNames, ImageTransform.NONE);
    }

    /**
     * Reads {@code root}: its classes, their images as {@code [channels, H, W]} examples, labelled by class.
     *
     * @param channels   1 (gray), 3 (RGB) or {@link #AUTO_CHANNELS}
     * @param classNames the classes the folder must have, in any order (a test folder read against the training
     *                   set's or a model's classes): an image's label is its folder's place among them, the files
     *                   still come in torchvision's order; or null to take the folder's own
     * @param transform  the resize and crop applied to each image, or {@link ImageTransform#NONE}
     * @throws DataFormatException      naming the folder or file: no class folder, a class folder without images,
     *                                  classes other than {@code classNames}, images of different sizes (after the
     *                                  transform), or an image that cannot be read ({@link ImageTransform#read})
     * @throws IllegalArgumentException when {@code channels} is not 0, 1 or 3, or {@link #THREADS_PROPERTY} is set
     *                                  to anything but a whole number from 1 to 9999
     */
    public static Dataset read(Path root, int channels, List<String> classNames, ImageTransform transform) {
        if (channels != AUTO_CHANNELS && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 (gray), 3 (RGB) or " + AUTO_CHANNELS
                    + " (1 when every image is gray, else 3), got " + channels);
        }
        List<String> folders = classes(root);
        List<String> classes = classNames != null ? List.copyOf(classNames) : folders;
        if (classNames != null && (classes.size() != folders.size() || !new HashSet<>(classes).equals(
                new HashSet<>(folders)))) {
            throw new DataFormatException(root + ": " + difference(folders, classes));
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String folder : folders) {
            Path dir = root.resolve(folder);
            List<Path> found = images(dir);
            if (found.isEmpty()) {
                throw new DataFormatException(dir + ": no image in this class folder (files ending in "
                        + String.join(", ", new TreeSet<>(EXTENSIONS)) + ")");
            }
            files.addAll(found);
            int label = classes.indexOf(folder);
            for (int i = 0; i < found.size(); i++) {
                labels.add(label);
            }
        }
        return decode(root, files, labels.stream().mapToInt(Integer::intValue).toArray(), channels, classes,
                transform);
    }

    /**
     * The class names of {@code root}: its subfolders (links to folders included, hidden ones not), sorted.
     *
     * @throws DataFormatException when {@code root} is not a folder or has no class folder
     */
    public static List<String> classes(Path root) {
        if (!Files.isDirectory(root)) {
            throw new DataFormatException(root + ": " + (Files.exists(root) ? "not a folder" : "no such folder")
                    + "; give a folder with one subfolder of images per class");
        }
        List<String> names = new ArrayList<>();
        for (Path p : list(root)) {
            if (Files.isDirectory(p)) {
                names.add(p.getFileName().toString());
            }
        }
        if (names.isEmpty()) {
            throw new DataFormatException(root + ": no class folder in it; give a folder with one subfolder of "
                    + "images per class (root/cat/001.png, root/dog/002.jpg)");
        }
        names.sort(ImageFolder::byCodePoint);
        for (String name : names) {
            String problem = Dataset.classNameProblem(name);
            if (problem != null) {
                throw new DataFormatException(root + ": class folder: " + problem);
            }
        }
        return List.copyOf(names);
    }

    /** Whether {@code file}'s name ends in one of {@link #EXTENSIONS}, in any case. */
    public static boolean isImage(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** What differs between a folder's classes and the ones expected, in words. */
    private static String difference(List<String> found, List<String> expected) {
        Set<String> missing = new TreeSet<>(ImageFolder::byCodePoint);
        missing.addAll(expected);
        missing.removeAll(found);
        Set<String> extra = new TreeSet<>(ImageFolder::byCodePoint);
        extra.addAll(found);
        extra.removeAll(expected);
        if (missing.isEmpty() && extra.isEmpty()) {
            return "the classes given name a class twice: " + shortList(expected);
        }
        String what = (missing.isEmpty() ? "" : "no class folder for " + shortList(missing))
                + (missing.isEmpty() || extra.isEmpty() ? "" : ", and ")
                + (extra.isEmpty() ? "" : "class folder(s) " + shortList(extra) + " not among the classes expected");
        return what + "; expected the " + expected.size() + " classes " + shortList(expected);
    }

    private static String shortList(Iterable<String> names) {
        List<String> all = new ArrayList<>();
        names.forEach(all::add);
        List<String> shown = all.subList(0, Math.min(10, all.size()));
        return shown + (all.size() > shown.size() ? " (and " + (all.size() - shown.size()) + " more)" : "");
    }

    /**
     * The images under {@code classDir}, in torchvision's order: folders by path, each one's files by name. A link
     * back to a folder being walked would make the walk endless, and is refused.
     */
    private static List<Path> images(Path classDir) {
        List<Folder> folders = new ArrayList<>();
        walk(classDir, "", new HashSet<>(), folders);
        folders.sort(Comparator.comparing(Folder::relative, ImageFolder::byCodePoint));
        List<Path> out = new ArrayList<>();
        folders.forEach(f -> out.addAll(f.images()));
        return out;
    }

    /** A folder's path below its class folder ({@code ""}, {@code "a"}, {@code "a/b"}) and its images by name. */
    private record Folder(String relative, List<Path> images) {
    }

    private static void walk(Path dir, String relative, Set<Path> open, List<Folder> folders) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new DataFormatException(IoErrors.message(dir, e), e);
        }
        if (!open.add(real)) {
            throw new DataFormatException(dir + ": a link back to " + real + ", a folder that holds it; the walk "
                    + "would not end");
        }
        List<Path> images = new ArrayList<>();
        List<Path> subfolders = new ArrayList<>();
        for (Path p : list(dir)) {
            if (Files.isDirectory(p)) {
                subfolders.add(p);
            } else if (isImage(p)) {
                images.add(p);
            }
        }
        images.sort(Comparator.comparing(p -> p.getFileName().toString(), ImageFolder::byCodePoint));
        folders.add(new Folder(relative, images));
        for (Path sub : subfolders) {
            String name = sub.getFileName().toString();
            walk(sub, relative.isEmpty() ? name : relative + "/" + name, open, folders);
        }
        open.remove(real);
    }

    /** The entries of {@code dir} whose names do not start with a dot, listed once. */
    private static List<Path> list(Path dir) {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (!p.getFileName().toString().startsWith(".")) {
                    entries.add(p);
                }
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(dir + ": no such folder");
        } catch (IOException e) {
            throw new DataFormatException(IoErrors.message(dir, e), e);
        }
        return entries;
    }

    /** Python's string order: by Unicode code point (Java's {@code compareTo} orders UTF-16 units). */
    static int byCodePoint(String a, String b) {
        return Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }

    /**
     * Decodes the images into 8-bit pixels, each checked before decoding and transformed once decoded, then lays
     * them out as floats once the channel count is known. The first image is read alone: its size after the
     * transform is every image's, so the whole folder is checked against the heap at that size before the rest are
     * decoded, on {@link #threads()} threads, into the same array in file order.
     */
    private static Dataset decode(Path root, List<Path> files, int[] labels, int channels, List<String> classes,
                                  ImageTransform transform) {
        int workers = threads();
        ImageFile[] images = new ImageFile[files.size()];
        ImageFile first = transform.read(files.get(0), channels);
        images[0] = first;
        int n = images.length, h = first.height(), w = first.width();
        checkFits(root, n, channels != AUTO_CHANNELS ? channels : first.gray() ? 1 : 3, h, w,
                (n - 1) * (long) first.pixelsUncopied().length);
        int threads = Math.max(1, Math.min(workers, n - 1));
        IntFunction<ImageFile> read = i -> {
            Path file = files.get(i);
            return transform.read(file, channels, (height, width) -> {
                if (height != h || width != w) {
                    throw new DataFormatException(file + ": " + sizeMismatch(transform, height, width, first.file(),
                            h, w));
                }
            }, threads);
        };
        if (threads <= 1) {
            for (int i = 1; i < n; i++) {
                images[i] = read.apply(i);
            }
        } else {
            List<ImageFile> rest = InOrder.run(n - 1, threads, "backprop-image", root.toString(),
                    i -> read.apply(i + 1));
            for (int i = 1; i < n; i++) {
                images[i] = rest.get(i - 1);
            }
        }
        boolean allGray = true;
        for (ImageFile image : images) {
            allGray &= image.gray();
        }
        int c = channels != AUTO_CHANNELS ? channels : allGray ? 1 : 3;
        checkFits(root, n, c, h, w, 0);
        long values = (long) n * c * h * w;
        float[] f = new float[(int) values];
        int size = c * h * w;
        for (int i = 0; i < images.length; i++) {
            images[i].toTensor(c, f, i * size);
            images[i] = null;
        }
        return Dataset.classification(f, new int[] {c, h, w}, labels, classes.size(), classes);
    }

    /**
     * How many threads decode a folder's images: {@link #THREADS_PROPERTY} when set, else the available
     * processors. The dataset is the same whatever the number.
     *
     * @throws IllegalArgumentException naming the property's value when it is not a whole number from 1 to 9999
     */
    public static int threads() {
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (!value.matches("[1-9][0-9]{0,3}")) {
            throw new IllegalArgumentException(THREADS_PROPERTY + " must be a whole number from 1 to 9999, got '"
                    + value + "'");
        }
        return Integer.parseInt(value);
    }

    /** Why images of two sizes cannot be read together, and what would make them one size. */
    private static String sizeMismatch(ImageTransform transform, int height, int width, Path first, int h, int w) {
        if (transform.isNone()) {
            return "the image is " + height + "x" + width + " (height x width), but " + first + " is " + h + "x" + w
                    + "; all images must have one size (nothing is resized: give an ImageTransform, or --resize on the "
                    + "command line, to resize them)";
        }
        return "the image is " + height + "x" + width + " (height x width) after " + transform + ", but " + first
                + " is " + h + "x" + w + "; all images must have one size: resize to HxW or add a center crop";
    }

    /**
     * Refuses {@code n} images of {@code c × h × w} as floats, with {@code pixelBytes} of pixels still to be held
     * while they are read, when one array cannot hold them or the heap has no room for them.
     */
    private static void checkFits(Path root, int n, int c, int h, int w, long pixelBytes) {
        long values = (long) n * c * h * w;
        String what = root + ": " + n + " images of " + c + "x" + h + "x" + w;
        if (values > Integer.MAX_VALUE - 8) {
            throw new DataFormatException(what + " are " + values + " values, more than one array holds");
        }
        String shortfall = HeapBudget.shortfall(4 * values + pixelBytes);
        if (shortfall != null) {
            throw new DataFormatException(what + " as floats" + (pixelBytes > 0 ? " (and " + pixelBytes
                    + " bytes of pixels while they are read)" : "") + " " + shortfall);
        }
    }
}
