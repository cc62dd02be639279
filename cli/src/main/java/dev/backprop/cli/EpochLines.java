package dev.backprop.cli;

import dev.backprop.data.Dataset;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.train.BatchResult;
import dev.backprop.train.EarlyStopping;
import dev.backprop.train.EpochListener;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Evaluation;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;

/**
 * What {@code train} shows and keeps while the trainer runs: the progress bars, one table line per epoch with the
 * test figures, the history for the summary and the plot, and the checkpoint after every epoch when asked.
 *
 * @param cmd      the command, for its checkpoint setting and the facts saved with it
 * @param setup    what trains
 * @param task     the task, which scores the test evaluation
 * @param data     the data, for the class names and facts saved with a checkpoint
 * @param history  where the epoch lines go
 * @param out      where they are printed
 * @param progress the bars (disabled off a terminal)
 * @param validated the validation set and its early stopping, or null without {@code --validation}
 */
record EpochLines(TrainCommand cmd, TrainingSetup setup, Task task, DataOptions.Loaded data, TrainingHistory history,
                  PrintWriter out, EpochProgress progress, Validated validated)
        implements EpochListener, AutoCloseable {
    /**
     * The validation examples, evaluated after each epoch beside the test set, and the early stopping judging them.
     *
     * @param data   the examples, shaped as the network takes them
     * @param policy the early stopping ({@code --patience} or {@code --keep-best}), or null
     */
    record Validated(Dataset data, EarlyStopping policy) {
    }

    @Override
    public void onBatch(BatchResult b) {
        progress.batch(b);
    }

    @Override
    public void onEpoch(EpochMetrics m) {
        Evaluation test = m.validation();
        Evaluation val = validated == null ? null : setup.trainer().evaluate(validated.data());
        ReduceLROnPlateau plateau = setup.trainer().plateau();
        if (val != null) {
            double watched = cmd.validationOptions.watched().of(val);
            if (validated.policy() != null) {
                validated.policy().observe(m.epoch(), watched);
            }
            if (plateau != null) {
                plateau.step(watched);
            }
        }
        TrainingHistory.Epoch row = new TrainingHistory.Epoch(m.epoch(), m.trainSeconds(), m.examples(),
                m.trainLoss(), test.loss(), task.metric(test), val == null ? Double.NaN : val.loss(),
                val == null ? Double.NaN : task.metric(val));
        history.add(row);
        out.println(history.row(row));
        double next = setup.trainer().optimizer().learningRate();
        if (plateau != null && next != m.learningRate()) {
            out.println(history.rateChange(m.epoch(), m.learningRate(), next, cmd.validationOptions.monitor));
        }
        out.flush();
        if (cmd.checkpoint != null) {
            try {
                Map<String, String> meta = SavedModel.metadata(setup.model(), task, data.classNames(),
                        cmd.runFacts(setup, data, task));
                EarlyStopping policy = validated == null ? null : validated.policy();
                if (validated != null) {
                    meta.put(ValidationOptions.STATE_KEY, cmd.validationOptions.metadata(policy));
                }
                setup.trainer().saveCheckpoint(cmd.checkpoint, meta, policy == null ? Map.of()
                        : policy.bestWeights());
            } catch (IOException e) {
                throw new CheckpointFailed(m.epoch(), e);
            }
        }
    }

    /** A checkpoint that could not be written, which stops training with the weights of {@link #epoch} in memory. */
    static final class CheckpointFailed extends RuntimeException {
        private final int epoch;

        CheckpointFailed(int epoch, IOException cause) {
            super(cause);
            this.epoch = epoch;
        }

        /** The epoch after which the checkpoint was to be written: the weights in memory are this epoch's. */
        int epoch() {
            return epoch;
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /** Lets the early stopping put the best weights back, or free their copies after a failure. */
    @Override
    public void onFitEnd(boolean completed) {
        if (validated != null && validated.policy() != null) {
            validated.policy().onFitEnd(completed);
        }
    }

    /** Clears a progress bar left open by an epoch that did not finish. */
    @Override
    public void close() {
        progress.close();
    }
}
