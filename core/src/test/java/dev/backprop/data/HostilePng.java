package dev.backprop.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * PNG files written chunk by chunk with valid checksums, whose header may declare what their data does not hold:
 * the hostile images of the image readers' tests (the cli's too, through core's test-jar).
 */
public final class HostilePng {
    private HostilePng() {
    }

    /** An 8-bit gray PNG of the given size whose image data inflates to {@code scanlines} (too few for a big one). */
    public static byte[] png(int height, int width, byte[] scanlines) throws IOException {
        return png(height, width, null, null, deflate(scanlines));
    }

    /**
     * An 8-bit gray PNG of the given size, every pixel 0: a decompression bomb of a few kilobytes per 64 Mi pixels,
     * with an ancillary chunk {@code kind} holding {@code data} before its image data when {@code kind} is not null.
     */
    public static byte[] flat(int height, int width, String kind, byte[] data) throws IOException {
        return png(height, width, kind, data, deflatedZeros((long) height * (width + 1)));
    }

    /** {@code n} zero bytes, deflated (zlib) as a PNG's image data and its compressed text and profiles are. */
    public static byte[] deflatedZeros(long n) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        byte[] zeros = new byte[1 << 16];
        try (DeflaterOutputStream out = new DeflaterOutputStream(z, new Deflater(Deflater.BEST_COMPRESSION))) {
            for (long left = n; left > 0; left -= zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        }
        return z.toByteArray();
    }

    private static byte[] deflate(byte[] data) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (DeflaterOutputStream out = new DeflaterOutputStream(z)) {
            out.write(data);
        }
        return z.toByteArray();
    }

    private static byte[] png(int height, int width, String kind, byte[] data, byte[] idat) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[] {8, 0, 0, 0, 0});
        chunk(out, "IHDR", ihdr.toByteArray());
        if (kind != null) {
            chunk(out, kind, data);
        }
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return b.toByteArray();
    }

    private static void chunk(DataOutputStream out, String kind, byte[] data) throws IOException {
        byte[] k = kind.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(data.length);
        out.write(k);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(k);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }
}
