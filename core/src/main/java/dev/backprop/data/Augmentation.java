package dev.backprop.data;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Random changes to a training image, drawn afresh for every example of every epoch, as torchvision's
 * {@code Compose([RandomCrop(size, padding=P), RandomHorizontalFlip(p)])} on a {@code [C, H, W]} tensor: a
 * <b>random crop</b> of the image's own height × width out of the image zero-padded by {@code P} on every side (the
 * top and left offsets each uniform in {@code [0, 2P]}), then a <b>left-right flip</b> with probability {@code p}.
 * The padding is 0.0f, a black pixel as {@link ImageFolder} and {@link FashionMnist} scale pixels (value / 255),
 * torchvision's {@code fill=0}. Immutable; {@link #NONE} changes nothing.
 *
 * <p>The draws for an example are a pure function of the seed, the epoch and the example's position in the epoch
 * ({@link #draw}), so a run is the same on every backend and a resumed run the same as an uninterrupted one. A
 * {@link BatchLoader} applies them on the host to training batches only; evaluation never augments.
 * {@link #toString()} writes the form {@link #parse} reads back, which a checkpoint keeps.
 */
public final class Augmentation {
    /** The largest padding a random crop may ask for. */
    public static final int MAX_PADDING = 1024;
    /** No crop and no flip. */
    public static final Augmentation NONE = new Augmentation(0, 0);
    /**
     * The metadata key under which a checkpoint ({@code Trainer#saveCheckpoint}) and the cli's model file record an
     * augmentation, in {@link #toString()}'s form; absent for {@link #NONE}.
     */
    public static final String METADATA_KEY = "backprop.augmentation";
    /** torchvision's {@code RandomHorizontalFlip} default probability. */
    public static final double DEFAULT_FLIP = 0.5;

    private static final String SYNTAX = "expected none, or hflip, hflip:P (0 <= P <= 1) and/or crop:N "
            + "(1 <= N <= " + MAX_PADDING + "), comma-separated";

    private final int padding;
    private final double flip;

    private Augmentation(int padding, double flip) {
        this.padding = padding;
        this.flip = flip;
    }

    /** {@link #NONE}: the starting point of {@code Augmentation.none().randomCrop(4).horizontalFlip(0.5)}. */
    public static Augmentation none() {
        return NONE;
    }

    /** The crop and flip one example gets: offsets into the padded image, and whether it is mirrored. */
    public record Draw(int top, int left, boolean flip) {
    }

    /**
     * This augmentation with a left-right flip of probability {@code p} ({@code RandomHorizontalFlip(p)}).
     *
     * @throws IllegalArgumentException when {@code p} is not in [0, 1]
     */
    public Augmentation horizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("horizontal flip probability must be in [0, 1], got " + p);
        }
        // + 0.0 turns -0.0 into 0.0, which equals() (Double.compare) would otherwise tell apart from NONE's
        return new Augmentation(padding, p + 0.0);
    }

    /**
     * This augmentation with a random crop of the image's size out of it padded by {@code padding} zeros on every
     * side ({@code RandomCrop((H, W), padding=padding)}).
     *
     * @throws IllegalArgumentException when {@code padding} is not in 1..{@link #MAX_PADDING}
     */
    public Augmentation randomCrop(int padding) {
        if (padding < 1 || padding > MAX_PADDING) {
            throw new IllegalArgumentException("random crop padding must be 1 to " + MAX_PADDING + ", got "
                    + padding);
        }
        return new Augmentation(padding, flip);
    }

    /**
     * The augmentation recorded under {@value #METADATA_KEY} in a checkpoint's or model file's metadata;
     * {@link #NONE} when none is.
     *
     * @throws IllegalArgumentException naming the key and the value when it is not an augmentation ({@link #parse})
     *                                  or not in the form a file records one ({@link #toString()} of one that is
     *                                  not none), since the file is untrusted input
     */
    public static Augmentation recorded(Map<String, String> meta) {
        String v = meta.get(METADATA_KEY);
        if (v == null) {
            return NONE;
        }
        Augmentation a;
        try {
            a = parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine("metadata " + METADATA_KEY + ": "
                    + e.getMessage()), e);
        }
        if (a.isNone() || !a.toString().equals(v)) {
            throw new IllegalArgumentException(DataFormatException.oneLine("metadata " + METADATA_KEY + ": '" + v
                    + "' is not in the form a file records (" + (a.isNone() ? "no augmentation is recorded by "
                    + "leaving the key out" : "'" + a + "'") + ")"));
        }
        return a;
    }

    /**
     * Reads the cli's form, which is also {@link #toString()}'s: {@code none}, or items separated by commas, each at
     * most once: {@code hflip} (probability {@value #DEFAULT_FLIP}), {@code hflip:P}, {@code crop:N} (padding N).
     *
     * @throws IllegalArgumentException naming the text and the item when it is not of that form
     */
    public static Augmentation parse(String text) {
        if (text.trim().equals("none")) {
            return NONE;
        }
        Augmentation a = NONE;
        boolean flipSeen = false, cropSeen = false;
        for (String raw : text.split(",", -1)) {
            String item = raw.trim();
            int colon = item.indexOf(':');
            String name = colon < 0 ? item : item.substring(0, colon);
            String value = colon < 0 ? null : item.substring(colon + 1);
            if (name.equals("hflip") && !flipSeen) {
                flipSeen = true;
                a = a.horizontalFlip(value == null ? DEFAULT_FLIP : number(text, item, value));
            } else if (name.equals("crop") && !cropSeen && value != null) {
                cropSeen = true;
                a = a.randomCrop(padding(text, item, value));
            } else {
                String why = name.equals("hflip") || name.equals("crop") && cropSeen ? "repeated item '" + item + "'"
                        : name.equals("crop") ? "crop needs its padding, as crop:4" : "unknown item '" + item + "'";
                throw new IllegalArgumentException("not an augmentation: '" + text + "': " + why + " (" + SYNTAX
                        + ")");
            }
        }
        return a;
    }

    private static double number(String text, String item, String value) {
        try {
            double p = Double.parseDouble(value);
            if (p >= 0 && p <= 1) {
                return p;
            }
        } catch (NumberFormatException e) {
            // named below, with the item
        }
        throw new IllegalArgumentException("not an augmentation: '" + text + "': " + item + " needs a probability "
                + "from 0 to 1, got '" + value + "'");
    }

    private static int padding(String text, String item, String value) {
        if (value.matches("[0-9]{1,9}")) {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= MAX_PADDING) {
                return n;
            }
        }
        throw new IllegalArgumentException("not an augmentation: '" + text + "': " + item + " needs a padding from 1 "
                + "to " + MAX_PADDING + ", got '" + value + "'");
    }

    /** Whether this is {@link #NONE}. */
    public boolean isNone() {
        return padding == 0 && flip == 0;
    }

    /** The random crop's padding on every side; 0 for no crop. */
    public int padding() {
        return padding;
    }

    /** The probability of a left-right flip; 0 for none. */
    public double flipProbability() {
        return flip;
    }

    /**
     * The draws of the example at {@code position} (0-based) in epoch {@code epoch} (0-based) of a run seeded
     * {@code seed}: a {@link SplittableRandom} seeded from the three mixed together, so no stream is shared between
     * examples. The top offset is drawn first, then the left, then the flip's {@code u < p} for a uniform
     * {@code u} in [0, 1), as torchvision compares {@code torch.rand(1) < p}.
     */
    public Draw draw(long seed, int epoch, int position) {
        SplittableRandom r = new SplittableRandom(mix(seed + mix(((long) epoch << 32) + position)));
        int top = padding == 0 ? 0 : r.nextInt(2 * padding + 1);
        int left = padding == 0 ? 0 : r.nextInt(2 * padding + 1);
        boolean mirrored = flip > 0 && r.nextDouble() < flip;
        return new Draw(top, left, mirrored);
    }

    /** Stafford's variant 13 of the 64-bit finalizer of MurmurHash3, a bijection that spreads every input bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * Checks that examples of {@code shape} are images: {@code [C, H, W]} or {@code [H, W]} (one channel).
     *
     * @throws IllegalArgumentException naming the shape otherwise
     */
    public static void checkImageShape(int[] shape) {
        if (shape.length != 2 && shape.length != 3) {
            throw new IllegalArgumentException("augmentation takes images [C, H, W] or [H, W], not examples of shape "
                    + Arrays.toString(shape));
        }
    }

    /**
     * Writes {@code example} ({@code [C, H, W]} or {@code [H, W]} floats at {@code offset}) augmented by {@code d}
     * back in place: {@code out[c][y][x] = padded[c][y + top][x' + left]} with {@code x' = W-1-x} when flipped, where
     * {@code padded} is the image with {@code P} zeros around.
     *
     * @param scratch at least one example long; its contents are overwritten
     */
    public void apply(float[] example, int offset, int[] shape, Draw d, float[] scratch) {
        checkImageShape(shape);
        int h = shape[shape.length - 2], w = shape[shape.length - 1];
        int planes = shape.length == 3 ? shape[0] : 1, size = planes * h * w;
        System.arraycopy(example, offset, scratch, 0, size);
        int dy = d.top() - padding, dx = d.left() - padding;
        for (int c = 0; c < planes; c++) {
            int plane = c * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y + dy, row = offset + plane + y * w;
                for (int x = 0; x < w; x++) {
                    int sx = (d.flip() ? w - 1 - x : x) + dx;
                    example[row + x] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0.0f
                            : scratch[plane + sy * w + sx];
                }
            }
        }
    }

    /** {@code none}, or {@code crop:N} and {@code hflip:P}, comma-separated: the form {@link #parse} reads. */
    @Override
    public String toString() {
        if (isNone()) {
            return "none";
        }
        String crop = padding > 0 ? "crop:" + padding : null;
        String hflip = flip > 0 ? "hflip:" + flip : null;
        return crop == null ? hflip : hflip == null ? crop : crop + "," + hflip;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Augmentation a && a.padding == padding && Double.compare(a.flip, flip) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(padding, flip);
    }
}
