package dev.backprop.data;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * The chunk structure of a PNG file, checked before ImageIO decodes it: the JDK's PNG reader ignores checksums, so
 * a damaged file would be decoded into wrong pixels without a word. Every chunk must fit in the file and match its
 * CRC, and the file must end with its IEND chunk.
 */
final class PngChunks {
    private static final int SIGNATURE_BYTES = 8;

    private PngChunks() {
    }

    /**
     * Checks the chunks of {@code bytes}, the contents of {@code file}.
     *
     * @throws DataFormatException naming the file and the chunk: a length past the file's end, a wrong CRC, or no
     *                             IEND chunk
     */
    static void check(Path file, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long size = bytes.length;
        int at = SIGNATURE_BYTES;
        while (true) {
            if (size - at < 12) {
                throw new DataFormatException(file + ": ends after " + size + " bytes without its IEND chunk "
                        + "(a truncated PNG)");
            }
            long length = Integer.toUnsignedLong(in.getInt(at));
            String name = new String(bytes, at + 4, 4, StandardCharsets.ISO_8859_1);
            long left = size - at - 12;
            if (length > left) {
                throw new DataFormatException(file + ": chunk '" + name + "' at byte " + at + " declares " + length
                        + " bytes, but only " + left + " follow it in the file");
            }
            CRC32 crc = new CRC32();
            crc.update(bytes, at + 4, 4 + (int) length);
            long stored = Integer.toUnsignedLong(in.getInt(at + 8 + (int) length));
            if (stored != crc.getValue()) {
                throw new DataFormatException(String.format("%s: chunk '%s' at byte %d has CRC %08x, but its "
                        + "%d bytes sum to %08x (a damaged file)", file, name, at, stored, length, crc.getValue()));
            }
            if (name.equals("IEND")) {
                return;
            }
            at += 12 + (int) length;
        }
    }
}
