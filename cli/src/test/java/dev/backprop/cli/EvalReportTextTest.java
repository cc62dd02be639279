package dev.backprop.cli;

import dev.backprop.train.ConfusionMatrix;
import dev.backprop.train.Evaluation;
import dev.backprop.train.EvaluationReport;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link EvalReport}'s text for many classes: the table in full, the matrix left out with how to get it. */
class EvalReportTextTest {
    @Test
    void overTwentyClassesTheMatrixIsLeftOutAndTheTableKept() {
        int k = EvalReport.MATRIX_CLASSES + 1;
        int[] truth = new int[2 * k];
        int[] predicted = new int[2 * k];
        for (int i = 0; i < truth.length; i++) {
            truth[i] = i % k;
            predicted[i] = i < k ? i : (i + 1) % k;
        }
        ConfusionMatrix m = ConfusionMatrix.of(k, truth, predicted);
        EvaluationReport r = new EvaluationReport(new Evaluation(1.0, m.accuracy(), truth.length), Optional.of(m),
                Optional.empty());
        StringWriter text = new StringWriter();
        new EvalReport(r, null).print(new PrintWriter(text, true));
        String out = text.toString();
        assertTrue(out.contains("\n20 "), "the last class's row, by index: " + out);
        assertTrue(out.contains("\nmacro avg ") && out.contains("\nweighted avg "), out);
        assertTrue(out.contains("confusion matrix: left out for 21 classes (over 20); --report-json FILE writes it"),
                out);
        assertFalse(out.contains("rows: true class"), out);
    }
}
