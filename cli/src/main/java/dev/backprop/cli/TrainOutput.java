package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.data.BatchLoader;
import dev.backprop.data.DataFormatException;
import dev.backprop.model.Task;
import dev.backprop.train.EarlyStopping;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The lines {@code train} prints around the epoch table ({@link EpochLines}): what it runs on, the model and the
 * training before the first epoch, the summary and each file it saved after the last. A file name, or anything read
 * from a file, is printed through {@link DataFormatException#oneLine}: a name holding an escape sequence or a
 * right-to-left override would otherwise clear the user's terminal or reorder the line.
 *
 * @param cmd the command, for the files and settings the lines name
 * @param out where the lines go
 */
record TrainOutput(TrainCommand cmd, PrintWriter out) {
    /** The backend and device, then the data and its sizes ({@code validation} examples held out of training). */
    void start(Backend backend, Task t, DataOptions.Loaded d, int validation) {
        out.println("backend: " + backend.name() + " on " + backend.device().describe());
        out.printf(Locale.ROOT, "data:    %s: %d train, %s%d test, %d features%s%n",
                DataFormatException.oneLine(d.description()), d.train().size(),
                validation > 0 ? validation + " validation (seed " + cmd.seed + "), " : "", d.test().size(),
                d.train().featureSize(), t == Task.CLASSIFICATION ? ", " + d.train().numClasses() + " classes" : "");
        out.flush();
    }

    /**
     * The network, its loss and where its weights come from; then the optimizer, the batches and the epochs left
     * (after {@code done}), and the header of the epoch table.
     *
     * @param resumeNote what a resumed run changed ({@link ResumedRun#reconcile}), or ""
     */
    void beforeEpochs(TrainingSetup s, int done, BatchLoader loader, int trainSize, String resumeNote,
                      TrainingHistory history) {
        out.printf(Locale.ROOT, "model:   %s, %d parameters, loss %s, %s%n", s.description(),
                s.model().parameterCount(), s.loss().name() + LossOptions.describe(s.loss()),
                cmd.resume != null ? "resumed from " + shown(cmd.resume) + " after epoch " + done
                        : cmd.init != null ? "weights from " + shown(cmd.init)
                        : "weights seed " + cmd.seed + " (" + cmd.modelOptions.init().id() + " init)");
        int steps = loader.batchesPerEpoch();
        int last = trainSize - (steps - 1) * cmd.batchSize;
        out.printf(Locale.ROOT, "train:   %s, batch %d (%d steps per epoch%s), epochs %d..%d, seed %d%n",
                cmd.optimizerOptions.describe() + resumeNote, cmd.batchSize, steps, (last == cmd.batchSize ? ""
                        : ", last batch " + last) + (loader.resident() ? ", data on the device" : "")
                        + (loader.augmentation().isNone() ? "" : ", augment " + loader.augmentation()), done + 1,
                cmd.epochs, cmd.seed);
        out.println(history.header());
        out.flush();
    }

    /**
     * A resumed checkpoint of {@code epoch} epochs with nothing left to train, as it had every epoch or its early
     * stopping ({@code watch}, null: none) had ended the run: its model went to {@code --out} untrained, with the
     * best epoch's weights under {@code --keep-best}.
     */
    void nothingLeft(int epoch, EarlyStopping watch) {
        int best = watch == null ? 0 : watch.state().bestEpoch();
        String ended = watch != null && watch.stopped() ? "stopped early after epoch " + epoch
                : "finished epoch " + epoch + " of " + cmd.epochs;
        String kept = cmd.validationOptions.keepBest && best > 0 && best != epoch ? ", the weights of its best epoch "
                + best : "";
        saved(cmd.out, "the model of " + shown(cmd.resume) + ", which had " + ended + ": nothing was left to train"
                + kept, cmd.plot != null ? "; no plot, as no epoch ran" : "");
    }

    /** The median epoch time and the parseable summary line. */
    void summary(TrainingHistory history, Backend backend) {
        out.println(history.medianLine());
        out.println(history.summaryLine(backend.name(), backend.device().name(), cmd.optimizerOptions.name()));
    }

    /**
     * {@code --out} saved with the weights of the {@code last} epoch (or of the best validation epoch with
     * {@code --keep-best}), and the checkpoint written after the last.
     */
    void savedModel(TrainingHistory history, TrainingHistory.Epoch last) {
        saved(cmd.out, history.kept().orElse(String.format(Locale.ROOT, "%s %.4f after epoch %d",
                history.metricName(), last.testMetric(), last.epoch())), "");
        if (cmd.checkpoint != null) {
            out.println("saved:   checkpoint " + shown(cmd.checkpoint) + " (resume with --resume "
                    + shown(cmd.checkpoint) + ")");
            out.flush();
        }
    }

    /** The weights of {@code epoch} saved at {@code file} after {@code failed} (the checkpoint, or --out) failed. */
    void rescued(Path file, int epoch, String failed) {
        saved(file, "the weights after epoch " + epoch + "; " + failed + " failed", "");
    }

    /** The {@code --plot} written. */
    void plotted() {
        out.println("plot:    " + shown(cmd.plot));
        out.flush();
    }

    private void saved(Path file, String what, String after) {
        out.println("saved:   " + shown(file) + " (" + what + ")" + after);
        out.flush();
    }

    private static String shown(Path file) {
        return DataFormatException.oneLine(file.toString());
    }
}
