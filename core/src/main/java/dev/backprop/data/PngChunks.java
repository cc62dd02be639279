package dev.backprop.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * The chunk structure of a PNG file, checked before ImageIO decodes it: the JDK's PNG reader ignores checksums, so
 * a damaged file would be decoded into wrong pixels without a word. Every chunk must fit in the file and match its
 * CRC, and the file must end with its IEND chunk.
 */
final class PngChunks {
    private static final int SIGNATURE_BYTES = 8;
    private static final int BUFFER_BYTES = 1 << 16;

    private PngChunks() {
    }

    /**
     * Reads {@code file}'s chunks through.
     *
     * @throws DataFormatException naming the file and the chunk: a length past the file's end, a wrong CRC, or no
     *                             IEND chunk
     */
    static void check(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, BUFFER_BYTES))) {
            in.readFully(new byte[SIGNATURE_BYTES]);
            long at = SIGNATURE_BYTES;
            byte[] buffer = new byte[BUFFER_BYTES];
            while (true) {
                if (size - at < 12) {
                    throw new DataFormatException(file + ": ends after " + size + " bytes without its IEND chunk "
                            + "(a truncated PNG)");
                }
                long length = Integer.toUnsignedLong(readInt(in, file, at));
                byte[] type = new byte[4];
                readFully(in, type, file, at);
                String name = new String(type, StandardCharsets.ISO_8859_1);
                long left = size - at - 12;
                if (length > left) {
                    throw new DataFormatException(file + ": chunk '" + name + "' at byte " + at + " declares " + length
                            + " bytes, but only " + left + " follow it in the file");
                }
                CRC32 crc = new CRC32();
                crc.update(type);
                for (long done = 0; done < length; ) {
                    int n = (int) Math.min(buffer.length, length - done);
                    readFully(in, buffer, n, file, at);
                    crc.update(buffer, 0, n);
                    done += n;
                }
                long stored = Integer.toUnsignedLong(readInt(in, file, at));
                if (stored != crc.getValue()) {
                    throw new DataFormatException(String.format("%s: chunk '%s' at byte %d has CRC %08x, but its "
                            + "%d bytes sum to %08x (a damaged file)", file, name, at, stored, length,
                            crc.getValue()));
                }
                if (name.equals("IEND")) {
                    return;
                }
                at += 12 + length;
            }
        }
    }

    private static int readInt(DataInputStream in, Path file, long at) throws IOException {
        byte[] b = new byte[4];
        readFully(in, b, file, at);
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | b[3] & 0xFF;
    }

    private static void readFully(DataInputStream in, byte[] b, Path file, long at) throws IOException {
        readFully(in, b, b.length, file, at);
    }

    private static void readFully(DataInputStream in, byte[] b, int n, Path file, long at) throws IOException {
        try {
            in.readFully(b, 0, n);
        } catch (EOFException e) {
            throw new DataFormatException(file + ": the chunk at byte " + at + " is cut off by the file's end (a "
                    + "file that shrank while it was read)", e);
        }
    }
}
