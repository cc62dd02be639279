package dev.backprop.data;

import java.nio.file.Path;

/**
 * The number of scans in a JPEG file, counted before ImageIO decodes it: a progressive JPEG may hold any number of
 * scans, each of which its decoder (libjpeg, in native memory) applies to every coefficient of the image, so a small
 * file of many scans over a large image keeps a core busy for minutes. Real encoders write a few dozen at most.
 */
final class JpegScans {
    /** The most scans a JPEG may have. */
    static final int MAX_SCANS = 500;
    /** A start-of-scan marker is 0xFF 0xDA: in the entropy-coded data a 0xFF is always followed by 0 or a restart. */
    private static final int SOS = 0xDA;

    private JpegScans() {
    }

    /**
     * Counts the scans of {@code bytes}, the contents of {@code file}.
     *
     * @throws DataFormatException naming the file when it has more than {@link #MAX_SCANS} scans
     */
    static void check(Path file, byte[] bytes) {
        int scans = 0;
        for (int i = 1; i < bytes.length; i++) {
            if (bytes[i - 1] == (byte) 0xFF && (bytes[i] & 0xFF) == SOS && ++scans > MAX_SCANS) {
                throw new DataFormatException(file + ": a JPEG of more than " + MAX_SCANS + " scans; decoding each "
                        + "scan goes over the whole image, and real encoders write a few dozen at most");
            }
        }
    }
}
