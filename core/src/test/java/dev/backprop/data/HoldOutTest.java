package dev.backprop.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HoldOutTest {
    /** Example i has the single feature i, so a split can be traced back. */
    private static Dataset numbered(int n) {
        float[] f = new float[n];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            f[i] = i;
            l[i] = i % 3;
        }
        return Dataset.classification(f, new int[] {1}, l, 3, java.util.List.of("a", "b", "c"));
    }

    private static float[] ids(Dataset d) {
        float[] f = new float[d.size()];
        d.gatherFeatures(d.identityOrder(), 0, d.size(), f);
        return f;
    }

    @Test
    void splitsDisjointlyAndCompletelyWithTheSeed() {
        Dataset[] a = HoldOut.split(numbered(100), 0.2, 7);
        assertEquals(80, a[0].size());
        assertEquals(20, a[1].size());
        Set<Float> seen = new HashSet<>();
        for (Dataset part : a) {
            float[] f = ids(part);
            for (int i = 0; i < f.length; i++) {
                assertTrue(seen.add(f[i]), "example " + f[i] + " appears twice");
                assertEquals((int) f[i] % 3, part.label(i), "labels travel with their features");
                assertTrue(i == 0 || f[i] > f[i - 1], "each part keeps the original order");
            }
        }
        assertEquals(100, seen.size());
        assertEquals(java.util.List.of("a", "b", "c"), a[1].classNames());
        assertArrayEquals(ids(a[1]), ids(HoldOut.split(numbered(100), 0.2, 7)[1]), "same seed, same split");
        assertNotEquals(java.util.Arrays.toString(ids(a[1])),
                java.util.Arrays.toString(ids(HoldOut.split(numbered(100), 0.2, 8)[1])));
    }

    @Test
    void keepsAtLeastOneExampleOnEachSide() {
        Dataset[] a = HoldOut.split(numbered(2), 0.01, 1);
        assertEquals(1, a[0].size());
        assertEquals(1, a[1].size());
        Dataset[] b = HoldOut.split(numbered(3), 0.99, 1);
        assertEquals(1, b[0].size());
        assertEquals(2, b[1].size());
    }

    @Test
    void targetsAreCarriedAlong() {
        Dataset d = Dataset.regression(new float[] {0, 1, 2, 3}, new int[] {1}, new float[] {0, 10, 20, 30, 40, 50,
                60, 70}, 2);
        Dataset s = HoldOut.select(d, new int[] {3, 1});
        float[] t = new float[4];
        s.gatherTargets(s.identityOrder(), 0, 2, t);
        assertArrayEquals(new float[] {60, 70, 20, 30}, t);
    }

    @Test
    void impossibleSplitsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> HoldOut.split(numbered(10), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> HoldOut.split(numbered(10), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> HoldOut.split(numbered(1), 0.5, 1));
    }
}
