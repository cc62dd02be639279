package dev.backprop.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Dataset#head}: the first examples, all of them when fewer, and a clear refusal of a negative count;
 * {@link Dataset#view}: the chosen examples of the same storage, read exactly as the compact copy
 * {@link HoldOut#select} of the same indices, which is the reference here.
 */
class DatasetTest {
    private static Dataset three() {
        return Dataset.classification(new float[] {1, 2, 3, 4, 5, 6}, new int[] {2}, new int[] {0, 1, 2}, 3, null);
    }

    @Test
    void headTakesTheFirstExamplesOrAllOfThem() {
        Dataset two = three().head(2);
        assertEquals(2, two.size());
        assertArrayEquals(new float[] {3, 4}, two.features(1));
        assertEquals(1, two.label(1));
        assertEquals(3, two.numClasses());
        assertEquals(3, three().head(10).size());
        assertEquals(0, three().head(0).size());
    }

    @Test
    void aNegativeHeadIsRefusedWithItsValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> three().head(-1));
        assertEquals("head: the number of examples must be >= 0, got -1", e.getMessage());
    }

    @Test
    void sizesThatHoldNoExampleOrNoAnswerAreRefusedInOneLine() {
        // Each of these must not build: a negative pair of dimensions multiplies to a positive feature size, and
        // 0 classes or 0 targets per example make a data set nothing can be trained on.
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification(new float[6], new int[] {-1, -2}, new int[] {0, 0, 0}, 2, null));
        assertEquals("feature shape [-1, -2]: dimensions must be at least 1", negative.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> Dataset.regression(new float[0], new int[] {0}, new float[0], 1));
        assertEquals("feature shape [0]: dimensions must be at least 1", zero.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> Dataset.regression(new float[0], new int[] {1 << 16, 1 << 16}, new float[0], 1));
        assertEquals("feature shape [65536, 65536]: more than 2^31 values per example", huge.getMessage());
        IllegalArgumentException classes = assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification(new float[0], new int[] {2}, new int[0], 0, null));
        assertEquals("a classification data set needs at least 1 class, got numClasses 0", classes.getMessage());
        IllegalArgumentException targets = assertThrows(IllegalArgumentException.class,
                () -> Dataset.regression(new float[6], new int[] {2}, new float[0], 0));
        assertEquals("a regression data set needs at least 1 target per example, got targetSize 0",
                targets.getMessage());
    }

    /** Five labelled examples of shape [2, 2] whose features say which example they are: {10i, 10i+1, ...}. */
    private static Dataset five() {
        float[] f = new float[20];
        for (int k = 0; k < f.length; k++) {
            f[k] = 10 * (k / 4) + k % 4;
        }
        return Dataset.classification(f, new int[] {2, 2}, new int[] {2, 0, 1, 2, 1}, 3, List.of("a", "b", "c"));
    }

    /** Every way a consumer reads a data set, compared between {@code got} and {@code want}. */
    private static void assertSameExamples(Dataset want, Dataset got) {
        assertEquals(want.size(), got.size());
        assertArrayEquals(want.featureShape(), got.featureShape());
        assertEquals(want.hasLabels(), got.hasLabels());
        assertEquals(want.numClasses(), got.numClasses());
        assertEquals(want.targetSize(), got.targetSize());
        assertEquals(want.classNames(), got.classNames());
        int n = want.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = (7 * i + 3) % n; // a permutation: 7 is coprime to the sizes used here
            assertArrayEquals(want.features(i), got.features(i), "features of example " + i);
        }
        float[] fw = new float[n * want.featureSize()], fg = new float[n * got.featureSize()];
        want.gatherFeatures(order, 1, n, fw);
        got.gatherFeatures(order, 1, n, fg);
        assertArrayEquals(fw, fg);
        if (want.hasLabels()) {
            int[] lw = new int[n], lg = new int[n];
            want.gatherLabels(order, 0, n, lw);
            got.gatherLabels(order, 0, n, lg);
            assertArrayEquals(lw, lg);
            for (int i = 0; i < n; i++) {
                assertEquals(want.label(i), got.label(i));
            }
        } else {
            float[] tw = new float[n * want.targetSize()], tg = new float[n * got.targetSize()];
            want.gatherTargets(order, 0, n, tw);
            got.gatherTargets(order, 0, n, tg);
            assertArrayEquals(tw, tg);
        }
    }

    @Test
    void aViewReadsTheChosenExamplesInItsOrder() {
        int[] pick = {4, 1, 1, 3};
        Dataset v = five().view(pick);
        assertEquals(4, v.size());
        assertArrayEquals(new float[] {40, 41, 42, 43}, v.features(0), "worked: example 4 is 40..43");
        assertArrayEquals(new float[] {10, 11, 12, 13}, v.features(2), "an index may repeat");
        assertEquals(1, v.label(0));
        assertEquals(2, v.label(3));
        float[] f = new float[8];
        v.gatherFeatures(new int[] {3, 0}, 0, 2, f);
        assertArrayEquals(new float[] {30, 31, 32, 33, 40, 41, 42, 43}, f);
        assertSameExamples(HoldOut.select(five(), pick), v);
        pick[0] = 0;
        assertEquals(1, v.label(0), "the view keeps its own copy of the indices");
    }

    @Test
    void aViewOfAViewMapsStraightToTheStorage() {
        Dataset outer = five().view(new int[] {4, 3, 2, 1, 0}).view(new int[] {0, 2, 4});
        assertSameExamples(five().view(new int[] {4, 2, 0}), outer);
        assertSameExamples(HoldOut.select(HoldOut.select(five(), new int[] {4, 3, 2, 1, 0}), new int[] {0, 2, 4}),
                outer);
    }

    @Test
    void derivedDataSetsOfAViewMatchThoseOfTheCopy() {
        int[] pick = {3, 0, 4};
        Dataset v = five().view(pick), copy = HoldOut.select(five(), pick);
        assertSameExamples(copy.flatten(), v.flatten());
        assertSameExamples(copy.withFeatureShape(1, 4), v.withFeatureShape(1, 4));
        assertSameExamples(copy.head(2), v.head(2));
        for (int c = 0; c < 3; c++) {
            assertSameExamples(copy.oneVsRest(c), v.oneVsRest(c));
        }
        float[] t = new float[3];
        v.oneVsRest(2).gatherTargets(new int[] {0, 1, 2}, 0, 3, t);
        assertArrayEquals(new float[] {1, 1, 0}, t, "labels 2, 2, 1 against class 2");
        Dataset r = Dataset.regression(new float[] {0, 1, 2, 3}, new int[] {1}, new float[] {0, 10, 20, 30, 40, 50,
                60, 70}, 2);
        assertSameExamples(HoldOut.select(r, new int[] {3, 1}), r.view(new int[] {3, 1}));
        assertSameExamples(HoldOut.select(r, new int[] {2}), r.view(new int[] {3, 2}).view(new int[] {1}));
    }

    /**
     * A view's one-vs-rest holds targets for the view's examples only; what is derived from it (a view of it, a view
     * of that, a reshape, a head) sees the same examples as the same steps on a copy.
     */
    @Test
    void aViewsOneVsRestDerivesAsTheCopysDoes() {
        int[] pick = {4, 1, 1, 3};
        Dataset v = five().view(pick).oneVsRest(2), copy = HoldOut.select(five(), pick).oneVsRest(2);
        assertSameExamples(copy, v);
        assertSameExamples(copy.view(new int[] {3, 0, 2}), v.view(new int[] {3, 0, 2}));
        assertSameExamples(copy.view(new int[] {3, 0, 2}).view(new int[] {2, 2}),
                v.view(new int[] {3, 0, 2}).view(new int[] {2, 2}));
        assertSameExamples(copy.flatten().withFeatureShape(2, 2).head(3), v.flatten().withFeatureShape(2, 2).head(3));
        float[] t = new float[4];
        v.view(new int[] {3, 2, 1, 0}).gatherTargets(new int[] {0, 1, 2, 3}, 0, 4, t);
        float[] expected = new float[4];
        for (int k = 0; k < 4; k++) {
            expected[3 - k] = five().label(pick[k]) == 2 ? 1f : 0f;
        }
        assertArrayEquals(expected, t, "the view's targets in the view's order");
    }

    @Test
    void indicesOutsideTheDataSetAreRefusedInOneLine() {
        assertEquals("view: index 5 at position 1 is outside [0, 5)", assertThrows(IllegalArgumentException.class,
                () -> five().view(new int[] {0, 5})).getMessage());
        assertEquals("view: index -1 at position 0 is outside [0, 5)", assertThrows(IllegalArgumentException.class,
                () -> five().view(new int[] {-1})).getMessage());
        Dataset two = five().view(new int[] {4, 0});
        assertEquals("view: index 2 at position 0 is outside [0, 2)", assertThrows(IllegalArgumentException.class,
                () -> two.view(new int[] {2})).getMessage(), "a row of the storage outside the view is refused");
        assertEquals("view: index 9 at position 2 is outside [0, 5)", assertThrows(IllegalArgumentException.class,
                () -> HoldOut.select(five(), new int[] {0, 1, 9})).getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> two.features(2));
        assertThrows(IndexOutOfBoundsException.class, () -> five().features(5), "no zero row past the end");
    }

    /**
     * A view, a reshape and a one-vs-rest reuse the storage's checked labels rather than reading every one again
     * (O(the view), not O(the storage)). Seen through a label array changed after the check, which the factories
     * take without a copy: a re-check would refuse the 7; the public factory given it still does.
     */
    @Test
    void derivedDataSetsDoNotRecheckTheSharedLabels() {
        int[] labels = {0, 1, 2};
        Dataset d = Dataset.classification(new float[] {1, 2, 3, 4, 5, 6}, new int[] {2}, labels, 3, null);
        labels[2] = 7;
        Dataset v = d.view(new int[] {1, 0});
        assertEquals(1, v.label(0));
        assertEquals(2, v.withFeatureShape(1, 2).size());
        assertEquals(3, d.withFeatureShape(2, 1).flatten().size());
        assertEquals(2, v.oneVsRest(1).size());
        assertEquals("label 7 of example 2 is outside [0, 3)", assertThrows(DataFormatException.class,
                () -> Dataset.classification(new float[] {1, 2, 3, 4, 5, 6}, new int[] {2}, labels, 3, null))
                .getMessage());
    }
}
