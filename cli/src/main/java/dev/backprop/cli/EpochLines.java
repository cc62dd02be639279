package dev.backprop.cli;

import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.train.BatchResult;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Evaluation;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * What {@code train} shows and keeps while the trainer runs: the progress bar of each epoch (on a terminal), one
 * table line per epoch with the test figures, the history for the summary and the plot, and the checkpoint after
 * every epoch when asked.
 */
final class EpochLines implements EpochListener, AutoCloseable {
    private final TrainCommand cmd;
    private final TrainingSetup setup;
    private final Task task;
    private final DataOptions.Loaded data;
    private final TrainingHistory history;
    private final PrintWriter out;
    private final boolean bar;
    private EpochProgress progress;
    private double lossSum;
    private long seen;

    EpochLines(TrainCommand cmd, TrainingSetup setup, Task task, DataOptions.Loaded data, TrainingHistory history,
               PrintWriter out, boolean bar) {
        this.cmd = cmd;
        this.setup = setup;
        this.task = task;
        this.data = data;
        this.history = history;
        this.out = out;
        this.bar = bar;
    }

    @Override
    public void onBatch(BatchResult b) {
        if (progress == null) {
            progress = EpochProgress.start(bar, b.position().epoch(), cmd.epochs, b.position().batches(),
                    System.err);
            lossSum = 0;
            seen = 0;
        }
        lossSum += b.loss() * b.position().rows();
        seen += b.position().rows();
        progress.advance();
        progress.loss(lossSum / seen);
        if (b.position().batch() == b.position().batches()) {
            progress.close();
            progress = null;
        }
    }

    @Override
    public void onEpoch(EpochMetrics m) {
        Evaluation test = m.validation();
        TrainingHistory.Epoch row = new TrainingHistory.Epoch(m.epoch(), m.trainSeconds(), m.examples(),
                m.trainLoss(), test.loss(), task.metric(test));
        history.add(row);
        out.println(history.row(row));
        out.flush();
        if (cmd.checkpoint != null) {
            try {
                setup.trainer().saveCheckpoint(cmd.checkpoint, SavedModel.metadata(task, data.classNames(),
                        cmd.runFacts(setup, data, task)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Clears a progress bar left open by an epoch that did not finish. */
    @Override
    public void close() {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }
}
