package dev.backprop.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Dataset#head}: the first examples, all of them when fewer, and a clear refusal of a negative count. */
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
}
