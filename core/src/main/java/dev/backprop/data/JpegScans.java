package dev.backprop.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The number of scans in a JPEG file, counted before ImageIO decodes it: a progressive JPEG may hold any number of
 * scans, each of which its decoder (libjpeg, in native memory) applies to every coefficient of the image, so a small
 * file of many scans over a large image keeps a core busy for minutes. Real encoders write a few dozen at most.
 */
final class JpegScans {
    /** The most scans a JPEG may have. */
    static final int MAX_SCANS = 500;
    private static final int BUFFER_BYTES = 1 << 16;
    /** A start-of-scan marker is 0xFF 0xDA: in the entropy-coded data a 0xFF is always followed by 0 or a restart. */
    private static final int SOS = 0xDA;

    private JpegScans() {
    }

    /** @throws DataFormatException naming the file when it has more than {@link #MAX_SCANS} scans */
    static void check(Path file) throws IOException {
        int scans = 0;
        boolean afterFF = false;
        byte[] buffer = new byte[BUFFER_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                for (int i = 0; i < n; i++) {
                    int b = buffer[i] & 0xFF;
                    if (afterFF && b == SOS && ++scans > MAX_SCANS) {
                        throw new DataFormatException(file + ": a JPEG of more than " + MAX_SCANS + " scans; "
                                + "decoding each scan goes over the whole image, and real encoders write a few dozen "
                                + "at most");
                    }
                    afterFF = b == 0xFF;
                }
            }
        }
    }
}
