package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The charts of {@code --plot}: the metric chart's title names the curves it draws. */
class TrainingPlotTest {
    private static TrainingHistory history(String metric, boolean validated) {
        TrainingHistory h = new TrainingHistory(metric, validated);
        for (int e = 1; e <= 3; e++) {
            h.add(validated ? new TrainingHistory.Epoch(e, 1, 100, 0.5, 0.4, 0.8, 0.45, 0.78)
                    : new TrainingHistory.Epoch(e, 1, 100, 0.5, 0.4, 0.8));
        }
        return h;
    }

    private static List<String> titles(TrainingHistory h) {
        return TrainingPlot.charts(h, "4-16-3 relu").stream().map(XYChart::getTitle).toList();
    }

    @Test
    void theMetricChartNamesTheValidationCurveWhenItDrawsOne() {
        assertEquals(List.of("Loss: 4-16-3 relu", "Test and validation accuracy: 4-16-3 relu"),
                titles(history("test_acc", true)));
        assertEquals(List.of("Loss: 4-16-3 relu", "Test accuracy: 4-16-3 relu"), titles(history("test_acc", false)));
        assertEquals("Test and validation RMSE: 4-16-3 relu", titles(history("test_rmse", true)).get(1));
    }
}
