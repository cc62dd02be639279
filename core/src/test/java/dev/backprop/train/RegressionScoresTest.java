package dev.backprop.train;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression scores against scikit-learn 1.x's {@code mean_squared_error}, {@code mean_absolute_error} and
 * {@code r2_score} (raw values and {@code multioutput='uniform_average'}, a constant target under
 * {@code force_finite=True}), from {@code report_fixtures.py}.
 */
class RegressionScoresTest {
    private static final double TOL = 1e-12;

    @Test
    void matchesScikitLearn() throws IOException {
        int cases = 0;
        for (ReportFixtures.Regression c : ReportFixtures.regression()) {
            RegressionScores s = RegressionScores.of(c.truth(), c.predicted());
            String at = c.label();
            assertEquals(c.perTarget().size(), s.targets(), at);
            for (int j = 0; j < s.targets(); j++) {
                double[] want = c.perTarget().get(j);
                assertEquals(want[0], s.mse(j), TOL, at + " mse " + j);
                assertEquals(want[1], s.mae(j), TOL, at + " mae " + j);
                assertEquals(want[2], s.r2(j), TOL, at + " r2 " + j);
            }
            assertEquals(c.average()[0], s.mse(), TOL, at + " mse");
            assertEquals(c.average()[1], s.mae(), TOL, at + " mae");
            assertEquals(c.average()[2], s.r2(), TOL, at + " r2");
            cases++;
        }
        assertTrue(cases >= 5, "regression cases read: " + cases);
    }

    @Test
    void refusesMismatchedShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RegressionScores.of(new double[][] {{1, 2}, {3}}, new double[][] {{1, 2}, {3, 4}}));
        assertEquals("sample 1 has 1 target(s) and 2 prediction(s), but sample 0 has 2", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegressionScores.of(new double[0][], new double[0][]));
    }
}
