package dev.backprop.cli;

import dev.backprop.optim.OptimizerChoice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code train} measured, epoch by epoch: the timed span (shuffle, batch gather, forward, loss, backward,
 * step, closed by a host sync), the mean minibatch loss of the epoch, and the test loss and metric measured
 * after it (not timed). Formats the per-epoch table and the closing summary line that scripts parse.
 */
final class TrainingHistory {
    /**
     * One epoch.
     *
     * @param epoch      1-based epoch number (continues across {@code --resume})
     * @param seconds    wall time of the timed span
     * @param samples    training examples seen in the epoch
     * @param trainLoss  mean of the minibatch losses, weighted by batch size (as PyTorch's reference reports it)
     * @param testLoss   loss on the test set after the epoch
     * @param testMetric accuracy (classification, binary) or root-mean-square error (regression) on the test set
     * @param valLoss    loss on the validation set after the epoch, or NaN without one
     * @param valMetric  the test metric on the validation set, or NaN without one
     */
    record Epoch(int epoch, double seconds, long samples, double trainLoss, double testLoss, double testMetric,
                 double valLoss, double valMetric) {
        /** An epoch without a validation set. */
        Epoch(int epoch, double seconds, long samples, double trainLoss, double testLoss, double testMetric) {
            this(epoch, seconds, samples, trainLoss, testLoss, testMetric, Double.NaN, Double.NaN);
        }

        /** Training throughput of the epoch. */
        double samplesPerSecond() {
            return samples / seconds;
        }
    }

    private final String metricName;
    private final boolean validated;
    private final List<Epoch> epochs = new ArrayList<>();
    private int bestEpoch;
    private double bestValue = Double.NaN;
    private String bestName = ValidationOptions.LOSS;
    private boolean keptBest;

    /** @param metricName the test metric's column name: {@code test_acc} or {@code test_rmse} */
    TrainingHistory(String metricName) {
        this(metricName, false);
    }

    /**
     * @param metricName the test metric's column name: {@code test_acc} or {@code test_rmse}
     * @param validated  whether the table has the validation columns ({@code val_loss}, {@code val_acc} or
     *                   {@code val_rmse}) after the test ones
     */
    TrainingHistory(String metricName, boolean validated) {
        this.metricName = metricName;
        this.validated = validated;
    }

    /** Records an epoch. */
    void add(Epoch e) {
        epochs.add(e);
    }

    /**
     * Records the epoch with the best value of {@code monitor} ({@code val_loss} or {@code val_acc}; epoch 0:
     * none) and that value, and whether the model saved holds its weights.
     */
    void best(int epoch, double value, String monitor, boolean kept) {
        this.bestEpoch = epoch;
        this.bestValue = value;
        this.bestName = monitor;
        this.keptBest = kept;
    }

    /**
     * What the saved model holds when it is not the last epoch's weights ({@code --keep-best}): "the weights of
     * epoch N, the best val_loss X" (best by early stopping's judgement, the lowest only without a min delta) and
     * that epoch's test metric when it ran in this run; else empty.
     */
    java.util.Optional<String> kept() {
        if (!keptBest || bestEpoch == 0 || bestEpoch == epochs.get(epochs.size() - 1).epoch()) {
            return java.util.Optional.empty();
        }
        String metric = epochs.stream().filter(e -> e.epoch() == bestEpoch).findFirst()
                .map(e -> String.format(Locale.ROOT, ", %s %.4f", metricName, e.testMetric())).orElse("");
        return java.util.Optional.of(String.format(Locale.ROOT, "the weights of epoch %d, the best %s %.4f%s",
                bestEpoch, bestName, bestValue, metric));
    }

    /** The epochs recorded so far, in order. */
    List<Epoch> epochs() {
        return List.copyOf(epochs);
    }

    /** The column name of the test metric. */
    String metricName() {
        return metricName;
    }

    /** The header of the per-epoch table. */
    String header() {
        String h = String.format(Locale.ROOT, "%5s %8s %10s %10s %9s %9s", "epoch", "time_s", "samples/s",
                "train_loss", "test_loss", metricName);
        return validated ? h + String.format(Locale.ROOT, " %9s %9s", "val_loss", valMetricName()) : h;
    }

    /**
     * The line under epoch {@code epoch}'s row when the plateau schedule changed the rate from {@code from} to
     * {@code to} after it, watching {@code monitor}.
     */
    String rateChange(int epoch, double from, double to, String monitor) {
        return "# lr " + OptimizerChoice.number(from) + " -> " + OptimizerChoice.number(to) + " after epoch " + epoch
                + ": " + monitor + " on a plateau";
    }

    /** The validation metric's column name: {@code val_acc} or {@code val_rmse}. */
    String valMetricName() {
        return metricName.replace("test_", "val_");
    }

    /** One table row. */
    String row(Epoch e) {
        String r = String.format(Locale.ROOT, "%5d %8.3f %10.0f %10.4f %9.4f %9.4f", e.epoch(), e.seconds(),
                e.samplesPerSecond(), e.trainLoss(), e.testLoss(), e.testMetric());
        return validated ? r + String.format(Locale.ROOT, " %9.4f %9.4f", e.valLoss(), e.valMetric()) : r;
    }

    /**
     * The median epoch time over the epochs after the first of this run (the first pays for JIT compilation
     * and kernel warm-up, as PyTorch's first epoch does); over the single epoch when only one ran.
     *
     * @throws IllegalStateException when no epoch was recorded
     */
    double medianSeconds() {
        if (epochs.isEmpty()) {
            throw new IllegalStateException("no epoch was recorded");
        }
        double[] t = timedSpan().stream().mapToDouble(Epoch::seconds).sorted().toArray();
        int n = t.length;
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    }

    private List<Epoch> timedSpan() {
        return epochs.size() > 1 ? epochs.subList(1, epochs.size()) : epochs;
    }

    /**
     * The closing line, one {@code key=value} per field, in the same form as
     * {@code benchmarks/pytorch/mlp_fashion.py}'s, so {@code side_by_side.sh} reads both alike.
     */
    String summaryLine(String backend, String device, String optimizer) {
        List<Epoch> span = timedSpan();
        Epoch last = epochs.get(epochs.size() - 1);
        double median = medianSeconds();
        return String.format(Locale.ROOT, "summary: impl=backprop backend=%s device=\"%s\" optimizer=%s epochs=%d "
                        + "epochs_timed=%d..%d median_epoch_s=%.4f median_samples_per_s=%.0f %s=%.4f",
                backend, device.replace('"', '\''), optimizer, epochs.size(), span.get(0).epoch(),
                last.epoch(), median, last.samples() / median, metricName, last.testMetric())
                + (bestEpoch > 0 ? " best_epoch=" + bestEpoch : "");
    }

    /** A human-readable version of the summary. */
    String medianLine() {
        List<Epoch> span = timedSpan();
        double[] t = span.stream().mapToDouble(Epoch::seconds).toArray();
        return String.format(Locale.ROOT, "# epoch time over epochs %d..%d: min %.3f s  median %.3f s  max %.3f s",
                span.get(0).epoch(), span.get(span.size() - 1).epoch(), Arrays.stream(t).min().orElse(0),
                medianSeconds(), Arrays.stream(t).max().orElse(0));
    }
}
