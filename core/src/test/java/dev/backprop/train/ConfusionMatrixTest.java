package dev.backprop.train;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The confusion matrix and its scores against scikit-learn 1.x's {@code confusion_matrix} and
 * {@code classification_report(labels=range(K), zero_division=0)} ({@code report_fixtures.py}).
 */
class ConfusionMatrixTest {
    private static final double TOL = 1e-12;

    @Test
    void matchesScikitLearn() throws IOException {
        int cases = 0;
        for (ReportFixtures.Classification c : ReportFixtures.classification()) {
            ConfusionMatrix m = ConfusionMatrix.of(c.classes(), c.truth(), c.predicted());
            String at = c.label();
            assertEquals(c.classes(), m.classes(), at);
            for (int t = 0; t < c.classes(); t++) {
                for (int p = 0; p < c.classes(); p++) {
                    assertEquals(c.matrix()[t * c.classes() + p], m.count(t, p), at + " [" + t + "][" + p + "]");
                }
            }
            for (int k = 0; k < c.classes(); k++) {
                assertScores(c.perClass().get(k), m.scores(k), at + " class " + k);
            }
            assertScores(c.macro(), m.macroAverage(), at + " macro");
            assertScores(c.weighted(), m.weightedAverage(), at + " weighted");
            assertEquals(c.accuracy(), m.accuracy(), TOL, at);
            assertEquals(c.truth().length, m.total(), at);
            cases++;
        }
        assertTrue(cases >= 7, "classification cases read: " + cases);
    }

    @Test
    void refusesClassesOutsideTheRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrix.of(3, new int[] {0, 1}, new int[] {0, 3}));
        assertEquals("sample 1 has true class 1 and predicted class 3, but the classes are [0, 3)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(3, new int[] {0}, new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(0, new int[0], new int[0]));
    }

    private static void assertScores(double[] want, ClassScores got, String at) {
        assertEquals(want[0], got.precision(), TOL, at + " precision");
        assertEquals(want[1], got.recall(), TOL, at + " recall");
        assertEquals(want[2], got.f1(), TOL, at + " f1");
        assertEquals((long) want[3], got.support(), at + " support");
    }
}
