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

    /**
     * The split as a copy: the same seeded choice of test examples, each part gathered into arrays of its own by
     * {@link HoldOut#select}. The views {@link HoldOut#split} returns must read exactly as these parts.
     */
    private static Dataset[] copyingSplit(Dataset data, double fraction, long seed) {
        int n = data.size();
        int testSize = (int) Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
        int[] order = data.identityOrder();
        Dataset.shuffle(order, new java.util.Random(seed));
        boolean[] isTest = new boolean[n];
        for (int i = 0; i < testSize; i++) {
            isTest[order[i]] = true;
        }
        int[] trainIdx = new int[n - testSize], testIdx = new int[testSize];
        for (int i = 0, a = 0, b = 0; i < n; i++) {
            if (isTest[i]) {
                testIdx[b++] = i;
            } else {
                trainIdx[a++] = i;
            }
        }
        return new Dataset[] {HoldOut.select(data, trainIdx), HoldOut.select(data, testIdx)};
    }

    private static void assertSameData(Dataset want, Dataset got) {
        assertEquals(want.size(), got.size());
        assertArrayEquals(want.featureShape(), got.featureShape());
        int n = want.size(), fs = want.featureSize();
        float[] fw = new float[n * fs], fg = new float[n * fs];
        want.gatherFeatures(want.identityOrder(), 0, n, fw);
        got.gatherFeatures(got.identityOrder(), 0, n, fg);
        assertArrayEquals(fw, fg);
        if (want.hasLabels()) {
            int[] lw = new int[n], lg = new int[n];
            want.gatherLabels(want.identityOrder(), 0, n, lw);
            got.gatherLabels(got.identityOrder(), 0, n, lg);
            assertArrayEquals(lw, lg);
        } else {
            float[] tw = new float[n * want.targetSize()], tg = new float[n * want.targetSize()];
            want.gatherTargets(want.identityOrder(), 0, n, tw);
            got.gatherTargets(got.identityOrder(), 0, n, tg);
            assertArrayEquals(tw, tg);
        }
    }

    @Test
    void thePartsReadAsTheCopyingSplitsParts() {
        java.util.Random r = new java.util.Random(3);
        float[] f = new float[997 * 6];
        int[] l = new int[997];
        float[] t = new float[997 * 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = r.nextFloat();
        }
        for (int i = 0; i < l.length; i++) {
            l[i] = r.nextInt(4);
        }
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) r.nextGaussian();
        }
        Dataset labelled = Dataset.classification(f, new int[] {2, 3}, l, 4, null);
        Dataset real = Dataset.regression(f, new int[] {6}, t, 2);
        for (Dataset d : new Dataset[] {labelled, real}) {
            for (double fraction : new double[] {0.1, 0.5, 0.93}) {
                Dataset[] views = HoldOut.split(d, fraction, 42), copies = copyingSplit(d, fraction, 42);
                assertSameData(copies[0], views[0]);
                assertSameData(copies[1], views[1]);
                Dataset[] ofView = HoldOut.split(views[0], 0.25, 9), ofCopy = copyingSplit(copies[0], 0.25, 9);
                assertSameData(ofCopy[0], ofView[0]);
                assertSameData(ofCopy[1], ofView[1]);
            }
        }
    }
}
