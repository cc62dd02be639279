package dev.backprop.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How an image is brought to the size a network takes, as torchvision's
 * {@code Compose([Resize(...), CenterCrop(...), ToTensor()])} on a PIL image: after decoding and the conversion to
 * the chosen channels ({@code convert("L")} or {@code convert("RGB")}), an optional <b>resize</b>, then an optional
 * <b>center crop</b>. Immutable; {@link #NONE} leaves every image as it is.
 *
 * <ul>
 *   <li>{@link #resize(int)}: the shorter side to that size, the longer one in proportion and truncated, as
 *       {@code Resize(int)} (torchvision's {@code _compute_resized_output_size}: {@code int(size * long / short)});
 *       {@link #resize(int, int)}: exactly height × width, as {@code Resize((h, w))}. The pixels are Pillow's
 *       bilinear resize, with its antialiasing, to the byte ({@link BilinearResize}).</li>
 *   <li>{@link #centerCrop(int, int)}: the middle height × width, as {@code CenterCrop}: the top row is
 *       {@code int(round((h - crop_h) / 2.0))}, Python's round halving to even, and likewise the left column; a crop
 *       larger than the image pads it with zeros around (the smaller half before), as torchvision pads.</li>
 * </ul>
 *
 * <p>Sizes are from 1 to {@link #MAX_SIDE}, and an image's size after the resize at most {@link ImageFile#MAX_PIXELS}.
 * {@link #toString()} writes the form {@link #parse} reads back, which a model file keeps.
 */
public final class ImageTransform {
    /** The largest side a resize or crop may ask for. */
    public static final int MAX_SIDE = 8192;
    /** No resize and no crop: images are read as they are. */
    public static final ImageTransform NONE = new ImageTransform(0, 0, 0, 0, 0);

    private final int shorterSide;
    private final int height;
    private final int width;
    private final int cropHeight;
    private final int cropWidth;

    private ImageTransform(int shorterSide, int height, int width, int cropHeight, int cropWidth) {
        this.shorterSide = shorterSide;
        this.height = height;
        this.width = width;
        this.cropHeight = cropHeight;
        this.cropWidth = cropWidth;
    }

    /**
     * Resizes the shorter side to {@code size}, keeping the aspect ratio ({@code Resize(size)}).
     *
     * @throws IllegalArgumentException when {@code size} is not in 1..{@link #MAX_SIDE}
     */
    public static ImageTransform resize(int size) {
        return new ImageTransform(checkSide("resize", size), 0, 0, 0, 0);
    }

    /**
     * Resizes to exactly {@code height × width} ({@code Resize((height, width))}).
     *
     * @throws IllegalArgumentException when a side is not in 1..{@link #MAX_SIDE}
     */
    public static ImageTransform resize(int height, int width) {
        checkSides("resize", height, width);
        return new ImageTransform(0, height, width, 0, 0);
    }

    /**
     * This transform followed by a center crop of {@code height × width} ({@code CenterCrop((height, width))}).
     *
     * @throws IllegalArgumentException when a side is not in 1..{@link #MAX_SIDE}
     */
    public ImageTransform centerCrop(int height, int width) {
        checkSides("center crop", height, width);
        return new ImageTransform(shorterSide, this.height, this.width, height, width);
    }

    /** Whether this is {@link #NONE}. */
    public boolean isNone() {
        return equals(NONE);
    }

    /**
     * The transform {@code resize} and {@code crop} describe, each as {@code N} or {@code HxW} (a resize of
     * {@code N} sets the shorter side, a crop of {@code N} is N × N, as in torchvision), or null for none.
     *
     * @throws IllegalArgumentException naming the value when it is not a size of that form within the limits
     */
    public static ImageTransform of(String resize, String crop) {
        ImageTransform t = NONE;
        if (resize != null) {
            int[] s = parseSize("resize", resize);
            t = s.length == 1 ? resize(s[0]) : resize(s[0], s[1]);
        }
        if (crop != null) {
            int[] s = parseSize("center crop", crop);
            t = t.centerCrop(s[0], s.length == 1 ? s[0] : s[1]);
        }
        return t;
    }

    /**
     * Reads {@link #toString()}'s form back: {@code none}, or {@code resize=S} and/or {@code center_crop=S}
     * separated by a comma.
     *
     * @throws IllegalArgumentException naming the text when it is not of that form
     */
    public static ImageTransform parse(String text) {
        if (text.equals("none")) {
            return NONE;
        }
        String resize = null, crop = null;
        for (String part : text.split(",", -1)) {
            if (part.startsWith("resize=") && resize == null && crop == null) {
                resize = part.substring("resize=".length());
            } else if (part.startsWith("center_crop=") && crop == null) {
                crop = part.substring("center_crop=".length());
            } else {
                throw new IllegalArgumentException("not an image transform: '" + text + "' (expected none, or "
                        + "resize=N|HxW and/or center_crop=N|HxW, comma-separated)");
            }
        }
        return of(resize, crop);
    }

    /**
     * The height and width of an image of {@code height × width} after this transform.
     *
     * @throws IllegalArgumentException when a side is not positive
     */
    public int[] outputSize(int height, int width) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("an image of " + height + "x" + width + " has no pixels");
        }
        if (cropHeight > 0) {
            return new int[] {cropHeight, cropWidth};
        }
        return resized(height, width);
    }

    /** The size after the resize alone: torchvision's {@code _compute_resized_output_size} without max_size. */
    private int[] resized(int h, int w) {
        if (this.height > 0) {
            return new int[] {this.height, this.width};
        }
        if (shorterSide == 0) {
            return new int[] {h, w};
        }
        // Python's int * int / int is a correctly rounded double, truncated by int(): so is this.
        return w <= h ? new int[] {(int) ((double) shorterSide * h / w), shorterSide}
                : new int[] {shorterSide, (int) ((double) shorterSide * w / h)};
    }

    /**
     * Reads {@code file} ({@link ImageFile#read}) and applies this transform ({@link #apply}); the size the resize
     * gives is checked from the header, before anything is decoded.
     *
     * @param channels 1 or 3 for the channels the image will be read with, or {@link ImageFolder#AUTO_CHANNELS}
     * @throws DataFormatException naming the file when it cannot be read, or resizes to more than
     *                             {@link ImageFile#MAX_PIXELS} or than the heap has room for
     */
    public ImageFile read(Path file, int channels) {
        return read(file, channels, (h, w) -> { });
    }

    /** As {@link #read(Path, int)}, with {@code expected} asked about the size after the transform. */
    ImageFile read(Path file, int channels, ImageFile.SizeCheck expected) {
        return read(file, channels, expected, 1);
    }

    /**
     * As {@link #read(Path, int, ImageFile.SizeCheck)}, with {@code atOnce} images read at the same time: the heap
     * checks ask for room for that many ({@link ImageFile#read(Path, ImageFile.SizeCheck, int)}).
     */
    ImageFile read(Path file, int channels, ImageFile.SizeCheck expected, int atOnce) {
        ImageFile original = ImageFile.read(file, (h, w) -> {
            checkResized(file, h, w, atOnce);
            int[] out = outputSize(h, w);
            expected.check(out[0], out[1]);
        }, atOnce);
        return apply(original, channels);
    }

    /** Refuses an image whose resize would be larger than the limits or the heap. */
    private void checkResized(Path file, int h, int w, int atOnce) {
        int[] r = resized(h, w);
        long pixels = (long) r[0] * r[1];
        if (pixels > ImageFile.MAX_PIXELS) {
            throw new DataFormatException(file + ": " + h + "x" + w + " (height x width) resized to " + r[0] + "x"
                    + r[1] + " is " + pixels + " pixels, more than the limit of " + ImageFile.MAX_PIXELS);
        }
        long pass = BilinearResize.firstPassPixels(h, w, r[1]);
        if (pass > ImageFile.MAX_PIXELS) {
            throw new DataFormatException(file + ": " + h + "x" + w + " (height x width) resized to " + r[0] + "x"
                    + r[1] + " passes through " + h + "x" + r[1] + " pixels (" + pass + ": the rows are resized "
                    + "first), more than the limit of " + ImageFile.MAX_PIXELS);
        }
        // The first pass, the resized image and the crop, each copied once into an ImageFile: three bytes a pixel.
        String shortfall = isNone() ? null
                : HeapBudget.shortfall(3 * (pass + 2 * pixels + 2L * cropHeight * cropWidth) * atOnce);
        if (shortfall != null) {
            throw new DataFormatException(file + ": resizing to " + r[0] + "x" + r[1] + " pixels"
                    + ImageFile.atOnce(atOnce) + " " + shortfall);
        }
    }

    /**
     * {@code image} transformed: converted to luma first when read as one channel ({@code convert("L")} comes
     * before the resize), then resized, then cropped. The same image when this is {@link #NONE}.
     *
     * @param channels 1 or 3 for the channels the image will be read with, or {@link ImageFolder#AUTO_CHANNELS}
     */
    public ImageFile apply(ImageFile image, int channels) {
        if (isNone()) {
            return image;
        }
        ImageFile in = channels == 1 && !image.gray() ? image.luma() : image;
        int bands = in.gray() ? 1 : 3;
        int[] r = resized(in.height(), in.width());
        // Read in place: the image's own array is only read, and the ImageFile made of the result copies it once.
        byte[] px = r[0] == in.height() && r[1] == in.width() ? in.pixelsUncopied()
                : BilinearResize.resize(in.pixelsUncopied(), bands, in.height(), in.width(), r[0], r[1]);
        if (cropHeight == 0) {
            return new ImageFile(in.file(), r[0], r[1], in.gray(), px);
        }
        return new ImageFile(in.file(), cropHeight, cropWidth, in.gray(),
                crop(px, bands, r[0], r[1]));
    }

    /** torchvision's {@code center_crop}: rounding half to even, zeros where the crop passes the image. */
    private byte[] crop(byte[] px, int bands, int h, int w) {
        int top = offset(h, cropHeight), left = offset(w, cropWidth);
        byte[] out = new byte[cropHeight * cropWidth * bands];
        for (int y = 0; y < cropHeight; y++) {
            int sy = y + top;
            if (sy < 0 || sy >= h) {
                continue;
            }
            int x0 = Math.max(0, -left), x1 = Math.min(cropWidth, w - left);
            if (x1 > x0) {
                System.arraycopy(px, (sy * w + x0 + left) * bands, out, (y * cropWidth + x0) * bands,
                        (x1 - x0) * bands);
            }
        }
        return out;
    }

    /**
     * Where a crop of {@code crop} starts along a side of {@code size}: {@code int(round((size - crop) / 2.0))}, or
     * when the crop is larger, minus the padding before, {@code (crop - size) // 2}.
     */
    static int offset(int size, int crop) {
        return crop > size ? -((crop - size) / 2) : (int) Math.rint((size - crop) / 2.0);
    }

    private static int[] parseSize(String what, String text) {
        String[] parts = text.split("x", -1);
        int[] s = new int[parts.length];
        try {
            if (parts.length > 2) {
                throw new NumberFormatException();
            }
            for (int i = 0; i < parts.length; i++) {
                // Digits only: toString() writes them so, and "+5" or "007" in a model's metadata is not its form.
                if (!parts[i].matches("0|[1-9][0-9]{0,8}")) {
                    throw new NumberFormatException();
                }
                s[i] = Integer.parseInt(parts[i]);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " size must be N or HxW (for example 224 or 224x224), got '"
                    + text + "'");
        }
        if (s.length == 1) {
            checkSide(what, s[0]);
        } else {
            checkSides(what, s[0], s[1]);
        }
        return s;
    }

    private static int checkSide(String what, int size) {
        if (size < 1 || size > MAX_SIDE) {
            throw new IllegalArgumentException(what + " size must be 1 to " + MAX_SIDE + ", got " + size);
        }
        return size;
    }

    private static void checkSides(String what, int height, int width) {
        if (height < 1 || height > MAX_SIDE || width < 1 || width > MAX_SIDE) {
            throw new IllegalArgumentException(what + " height and width must be 1 to " + MAX_SIDE + ", got "
                    + height + "x" + width);
        }
    }

    /** {@code none}, or {@code resize=N} ({@code resize=HxW}) and {@code center_crop=HxW}, comma-separated. */
    @Override
    public String toString() {
        if (isNone()) {
            return "none";
        }
        String resize = shorterSide > 0 ? "resize=" + shorterSide : height > 0 ? "resize=" + height + "x" + width
                : null;
        String crop = cropHeight > 0 ? "center_crop=" + cropHeight + "x" + cropWidth : null;
        return resize == null ? crop : crop == null ? resize : resize + "," + crop;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageTransform t && t.shorterSide == shorterSide && t.height == height
                && t.width == width && t.cropHeight == cropHeight && t.cropWidth == cropWidth;
    }

    @Override
    public int hashCode() {
        return Objects.hash(shorterSide, height, width, cropHeight, cropWidth);
    }
}
