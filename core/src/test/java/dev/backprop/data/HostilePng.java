package dev.backprop.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * PNG files written chunk by chunk with valid checksums, whose header may declare what their data does not hold:
 * the hostile images of the image readers' tests (the cli's too, through core's test-jar).
 */
public final class HostilePng {
    private HostilePng() {
    }

    /** An 8-bit gray PNG of the given size whose image data inflates to {@code scanlines} (too few for a big one). */
    public static byte[] png(int height, int width, byte[] scanlines) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream h = new DataOutputStream(ihdr);
        h.writeInt(width);
        h.writeInt(height);
        h.write(new byte[] {8, 0, 0, 0, 0});
        chunk(out, "IHDR", ihdr.toByteArray());
        Deflater d = new Deflater();
        d.setInput(scanlines);
        d.finish();
        byte[] z = new byte[64 + scanlines.length * 2];
        chunk(out, "IDAT", Arrays.copyOf(z, d.deflate(z)));
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
