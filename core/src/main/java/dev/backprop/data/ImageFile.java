package dev.backprop.data;

import dev.backprop.io.IoErrors;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One image file (PNG, JPEG, BMP, GIF: what the JDK's {@code javax.imageio} decodes) as 8-bit pixels, read the way
 * PIL reads it for torchvision: a 16-bit channel is its high byte (as PIL reads 16-bit PNGs), a channel of 1, 2 or 4
 * bits is scaled to 0..255, a palette is looked up, alpha is dropped (as {@code convert("RGB")} drops it), and the
 * raw samples are taken as they are, with no colour-space conversion. PNG, BMP and GIF decode to exactly PIL's
 * values; JPEG decoders may round differently, so a JPEG's pixels can differ from PIL's by a few levels.
 *
 * <p>The file is untrusted: its width and height are read from the header and checked against
 * {@link #MAX_PIXELS} and the heap ({@link HeapBudget}) before anything is decoded, and a decoder's warning (a
 * truncated JPEG, which ImageIO otherwise returns half grey) or failure is refused naming the file. Metadata is
 * never read (a compressed text chunk is not inflated), a PNG's chunks must fit the file and match their CRCs, a
 * JPEG may have at most 500 scans, and
 * what PIL would read otherwise is refused: other formats under an image's name, compressed BMPs, and a GIF whose
 * first frame does not fill its logical screen.
 *
 * @param file   where it was read from
 * @param height rows
 * @param width  columns
 * @param gray   whether the image is grayscale: gray samples (with or without alpha), or a palette of grays only
 * @param pixels {@code height × width} values when gray, else {@code height × width × 3} RGB values, row-major
 */
public record ImageFile(Path file, int height, int width, boolean gray, byte[] pixels) {
    /** The most pixels an image may have: 64 Mi (8192 × 8192), far past what a network is trained on. */
    public static final long MAX_PIXELS = 1L << 26;
    /** The formats read, as ImageIO's readers name them. */
    private static final Set<String> FORMATS = Set.of("png", "jpeg", "bmp", "gif");
    /** Where a BMP's info header holds its compression; the values of an uncompressed one. */
    private static final int BMP_COMPRESSION_AT = 30;
    private static final int BMP_RGB = 0;
    private static final int BMP_BITFIELDS = 3;
    private static final String GIF_STREAM = "javax_imageio_gif_stream_1.0";
    private static final String GIF_IMAGE = "javax_imageio_gif_image_1.0";
    /** Bytes per pixel that a decoder may hold at most (16-bit RGBA) while it decodes. */
    private static final int DECODED_BYTES_PER_PIXEL = 8;
    /** The largest file read: {@link #MAX_PIXELS} of 16-bit RGBA stored uncompressed, and room for its chunks. */
    private static final long MAX_FILE_BYTES = MAX_PIXELS * DECODED_BYTES_PER_PIXEL + (1 << 20);

    /**
     * Keeps its own copy of {@code pixels}, so that the caller's array changing later does not change this image.
     *
     * @throws IllegalArgumentException when a side is below 1, or {@code pixels} does not hold
     *                                  {@code height × width} values (gray) or {@code height × width × 3} (RGB)
     */
    public ImageFile {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException(DataFormatException.oneLine(file + ": an image of " + height + "x"
                    + width + " (height x width) has no pixels"));
        }
        long expected = (long) height * width * (gray ? 1 : 3);
        if (pixels.length != expected) {
            throw new IllegalArgumentException(DataFormatException.oneLine(file + ": " + pixels.length + " pixel "
                    + "values for " + (gray ? "a gray" : "an RGB") + " image of " + height + "x" + width + " (it takes "
                    + expected + ")"));
        }
        pixels = pixels.clone();
    }

    /** {@return a copy of the pixels}, laid out as the record's description says */
    @Override
    public byte[] pixels() {
        return pixels.clone();
    }

    /** The pixels themselves, not a copy: for this package's readers, which never write to them. */
    byte[] pixelsUncopied() {
        return pixels;
    }

    /** Whether {@code o} is an image of the same file, size, kind and pixel values. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ImageFile i && Objects.equals(file, i.file) && height == i.height && width == i.width
                && gray == i.gray && Arrays.equals(pixels, i.pixels);
    }

    @Override
    public int hashCode() {
        return Objects.hash(file, height, width, gray, Arrays.hashCode(pixels));
    }

    /**
     * Reads and decodes {@code file}.
     *
     * @throws DataFormatException naming the file when it cannot be read, is not an image ImageIO decodes, is
     *                             truncated or corrupt, is larger than {@link #MAX_PIXELS} or than the heap has room
     *                             for, or its colours are neither gray nor RGB (CMYK)
     */
    public static ImageFile read(Path file) {
        return read(file, (height, width) -> { });
    }

    /**
     * As {@link #read(Path)}, with {@code expected} asked about the header's height and width before anything is
     * decoded (a folder's images must all have one size).
     */
    static ImageFile read(Path file, SizeCheck expected) {
        return read(file, expected, 1);
    }

    /**
     * As {@link #read(Path, SizeCheck)}, with {@code atOnce} images read at the same time by other threads: each heap
     * check asks for {@code atOnce} times this image's bytes. However the checks interleave, the largest image in
     * flight then finds room for all of them, which together take no more than {@code atOnce} times its bytes.
     */
    static ImageFile read(Path file, SizeCheck expected, int atOnce) {
        try {
            if (!Files.isRegularFile(IoErrors.checkFile(file))) {
                throw new DataFormatException(file + ": not a regular file (a pipe, socket or device cannot be an "
                        + "image)");
            }
            byte[] bytes = readBytes(file, atOnce);
            try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
                return decode(file, bytes, in, expected, atOnce);
            }
        } catch (NoSuchFileException e) {
            throw new DataFormatException(file + ": file not found");
        } catch (IIOException e) {
            throw new DataFormatException(file + ": corrupt or truncated image (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataFormatException(IoErrors.message(file, e), e);
        }
    }

    /**
     * The file's bytes, read once: the structure checks and the decoder see the same bytes, however the file changes
     * meanwhile, and no file is opened twice.
     */
    private static byte[] readBytes(Path file, int atOnce) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            long size = ch.size();
            if (size > MAX_FILE_BYTES) {
                throw new DataFormatException(file + ": " + size + " bytes, more than an image of " + MAX_PIXELS
                        + " pixels needs (" + MAX_FILE_BYTES + ")");
            }
            String shortfall = HeapBudget.shortfall(size * atOnce);
            if (shortfall != null) {
                throw new DataFormatException(file + ": reading its " + size + " bytes" + atOnce(atOnce) + " "
                        + shortfall);
            }
            return Channels.newInputStream(ch).readNBytes((int) size);
        }
    }

    private static ImageFile decode(Path file, byte[] bytes, ImageInputStream in, SizeCheck expected, int atOnce)
            throws IOException {
        ImageReader reader = reader(file, in);
        try {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(new Refuse(file));
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            if (format.equals("png")) {
                PngChunks.check(file, bytes);
            } else if (format.equals("bmp")) {
                checkBmpCompression(file, bytes);
            } else if (format.equals("jpeg")) {
                JpegScans.check(file, bytes);
            }
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            checkSize(file, height, width, atOnce);
            if (format.equals("gif")) {
                checkGifScreen(file, reader, height, width);
            }
            expected.check(height, width);
            BufferedImage image = reader.read(0);
            if (image.getWidth() != width || image.getHeight() != height) {
                throw new DataFormatException(file + ": decoded as " + image.getHeight() + "x" + image.getWidth()
                        + ", its header says " + height + "x" + width + " (height x width)");
            }
            return pixels(file, image);
        } catch (DataFormatException | IOException e) {
            throw e;
        } catch (RuntimeException e) {
            // Decoders throw whatever a corrupt file leads them into (index, argument, state errors).
            throw new DataFormatException(file + ": corrupt image (" + e + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * The first of ImageIO's readers for {@code in} that reads one of {@link #FORMATS}: other readers (the JDK's
     * WBMP reader takes almost any few bytes for an image, its TIFF reader and plugins on the class path read what
     * PIL reads otherwise or not at all) are never given an untrusted file.
     */
    private static ImageReader reader(Path file, ImageInputStream in) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        String other = null;
        while (readers.hasNext()) {
            ImageReader reader = readers.next();
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            if (FORMATS.contains(format)) {
                return reader;
            }
            other = other != null ? other : format.toUpperCase(Locale.ROOT);
        }
        throw new DataFormatException(file + ": " + (other == null ? "not an image the JDK decodes"
                : "a " + other + " image, not one read here") + " (PNG, JPEG, BMP, GIF)");
    }

    /**
     * Refuses a GIF whose first frame does not fill its logical screen at (0, 0): PIL reads the screen, with the
     * frame drawn on the background, and ImageIO the frame alone, so the two would differ in size or place.
     */
    private static void checkGifScreen(Path file, ImageReader reader, int height, int width) throws IOException {
        Element screen = element(reader.getStreamMetadata().getAsTree(GIF_STREAM), "LogicalScreenDescriptor");
        Element frame = element(reader.getImageMetadata(0).getAsTree(GIF_IMAGE), "ImageDescriptor");
        String screenH = screen.getAttribute("logicalScreenHeight");
        String screenW = screen.getAttribute("logicalScreenWidth");
        String top = frame.getAttribute("imageTopPosition");
        String left = frame.getAttribute("imageLeftPosition");
        if (!screenH.equals(String.valueOf(height)) || !screenW.equals(String.valueOf(width)) || !top.equals("0")
                || !left.equals("0")) {
            throw new DataFormatException(file + ": the GIF's first frame is " + height + "x" + width + " at row "
                    + top + ", column " + left + " of a logical screen of " + screenH + "x" + screenW
                    + " (height x width); PIL reads the whole screen, so only a first frame that fills it is read");
        }
    }

    /**
     * Refuses a BMP whose pixels are compressed (RLE, or an embedded JPEG or PNG): ImageIO and PIL disagree on
     * runs that cross a row's end, skipped pixels and streams that end early, so only plain and bit-field BMPs,
     * which both read alike, are read.
     */
    private static void checkBmpCompression(Path file, byte[] bytes) {
        ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < BMP_COMPRESSION_AT + 4 || header.getInt(14) <= 12) {
            return;    // too short for ImageIO to read, or an OS/2 header, which has no compression
        }
        int compression = header.getInt(BMP_COMPRESSION_AT);
        if (compression != BMP_RGB && compression != BMP_BITFIELDS) {
            throw new DataFormatException(file + ": a BMP of compression " + compression + " (1: RLE8, 2: RLE4, "
                    + "4: JPEG, 5: PNG); only uncompressed BMPs (0, or 3 with bit fields) are read, as PIL and "
                    + "ImageIO decode the others differently");
        }
    }

    private static Element element(Node tree, String name) {
        return (Element) ((Element) tree).getElementsByTagName(name).item(0);
    }

    private static void checkSize(Path file, int height, int width, int atOnce) {
        long pixels = (long) height * width;
        if (height < 1 || width < 1 || pixels > MAX_PIXELS) {
            throw new DataFormatException(file + ": the header says " + height + "x" + width + " (height x width), "
                    + (pixels < 1 ? "no pixels" : pixels + " pixels, more than the limit of " + MAX_PIXELS));
        }
        String shortfall = HeapBudget.shortfall(pixels * DECODED_BYTES_PER_PIXEL * atOnce);
        if (shortfall != null) {
            throw new DataFormatException(file + ": decoding " + height + "x" + width + " pixels" + atOnce(atOnce)
                    + " " + shortfall);
        }
    }

    /** {@code ""} for one image read at a time, else {@code ", as N images read at once,"} for a message. */
    static String atOnce(int atOnce) {
        return atOnce == 1 ? "" : ", as " + atOnce + " images read at once,";
    }

    /** The decoded image's raw samples as 8-bit gray or RGB values. */
    static ImageFile pixels(Path file, BufferedImage image) {
        ColorModel cm = image.getColorModel();
        Raster r = image.getRaster();
        int h = image.getHeight();
        int w = image.getWidth();
        if (cm instanceof IndexColorModel icm) {
            return palette(file, icm, r, h, w);
        }
        int space = cm.getColorSpace().getType();
        int colours = cm.getNumColorComponents();
        boolean gray = space == ColorSpace.TYPE_GRAY && colours == 1;
        if (!gray && !(space == ColorSpace.TYPE_RGB && colours == 3)) {
            throw new DataFormatException(file + ": " + colours + " colour components of colour space type " + space
                    + "; only gray and RGB images are read (convert CMYK images to RGB)");
        }
        int bands = gray ? 1 : 3;
        byte[] px = new byte[Math.multiplyExact(h * w, bands)];
        if (copyBytes(r, bands, h, w, px)) {
            return new ImageFile(file, h, w, gray, px);
        }
        int[] row = new int[w];
        for (int b = 0; b < bands; b++) {
            int bits = r.getSampleModel().getSampleSize(b);
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, b, row);
                for (int x = 0; x < w; x++) {
                    px[(y * w + x) * bands + b] = (byte) to8Bits(row[x], bits);
                }
            }
        }
        return new ImageFile(file, h, w, gray, px);
    }

    /**
     * Copies {@code r}'s first {@code bands} samples into {@code px} straight from its bytes when it keeps 8-bit
     * samples interleaved in one byte array (what the PNG and JPEG readers give RGB and gray images in), the same
     * values the sample-by-sample path reads; false, having copied nothing, for any other layout.
     */
    private static boolean copyBytes(Raster r, int bands, int h, int w, byte[] px) {
        if (!(r.getSampleModel() instanceof ComponentSampleModel sm)
                || !(r.getDataBuffer() instanceof DataBufferByte db) || sm.getNumBands() < bands) {
            return false;
        }
        int[] offsets = sm.getBandOffsets();
        for (int b = 0; b < bands; b++) {
            if (sm.getSampleSize(b) != 8 || sm.getBankIndices()[b] != 0) {
                return false;
            }
        }
        byte[] data = db.getData();
        int stride = sm.getPixelStride(), scanline = sm.getScanlineStride();
        int base = db.getOffset() - r.getSampleModelTranslateY() * scanline - r.getSampleModelTranslateX() * stride;
        boolean rows = stride == bands && offsets[0] == 0 && (bands == 1 || offsets[1] == 1 && offsets[2] == 2);
        int o = 0;
        for (int y = 0; y < h; y++) {
            int p = base + y * scanline;
            if (rows) {
                // Stored as they are wanted (a PNG's RGB or gray): the row is one block.
                System.arraycopy(data, p, px, o, w * bands);
                o += w * bands;
            } else if (bands == 1) {
                for (int x = 0; x < w; x++, p += stride) {
                    px[o++] = data[p + offsets[0]];
                }
            } else {
                int o0 = offsets[0], o1 = offsets[1], o2 = offsets[2];
                for (int x = 0; x < w; x++, p += stride, o += 3) {
                    px[o] = data[p + o0];
                    px[o + 1] = data[p + o1];
                    px[o + 2] = data[p + o2];
                }
            }
        }
        return true;
    }

    private static ImageFile palette(Path file, IndexColorModel icm, Raster r, int h, int w) {
        boolean gray = true;
        for (int i = 0; i < icm.getMapSize(); i++) {
            gray &= icm.getRed(i) == icm.getGreen(i) && icm.getGreen(i) == icm.getBlue(i);
        }
        int bands = gray ? 1 : 3;
        byte[] px = new byte[Math.multiplyExact(h * w, bands)];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            r.getSamples(0, y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * bands;
                int k = row[x];
                if (k >= icm.getMapSize()) {
                    throw new DataFormatException(file + ": pixel (" + y + ", " + x + ") is palette entry " + k
                            + ", past the palette's " + icm.getMapSize() + " entries");
                }
                px[i] = (byte) icm.getRed(k);
                if (!gray) {
                    px[i + 1] = (byte) icm.getGreen(k);
                    px[i + 2] = (byte) icm.getBlue(k);
                }
            }
        }
        return new ImageFile(file, h, w, gray, px);
    }

    /** A sample of {@code bits} bits as 0..255: fewer bits scaled exactly (4 bits: × 17), more as their high byte. */
    static int to8Bits(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        return bits < 8 ? sample * 255 / ((1 << bits) - 1) : sample >>> (bits - 8);
    }

    /**
     * The pixels as {@code ToTensor()} gives them: {@code channels × height × width} floats, value / 255, written
     * into {@code dst} from {@code offset}. One channel of an RGB image is its luma as PIL's {@code convert("L")}
     * computes it (ITU-R 601-2: {@code (19595 R + 38470 G + 7471 B + 32768) >> 16}); three channels of a gray image
     * repeat it, as {@code convert("RGB")} does.
     *
     * @throws IllegalArgumentException when {@code channels} is not 1 or 3
     */
    public void toTensor(int channels, float[] dst, int offset) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 (gray) or 3 (RGB), got " + channels);
        }
        int plane = height * width;
        for (int i = 0; i < plane; i++) {
            if (gray) {
                float v = (pixels[i] & 0xFF) / 255.0f;
                for (int c = 0; c < channels; c++) {
                    dst[offset + c * plane + i] = v;
                }
            } else if (channels == 3) {
                for (int c = 0; c < 3; c++) {
                    dst[offset + c * plane + i] = (pixels[3 * i + c] & 0xFF) / 255.0f;
                }
            } else {
                dst[offset + i] = luma(i) / 255.0f;
            }
        }
    }

    /** This RGB image as one channel, its luma as {@link #toTensor} computes it ({@code convert("L")}). */
    ImageFile luma() {
        byte[] px = new byte[height * width];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) luma(i);
        }
        return new ImageFile(file, height, width, true, px);
    }

    /** PIL's luma of RGB pixel {@code i}: ITU-R 601-2 in 16-bit fixed point, rounded. */
    private int luma(int i) {
        int red = pixels[3 * i] & 0xFF, green = pixels[3 * i + 1] & 0xFF, blue = pixels[3 * i + 2] & 0xFF;
        return (19595 * red + 38470 * green + 7471 * blue + 0x8000) >> 16;
    }

    /** As {@link #toTensor(int, float[], int)}, into a new array. */
    public float[] toTensor(int channels) {
        float[] out = new float[Math.multiplyExact(channels, height * width)];
        toTensor(channels, out, 0);
        return out;
    }

    /** A check of an image's height and width, from its header, before it is decoded. */
    @FunctionalInterface
    interface SizeCheck {
        /** @throws DataFormatException naming the file when an image of this size is not wanted */
        void check(int height, int width);
    }

    /** A decoder warning (a truncated or damaged file whose rest ImageIO would fill in) refuses the file. */
    private record Refuse(Path file) implements IIOReadWarningListener {
        @Override
        public void warningOccurred(ImageReader source, String warning) {
            throw new DataFormatException(file + ": damaged image (" + warning + ")");
        }
    }
}
