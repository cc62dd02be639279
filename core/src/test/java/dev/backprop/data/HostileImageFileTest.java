package dev.backprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFile} against files made to hurt: decompression bombs, damaged chunks, formats in disguise, GIFs and
 * BMPs whose headers say one thing and whose frames another. Each is refused in one line naming the file, or read
 * exactly as PIL reads it.
 */
class HostileImageFileTest {
    /** A 3x2 GIF89a, all palette entry 0 (gray 7), with a logical screen of 3x2: bytes 6..9 are the screen. */
    private static final String GIF_HEAD = "47494638396103000200810000070707000000000000000000";
    private static final String GIF_FRAME = "2c00000000030002000008060001081c181000";

    @TempDir
    Path dir;

    private DataFormatException refused(Path file) {
        DataFormatException e = assertThrows(DataFormatException.class, () -> ImageFile.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e;
    }

    private static byte[] gif(int frames, int screenWidth, int screenHeight) throws IOException {
        ByteArrayOutputStream g = new ByteArrayOutputStream();
        byte[] head = HexFormat.of().parseHex(GIF_HEAD);
        head[6] = (byte) screenWidth;
        head[8] = (byte) screenHeight;
        g.write(head);
        for (int i = 0; i < frames; i++) {
            g.write(HexFormat.of().parseHex(GIF_FRAME));
        }
        g.write(0x3b);
        return g.toByteArray();
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aPngOf8192By8192PixelsIn30KilobytesIsReadWithinTheLimits() throws IOException {
        Path bomb = Files.write(dir.resolve("bomb.png"), HostilePng.flat(8192, 8192, null, null));
        assertTrue(Files.size(bomb) < 100_000, Files.size(bomb) + " bytes");
        ImageFile img = ImageFile.read(bomb);
        assertEquals(8192 * 8192, img.pixels().length);
        assertEquals(8192L * 8192, ImageFile.MAX_PIXELS);
    }

    @Test
    void aChunkWithAWrongCrcOrALengthPastTheFileIsRefused() throws IOException {
        byte[] png = HostilePng.flat(4, 5, "tEXt", "Title\0x".getBytes(StandardCharsets.ISO_8859_1));
        byte[] crc = png.clone();
        crc[crc.length - 13] ^= 1;    // the IDAT chunk's CRC, just before the 12 bytes of IEND
        Path damaged = Files.write(dir.resolve("crc.png"), crc);
        assertTrue(refused(damaged).getMessage().contains(": chunk 'IDAT' at byte "), damaged.toString());
        assertTrue(refused(damaged).getMessage().contains(" (a damaged file)"));

        byte[] longChunk = png.clone();
        ByteBuffer.wrap(longChunk).putInt(33, 0x7fff_ffff);    // the tEXt chunk's length, after signature and IHDR
        Path past = Files.write(dir.resolve("past.png"), longChunk);
        String message = refused(past).getMessage();
        assertTrue(message.contains(": chunk 'tEXt' at byte 33 declares 2147483647 bytes, but only "), message);
        assertEquals(4, ImageFile.read(Files.write(dir.resolve("ok.png"), png)).height());
    }

    @Test
    void compressedMetadataIsNeverInflated() throws IOException {
        // 256 MiB of text in 256 KB. JDK 17's PNG reader inflates a zTXt chunk whenever it reads metadata (800 MB
        // allocated for this one), so this fails unless the reader is told to ignore metadata.
        byte[] text = HostilePng.deflatedZeros(256L << 20);
        byte[] body = new byte[3 + text.length];
        body[0] = 'k';
        System.arraycopy(text, 0, body, 3, text.length);
        Path ztxt = Files.write(dir.resolve("ztxt.png"), HostilePng.flat(4, 5, "zTXt", body));
        body[0] = 'p';
        Path iccp = Files.write(dir.resolve("iccp.png"), HostilePng.flat(4, 5, "iCCP", body));
        for (Path p : new Path[] {ztxt, iccp}) {
            long before = allocated();
            assertEquals(20, ImageFile.read(p).pixels().length);
            long used = allocated() - before;
            assertTrue(used < 32L << 20, p + ": reading it allocated " + used + " bytes");
        }
    }

    @Test
    void formatsOtherThanPngJpegBmpAndGifAreRefusedWhateverTheirName() throws IOException {
        Path wbmp = Files.write(dir.resolve("w.png"), new byte[] {0, 0, 8, 2, (byte) 0xff, 0});
        assertEquals(wbmp + ": a WBMP image, not one read here (PNG, JPEG, BMP, GIF)", refused(wbmp).getMessage());
        Path tif = dir.resolve("t.tif");
        assertTrue(ImageIO.write(new BufferedImage(5, 4, BufferedImage.TYPE_BYTE_GRAY), "tiff", tif.toFile()));
        Path tiff = Files.copy(tif, dir.resolve("t.png"));
        assertEquals(tiff + ": a TIF image, not one read here (PNG, JPEG, BMP, GIF)", refused(tiff).getMessage());
        Path text = Files.writeString(dir.resolve("text.png"), "hello\n");
        assertEquals(text + ": not an image the JDK decodes (PNG, JPEG, BMP, GIF)", refused(text).getMessage());
        Path jpeg = dir.resolve("jpeg.png");    // PIL goes by the content too
        assertTrue(ImageIO.write(new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB), "jpeg", jpeg.toFile()));
        assertEquals(4, ImageFile.read(jpeg).height());
    }

    @Test
    void aGifIsReadOnlyWhenItsFirstFrameFillsItsLogicalScreen() throws IOException {
        Path many = Files.write(dir.resolve("many.gif"), gif(10_000, 3, 2));
        ImageFile first = ImageFile.read(many);
        assertArrayEquals(new byte[] {7, 7, 7, 7, 7, 7}, first.pixels());
        Path small = Files.write(dir.resolve("small.gif"), gif(1, 6, 5));
        assertEquals(small + ": the GIF's first frame is 2x3 at row 0, column 0 of a logical screen of 5x6 (height x "
                + "width); PIL reads the whole screen, so only a first frame that fills it is read",
                refused(small).getMessage());
        byte[] moved = gif(1, 3, 2);
        moved[GIF_HEAD.length() / 2 + 1] = 1;    // the frame's left position
        Path shifted = Files.write(dir.resolve("shifted.gif"), moved);
        assertTrue(refused(shifted).getMessage().contains("at row 0, column 1 of a logical screen of 2x3"));
    }

    /** An 8-bit BMP with a gray palette of 256 entries. */
    private static byte[] bmp(int width, int height, int compression, byte[] data) {
        int offset = 14 + 40 + 4 * 256;
        ByteBuffer b = ByteBuffer.allocate(offset + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 'B').put((byte) 'M').putInt(offset + data.length).putInt(0).putInt(offset);
        b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 8).putInt(compression)
                .putInt(data.length).putInt(2835).putInt(2835).putInt(256).putInt(0);
        for (int i = 0; i < 256; i++) {
            b.put((byte) i).put((byte) i).put((byte) i).put((byte) 0);
        }
        return b.put(data).array();
    }

