package dev.backprop.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link BilinearResize}'s loops against the straightforward ones, a pixel and a band at a time, which the PIL
 * fixtures of {@link ImageTransformTest} pin: random images, sizes and bands, shrinking and growing, the same bytes.
 */
class BilinearResizeTest {
    @Test
    void theFastLoopsGiveTheStraightforwardBytes() {
        Random random = new Random(7);
        for (int trial = 0; trial < 400; trial++) {
            int bands = random.nextBoolean() ? 1 : 3;
            int h = 1 + random.nextInt(trial < 200 ? 12 : 90), w = 1 + random.nextInt(trial < 200 ? 12 : 90);
            int oh = 1 + random.nextInt(trial % 3 == 0 ? 3 * h : h);
            int ow = 1 + random.nextInt(trial % 3 == 1 ? 3 * w : w);
            byte[] px = new byte[h * w * bands];
            if (trial % 5 == 0) {
                Arrays.fill(px, (byte) 255);    // the sums' largest values, clipped at 255
            } else {
                random.nextBytes(px);
            }
            String what = h + "x" + w + "x" + bands + " to " + oh + "x" + ow;
            assertArrayEquals(straightforward(px, bands, h, w, oh, ow),
                    BilinearResize.resize(px, bands, h, w, oh, ow), what);
        }
    }

    @Test
    void bandsOtherThanOneOrThreeAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BilinearResize.resize(new byte[8], 2, 2, 2, 1, 1));
        assertEquals("bands must be 1 (gray) or 3 (RGB), got 2", e.getMessage());
    }

    /** Pillow's passes as written in its C: a pixel, a band and a weight at a time. */
    private static byte[] straightforward(byte[] in, int bands, int h, int w, int oh, int ow) {
        BilinearResize.Weights vertical = BilinearResize.Weights.of(h, oh);
        byte[] rows = in;
        int first = 0;
        if (ow != w) {
            first = vertical.start(0);
            int last = vertical.start(oh - 1) + vertical.count(oh - 1);
            BilinearResize.Weights k = BilinearResize.Weights.of(w, ow);
            rows = new byte[(last - first) * ow * bands];
            for (int y = first; y < last; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int b = 0; b < bands; b++) {
                        int sum = 1 << (BilinearResize.PRECISION_BITS - 1);
                        for (int i = 0; i < k.count(x); i++) {
                            sum += (in[(y * w + k.start(x) + i) * bands + b] & 0xFF) * k.k()[x * k.size() + i];
                        }
                        rows[((y - first) * ow + x) * bands + b] = clip(sum);
                    }
                }
            }
        }
        if (oh == h) {
            return rows;
        }
        byte[] out = new byte[oh * ow * bands];
        for (int y = 0; y < oh; y++) {
            for (int i = 0; i < ow * bands; i++) {
                int sum = 1 << (BilinearResize.PRECISION_BITS - 1);
                for (int j = 0; j < vertical.count(y); j++) {
                    int row = vertical.start(y) - first + j;
                    sum += (rows[row * ow * bands + i] & 0xFF) * vertical.k()[y * vertical.size() + j];
                }
                out[y * ow * bands + i] = clip(sum);
            }
        }
        return out;
    }

    private static byte clip(int sum) {
        return (byte) Math.max(0, Math.min(255, sum >> BilinearResize.PRECISION_BITS));
    }
}
