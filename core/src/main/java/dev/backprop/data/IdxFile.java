package dev.backprop.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format), gzipped or not (detected from the content, not the name).
 * Only the unsigned-byte element type (0x08) is supported, which is what image and label files use.
 *
 * <p>Layout: two zero bytes, a type byte, a dimension count {@code d}, then {@code d} big-endian 32-bit
 * dimensions and the data, row-major.
 *
 * @param path where it came from (for messages)
 * @param dims the dimensions, e.g. {@code [60000, 28, 28]}
 * @param data the elements as unsigned bytes stored in a {@code byte[]} (mask with {@code 0xFF})
 */
public record IdxFile(Path path, int[] dims, byte[] data) {
    private static final int UNSIGNED_BYTE = 0x08;
    /** Refuse absurd headers before allocating: 2 GiB is the Java array limit anyway. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** Number of items (the first dimension). */
    public int count() {
        return dims[0];
    }

    /** Elements per item (product of the remaining dimensions). */
    public int itemSize() {
        int s = 1;
        for (int i = 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    /** Reads and validates an IDX file. */
    public static IdxFile read(Path path) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            InputStream in = raw;
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                in = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
            }
            return parse(path, in);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(path + ": file not found");
        } catch (java.util.zip.ZipException e) {
            throw new DataFormatException(path + ": corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (java.io.EOFException e) {
            throw new DataFormatException(path + ": truncated gzip stream", e);
        } catch (IOException e) {
            throw new DataFormatException(path + ": cannot read (" + e + ")", e);
        }
    }

    private static IdxFile parse(Path path, InputStream in) throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length < 4) {
            throw new DataFormatException(path + ": truncated IDX header (" + head.length + " bytes)");
        }
        if (head[0] != 0 || head[1] != 0) {
            throw new DataFormatException(String.format("%s: not an IDX file (magic starts with 0x%02x%02x, "
                    + "expected 0x0000)", path, head[0] & 0xFF, head[1] & 0xFF));
        }
        if ((head[2] & 0xFF) != UNSIGNED_BYTE) {
            throw new DataFormatException(String.format("%s: IDX element type 0x%02x is not supported "
                    + "(only unsigned bytes, 0x08)", path, head[2] & 0xFF));
        }
        int nd = head[3] & 0xFF;
        if (nd < 1 || nd > 8) {
            throw new DataFormatException(path + ": IDX dimension count " + nd + " out of range 1..8");
        }
        byte[] dimBytes = in.readNBytes(4 * nd);
        if (dimBytes.length < 4 * nd) {
            throw new DataFormatException(path + ": truncated IDX header: " + nd + " dimensions announced");
        }
        int[] dims = new int[nd];
        long total = 1;
        for (int i = 0; i < nd; i++) {
            int d = ((dimBytes[4 * i] & 0xFF) << 24) | ((dimBytes[4 * i + 1] & 0xFF) << 16)
                    | ((dimBytes[4 * i + 2] & 0xFF) << 8) | (dimBytes[4 * i + 3] & 0xFF);
            if (d < 0) {
                throw new DataFormatException(path + ": negative dimension in IDX header");
            }
            dims[i] = d;
            total *= d;
            if (total > MAX_ELEMENTS) {
                throw new DataFormatException(path + ": IDX header announces " + Arrays.toString(dims)
                        + ", too large to load");
            }
        }
        byte[] data = in.readNBytes((int) total);
        if (data.length < total) {
            throw new DataFormatException(path + ": truncated: header " + Arrays.toString(dims) + " needs " + total
                    + " data bytes, file has " + data.length);
        }
        if (in.read() != -1) {
            throw new DataFormatException(path + ": trailing bytes after the " + total + " announced by "
                    + Arrays.toString(dims));
        }
        return new IdxFile(path, dims, data);
    }
}
