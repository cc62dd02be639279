package dev.backprop.cli;

import dev.backprop.io.AtomicFile;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes {@code train --plot FILE.png}: two charts side by side, the train and test loss per epoch, and the
 * test metric (accuracy, or RMSE for regression) per epoch, each with the validation curve under
 * {@code --validation}. XChart renders headless with no display.
 */
final class TrainingPlot {
    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;

    private TrainingPlot() {
    }

    /**
     * Renders {@code history} into a PNG at {@code file}, atomically ({@link AtomicFile}: a failed write never
     * leaves half a picture).
     *
     * @param title the run, for the chart titles (e.g. "784-256-128-10 relu, sgd lr 0.1")
     * @throws IllegalArgumentException when the file name does not end in {@code .png} or no epoch was recorded
     * @throws IOException              when the file cannot be written (the message names it)
     */
    static void write(Path file, TrainingHistory history, String title) throws IOException {
        if (!file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--plot " + file
                    + ": the plot is a PNG; give a file name ending in .png");
        }
        save(file, charts(history, title));
    }

    /** The loss chart and the metric chart of {@code history}, titled after the run ({@code title}). */
    static List<XYChart> charts(TrainingHistory history, String title) {
        List<TrainingHistory.Epoch> epochs = history.epochs();
        if (epochs.isEmpty()) {
            throw new IllegalArgumentException("--plot: no epoch ran, nothing to plot");
        }
        double[] x = epochs.stream().mapToDouble(TrainingHistory.Epoch::epoch).toArray();
        double[] train = epochs.stream().mapToDouble(TrainingHistory.Epoch::trainLoss).toArray();
        double[] test = epochs.stream().mapToDouble(TrainingHistory.Epoch::testLoss).toArray();
        double[] metricValues = epochs.stream().mapToDouble(TrainingHistory.Epoch::testMetric).toArray();
        double[] valLoss = epochs.stream().mapToDouble(TrainingHistory.Epoch::valLoss).toArray();
        double[] valMetric = epochs.stream().mapToDouble(TrainingHistory.Epoch::valMetric).toArray();
        boolean validated = !Double.isNaN(valLoss[0]);
        XYChart loss = chart("Loss: " + title, "loss", train, test, valLoss);
        loss.addSeries("train (mean minibatch)", x, train).setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries("test", x, test).setMarker(SeriesMarkers.DIAMOND);
        boolean accuracy = history.metricName().endsWith("acc");
        String metricName = accuracy ? "accuracy" : "RMSE";
        XYChart metric = chart((validated ? "Test and validation " : "Test ") + metricName + ": " + title, metricName,
                metricValues, valMetric);
        metric.addSeries(accuracy ? "test accuracy" : "test RMSE", x, metricValues).setMarker(SeriesMarkers.CIRCLE);
        if (validated) {
            loss.addSeries("validation", x, valLoss).setMarker(SeriesMarkers.SQUARE);
            metric.addSeries(accuracy ? "validation accuracy" : "validation RMSE", x, valMetric)
                    .setMarker(SeriesMarkers.SQUARE);
        }
        return List.of(loss, metric);
    }

    /** A chart whose y range covers {@code series} with a margin, so no marker sits on the frame. */
    private static XYChart chart(String title, String yTitle, double[]... series) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch")
                .yAxisTitle(yTitle).build();
        // Below the plot: inside, the legend hides the last epochs' markers whichever way the curves go.
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setXAxisDecimalPattern("0");
        c.getStyler().setChartTitleFont(c.getStyler().getChartTitleFont().deriveFont(13f));
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] s : series) {
            for (double v : s) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo <= hi) {
            double pad = Math.max((hi - lo) * 0.08, Math.max(Math.abs(hi), 1e-3) * 0.01);
            c.getStyler().setYAxisMin(lo - pad);
            c.getStyler().setYAxisMax(hi + pad);
        }
        return c;
    }

    private static void save(Path file, List<XYChart> charts) throws IOException {
        AtomicFile.write(file, out -> BitmapEncoder.saveBitmap(charts, 1, charts.size(), out,
                BitmapEncoder.BitmapFormat.PNG));
    }
}