    @Test
    void aTopDownBmpReadsAsItsRowsSayAndAnImpossibleHeightIsRefused() throws IOException {
        byte[] rows = new byte[16];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (byte) i;
        }
        byte[] down = ImageFile.read(Files.write(dir.resolve("down.bmp"), bmp(4, -4, 0, rows))).pixels();
        byte[] up = ImageFile.read(Files.write(dir.resolve("up.bmp"), bmp(4, 4, 0, rows))).pixels();
        assertArrayEquals(rows, down);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(down[y * 4 + x], up[(3 - y) * 4 + x]);
            }
        }
        refused(Files.write(dir.resolve("min.bmp"), bmp(4, Integer.MIN_VALUE, 0, rows)));
        DataFormatException cut = refused(Files.write(dir.resolve("cut.bmp"), bmp(8192, 8192, 0, rows)));
        assertFalse(cut.getMessage().contains("\n"));
    }

    @Test
    void aProgressiveJpegIsReadAndOneOfMoreScansThanAnyEncoderWritesIsRefused() throws IOException {
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(jpeg)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            writer.write(null, new IIOImage(new BufferedImage(16, 8, BufferedImage.TYPE_INT_RGB), null, null), param);
        } finally {
            writer.dispose();
        }
        byte[] progressive = jpeg.toByteArray();
        assertEquals(8, ImageFile.read(Files.write(dir.resolve("progressive.jpg"), progressive)).height());

        int lastScan = -1;
        for (int i = 0; i + 1 < progressive.length; i++) {
            lastScan = (progressive[i] & 0xFF) == 0xFF && (progressive[i + 1] & 0xFF) == 0xDA ? i : lastScan;
        }
        ByteArrayOutputStream scans = new ByteArrayOutputStream();
        scans.write(progressive, 0, progressive.length - 2);
        for (int i = 0; i < JpegScans.MAX_SCANS; i++) {
            scans.write(progressive, lastScan, progressive.length - 2 - lastScan);
        }
        scans.write(new byte[] {(byte) 0xFF, (byte) 0xD9});
        Path many = Files.write(dir.resolve("scans.jpg"), scans.toByteArray());
        assertEquals(many + ": a JPEG of more than 500 scans; decoding each scan goes over the whole image, and real "
                + "encoders write a few dozen at most", refused(many).getMessage());
    }

    @Test
    void aCompressedBmpIsRefusedSinceItsRunsCanOverrunTheRows() throws IOException {
        byte[] runs = {(byte) 200, 5, 0, 0, (byte) 200, 6, 0, 1};    // 200 pixels in rows of 4, then end of bitmap
        Path rle = Files.write(dir.resolve("rle.bmp"), bmp(4, 4, 1, runs));
        assertEquals(rle + ": a BMP of compression 1 (1: RLE8, 2: RLE4, 4: JPEG, 5: PNG); only uncompressed BMPs "
                + "(0, or 3 with bit fields) are read, as PIL and ImageIO decode the others differently",
                refused(rle).getMessage());
    }

    @Test
    void pipesDevicesAndLinkLoopsNamedAsImagesAreRefusedWithoutWaiting() throws Exception {
        Path fifo = dir.resolve("fifo.png");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertTrue(refused(fifo).getMessage().contains("not a regular file"));
        Path zero = Files.createSymbolicLink(dir.resolve("zero.png"), Path.of("/dev/zero"));
        assertTrue(refused(zero).getMessage().contains("not a regular file"));
        Files.delete(zero);    // before JUnit cleans up, which warns about a link out of its folder
        Path loop = Files.createSymbolicLink(dir.resolve("a.png"), dir.resolve("b.png"));
        Files.createSymbolicLink(dir.resolve("b.png"), loop);
        refused(loop);
        refused(Files.write(dir.resolve("empty.png"), new byte[0]));
    }

    /**
     * An image file is read into memory once, so the structure checks and the decoder see the same bytes: a file
     * larger than any image of the pixel limit needs is refused by its size before a byte is read (a sparse file,
     * so the test writes nothing).
     */
    @Test
    void aFileLargerThanAnyImageIsRefusedByItsSizeBeforeItIsRead() throws IOException {
        Path big = dir.resolve("big.png");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(600L << 20);
        }
        assertTrue(refused(big).getMessage().contains(" bytes, more than an image of " + ImageFile.MAX_PIXELS
                + " pixels needs"), big.toString());
    }
}
