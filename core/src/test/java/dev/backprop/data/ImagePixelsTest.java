package dev.backprop.data;

import org.junit.jupiter.api.Test;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The decoded raster's samples as {@link ImageFile} pixels: the direct copy of 8-bit interleaved bytes against
 * reading them a sample at a time, for the layouts the readers give and a sub-image whose raster starts elsewhere.
 */
class ImagePixelsTest {
    private static final Path FILE = Path.of("x.png");

    @Test
    void everyLayoutGivesTheSamplesReadOneAtATime() {
        Random random = new Random(11);
        int[] types = {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_BYTE_GRAY,
            BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_USHORT_GRAY};
        for (int type : types) {
            BufferedImage img = new BufferedImage(37, 23, type);
            for (int y = 0; y < 23; y++) {
                for (int x = 0; x < 37; x++) {
                    img.setRGB(x, y, random.nextInt());
                }
            }
            check(img, "type " + type);
            check(img.getSubimage(5, 3, 17, 11), "type " + type + ", a sub-image");
        }
        // RGB bytes in R, G, B order, as the PNG reader lays them out: copied a row at a time.
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 37, 23, 3, null);
        random.nextBytes(((DataBufferByte) raster.getDataBuffer()).getData());
        ColorModel rgb = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        BufferedImage png = new BufferedImage(rgb, raster, false, null);
        check(png, "RGB bytes");
        check(png.getSubimage(5, 3, 17, 11), "RGB bytes, a sub-image");
    }

    private static void check(BufferedImage img, String what) {
        ImageFile read = ImageFile.pixels(FILE, img);
        boolean gray = img.getColorModel().getNumColorComponents() == 1;
        assertEquals(gray, read.gray(), what);
        assertArrayEquals(oneAtATime(img.getRaster(), gray ? 1 : 3), read.pixels(), what);
    }

    private static byte[] oneAtATime(Raster r, int bands) {
        int h = r.getHeight(), w = r.getWidth();
        byte[] px = new byte[h * w * bands];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int b = 0; b < bands; b++) {
                    int bits = r.getSampleModel().getSampleSize(b);
                    px[(y * w + x) * bands + b] = (byte) ImageFile.to8Bits(r.getSample(r.getMinX() + x,
                            r.getMinY() + y, b), bits);
                }
            }
        }
        return px;
    }
}
