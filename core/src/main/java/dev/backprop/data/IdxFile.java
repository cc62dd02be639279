package dev.backprop.data;

import dev.backprop.backend.MemoryStats;
import dev.backprop.io.IoErrors;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format), gzipped or not (detected from the content, not the name).
 * Only the unsigned-byte element type (0x08) is supported, which is what image and label files use.
 *
 * <p>Layout: two zero bytes, a type byte, a dimension count {@code d}, then {@code d} big-endian 32-bit
 * dimensions and the data, row-major.
 *
 * <p>The declared size is checked before anything is inflated or allocated: against {@link #MAX_ELEMENTS},
 * against the file (exactly for a plain file; for a gzipped one, against the most that deflate can expand its
 * bytes to) and against the room left in the heap.
 *
 * @param path where it came from (for messages)
 * @param dims the dimensions, e.g. {@code [60000, 28, 28]}
 * @param data the elements as unsigned bytes stored in a {@code byte[]} (mask with {@code 0xFF})
 */
record IdxFile(Path path, int[] dims, byte[] data) {
    /**
     * The most elements a file may declare: 1 GiB, 22 times Fashion-MNIST's training images and room for the
     * largest IDX data sets in use (EMNIST ByClass, 0.55 GB), each of which becomes 4 bytes as a float.
     */
    public static final long MAX_ELEMENTS = 1L << 30;
    /** Deflate's largest expansion (258 bytes from a 2-bit code, zlib's bound): no gzip member inflates more. */
    static final long MAX_INFLATION = 1032;
    private static final int UNSIGNED_BYTE = 0x08;
    private static final int MAX_DIMENSIONS = 8;

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
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(IoErrors.checkFile(path)), 1 << 16)) {
            long fileSize = Files.size(path);
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                try (InputStream gz = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16)) {
                    return parse(path, gz, fileSize, true);
                }
            }
            return parse(path, raw, fileSize, false);
        } catch (NoSuchFileException e) {
            throw new DataFormatException(path + ": file not found");
        } catch (ZipException e) {
            throw new DataFormatException(path + ": corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new DataFormatException(path + ": truncated gzip stream", e);
        } catch (IOException e) {
            throw new DataFormatException(IoErrors.message(path, e), e);
        }
    }

    private static IdxFile parse(Path path, InputStream in, long fileSize, boolean gzipped) throws IOException {
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
        if (nd < 1 || nd > MAX_DIMENSIONS) {
            throw new DataFormatException(path + ": IDX dimension count " + nd + " out of range 1.." + MAX_DIMENSIONS);
        }
        byte[] dimBytes = in.readNBytes(4 * nd);
        if (dimBytes.length < 4 * nd) {
            throw new DataFormatException(path + ": truncated IDX header: " + nd + " dimensions announced");
        }
        int[] dims = dimensions(path, dimBytes, nd);
        long total = checkSize(path, dims, 4 + 4L * nd, fileSize, gzipped);
        byte[] data = new byte[(int) total];
        int n = in.readNBytes(data, 0, data.length);
        if (n < total) {
            throw new DataFormatException(path + ": truncated: header " + Arrays.toString(dims) + " needs " + total
                    + " data bytes, file has " + n);
        }
        if (in.read() != -1) {
            throw new DataFormatException(path + ": trailing bytes after the " + total + " announced by "
                    + Arrays.toString(dims));
        }
        return new IdxFile(path, dims, data);
    }

    private static int[] dimensions(Path path, byte[] b, int nd) {
        int[] dims = new int[nd];
        long total = 1;
        for (int i = 0; i < nd; i++) {
            int d = ((b[4 * i] & 0xFF) << 24) | ((b[4 * i + 1] & 0xFF) << 16) | ((b[4 * i + 2] & 0xFF) << 8)
                    | (b[4 * i + 3] & 0xFF);
            if (d < 0) {
                throw new DataFormatException(path + ": dimension " + i + " of the IDX header is " + (d & 0xFFFFFFFFL)
                        + ", more than an IDX file can hold");
            }
            dims[i] = d;
            total = total == 0 ? 0 : Math.min(total * d, MAX_ELEMENTS + 1);  // both factors < 2^31: no overflow
        }
        // One item's elements and the item count become array sizes even when the other factor is 0.
        long item = 1;
        for (int i = 1; i < nd; i++) {
            item = Math.min(item * dims[i], MAX_ELEMENTS + 1);
        }
        if (total > MAX_ELEMENTS || item > MAX_ELEMENTS || dims[0] > MAX_ELEMENTS) {
            throw new DataFormatException(path + ": IDX header announces " + Arrays.toString(dims) + ", more than the "
                    + "limit of " + MAX_ELEMENTS + " elements");
        }
        return dims;
    }

    /** The data bytes the header declares, once they are known to fit the file and the heap. */
    private static long checkSize(Path path, int[] dims, long headerBytes, long fileSize, boolean gzipped) {
        long total = 1;
        for (int d : dims) {
            total *= d;
        }
        if (!gzipped && total != fileSize - headerBytes) {
            String what = total > fileSize - headerBytes ? "truncated" : "trailing bytes";
            throw new DataFormatException(path + ": " + what + ": header " + Arrays.toString(dims) + " needs " + total
                    + " data bytes, the file has " + (fileSize - headerBytes));
        }
        if (gzipped && total + headerBytes > MAX_INFLATION * fileSize) {
            throw new DataFormatException(path + ": header " + Arrays.toString(dims) + " needs " + total
                    + " data bytes, more than the " + fileSize + " gzipped bytes of the file can inflate to "
                    + "(corrupt, or a gzip bomb)");
        }
        String shortfall = HeapBudget.shortfall(total);
        if (shortfall != null) {
            throw new DataFormatException(path + ": header " + Arrays.toString(dims) + " declares "
                    + MemoryStats.human(total) + " of data, which " + shortfall);
        }
        return total;
    }
}
