package dev.backprop.random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhiloxTest {

    /** Random123's known-answer vectors for philox4x32-10 (its tests/kat_vectors): counter, key, expected block. */
    @Test
    void knownAnswers() {
        check(new int[] {0, 0, 0, 0}, 0, 0, new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
        check(new int[] {-1, -1, -1, -1}, -1, -1, new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
        check(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0,
                new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
    }

    private static void check(int[] ctr, int k0, int k1, int[] expected) {
        int[] out = new int[4];
        Philox.block(ctr.clone(), k0, k1, out);
        assertArrayEquals(expected, out);
        int[] inPlace = ctr.clone();
        Philox.block(inPlace, k0, k1, inPlace);
        assertArrayEquals(expected, inPlace);
    }

    @Test
    void wordsAreTheBlocksOfTheStreamInOrder() {
        long seed = 0x0123456789abcdefL;
        int[] all = new int[11];
        Philox.words(seed, 7, all, 11);
        for (int i = 0; i < 11; i++) {
            assertEquals(Philox.word(seed, 7, i), all[i], "element " + i);
        }
        // block 8 of the stream is elements 4..7 of a draw starting at block 7, and element 0 of one starting at 8
        assertEquals(all[4], Philox.word(seed, 8, 0));
        int[] ctr = {8, 0, 0, 0};
        Philox.block(ctr, (int) seed, (int) (seed >>> 32), ctr);
        assertArrayEquals(new int[] {ctr[0], ctr[1], ctr[2], ctr[3]}, new int[] {all[4], all[5], all[6], all[7]});
    }

    @Test
    void theCounterIs64Bits() {
        long b = 0x1_0000_0002L;
        int[] ctr = {2, 1, 0, 0};
        Philox.block(ctr, 5, 0, ctr);
        assertEquals(ctr[1], Philox.word(5, b, 1));
    }

    @Test
    void uniformsAndThresholds() {
        assertEquals(0f, Philox.uniform(0));
        assertEquals(1f - 0x1p-24f, Philox.uniform(-1));
        assertEquals(0.5f, Philox.uniform(0x80000000));
        assertEquals(0, Philox.threshold(0));
        assertEquals(1 << 23, Philox.threshold(0.5));
        assertThrows(IllegalArgumentException.class, () -> Philox.threshold(1));
        assertThrows(IllegalArgumentException.class, () -> Philox.threshold(-0.1));
        assertThrows(IllegalArgumentException.class, () -> Philox.threshold(Double.NaN));
        assertEquals(0, Philox.blocks(0));
        assertEquals(1, Philox.blocks(4));
        assertEquals(2, Philox.blocks(5));
    }

    /** A million draws keep close to the asked probability (a loose statistical check of the whole pipeline). */
    @Test
    void keepRateMatchesTheProbability() {
        int n = 1 << 20;
        int[] w = new int[n];
        Philox.words(42, 0, w, n);
        int t = Philox.threshold(0.3);
        long kept = 0;
        for (int x : w) {
            kept += (x >>> 8) >= t ? 1 : 0;
        }
        double rate = (double) kept / n;
        assertTrue(Math.abs(rate - 0.7) < 5e-3, "keep rate " + rate);
    }
}
