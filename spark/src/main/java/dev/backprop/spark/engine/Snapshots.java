package dev.backprop.spark.engine;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.backprop.data.DataFormatException;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.IoErrors;
import dev.backprop.io.ModelFile;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Layer;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A rank's training state as bytes: a core {@link Checkpoint} file (parameters, optimizer state, schedule epoch,
 * progress counters), so what rank 0 broadcasts at start-up, what it stores as a checkpoint and what
 * {@code backprop train --resume} reads are one format, validated by one reader.
 */
final class Snapshots {
    /** Progress keys; all but {@link #STEP} must match when resuming. */
    static final String STEP = "step";
    private static final String[] MUST_MATCH = {"ranks", "batch_per_rank", "seed", "steps_per_epoch", "sync_every"};

    private final Layer model;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final Map<String, Long> run;
    /** The loss settings recorded under {@link SoftmaxCrossEntropy#METADATA_KEY}, or null for the plain loss. */
    private final String loss;
    /** The label column recorded under {@link SavedModel#LABEL_COLUMN_KEY}, or null for the last. */
    private final String labelColumn;

    /**
     * @param run  the settings a resumed run must share with the checkpoint (ranks, batch per rank, seed, steps
     *             per epoch, sync interval)
     * @param loss the loss settings ({@link dev.backprop.spark.TrainingSpec#lossSettings}), which a resumed run must
     *             share too since they shape the optimizer state, or null for the task's plain loss
     * @param labelColumn the CSV label column ({@link dev.backprop.spark.TrainingSpec#labelColumn}), which a resumed
     *             run must share too since it decides which column each feature is, or null for the last
     */
    Snapshots(Layer model, Optimizer optimizer, LearningRateSchedule schedule, Map<String, Long> run, String loss,
              String labelColumn) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.run = Map.copyOf(run);
        this.loss = loss;
        this.labelColumn = labelColumn;
    }

    /** The settings map for {@link #Snapshots}. */
    static Map<String, Long> runSettings(ShardPlan plan, long seed, int syncEvery) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("ranks", (long) plan.ranks());
        m.put("batch_per_rank", (long) plan.batchSize());
        m.put("seed", seed);
        m.put("steps_per_epoch", (long) plan.stepsPerEpoch());
        m.put("sync_every", (long) syncEvery);
        return m;
    }

    /** The current state, after {@code step} global steps, as checkpoint bytes. */
    byte[] checkpoint(long step) {
        Map<String, Long> progress = new LinkedHashMap<>(run);
        progress.put(STEP, step);
        return viaTempFile(p -> {
            Map<String, String> meta = new LinkedHashMap<>();
            if (loss != null) {
                meta.put(SoftmaxCrossEntropy.METADATA_KEY, loss);
            }
            if (labelColumn != null) {
                meta.put(SavedModel.LABEL_COLUMN_KEY, labelColumn);
            }
            Checkpoint.save(p, model, optimizer, schedule, progress, meta);
            return Files.readAllBytes(p);
        });
    }

    /** The parameters alone, as a model file (what the driver saves). */
    byte[] modelFile() {
        return viaTempFile(p -> {
            ModelFile.save(p, model);
            return Files.readAllBytes(p);
        });
    }

    /**
     * Restores parameters, optimizer state and schedule from checkpoint bytes, after checking that they were
     * written by a run with the same settings, the loss settings included (a checkpoint without them was trained
     * with the plain loss).
     *
     * @param location where the bytes came from, for messages
     * @return the global step the checkpoint was written after
     * @throws IllegalStateException naming the setting that differs, or what is wrong with the file
     */
    long restore(byte[] bytes, String location) {
        return viaTempFile(p -> {
            Files.write(p, bytes);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                String problem = settingsProblem(f.metadata(), loss, labelColumn);
                if (problem != null) {
                    throw new IllegalStateException(DataFormatException.oneLine("cannot resume from " + location
                            + ": " + problem));
                }
                Map<String, Long> progress = Checkpoint.restore(f, model, optimizer, schedule,
                        saved -> mismatch(run, saved));
                Long step = progress.get(STEP);
                if (step == null || step < 0) {
                    throw new IllegalStateException(location + ": the checkpoint has no valid '" + STEP + "' counter");
                }
                return step;
            } catch (IOException e) {
                throw new IllegalStateException("cannot resume from " + location + ": " + e.getMessage()
                        + " (use a new checkpoint directory to start afresh)", e);
            }
        });
    }

    /**
     * Null when checkpoint bytes were written by a run with the settings {@code run}, the loss settings
     * {@code loss} and the label column {@code labelColumn}, else what differs, in one line. The driver asks before
     * any rank starts, so that a mismatch is refused plainly rather than failing every attempt of the training stage;
     * {@link #restore} checks again.
     */
    static String problem(byte[] bytes, Map<String, Long> run, String loss, String labelColumn) {
        return viaTempFile(p -> {
            Files.write(p, bytes);
            Map<String, String> meta;
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                meta = f.metadata();
            } catch (IOException e) {
                return DataFormatException.oneLine("not a readable checkpoint: " + IoErrors.message(e));
            }
            String problem = settingsProblem(meta, loss, labelColumn);
            if (problem != null) {
                return problem;
            }
            Map<String, Long> saved = new LinkedHashMap<>();
            try {
                JsonObject o = JsonParser.parseString(String.valueOf(meta.get(Checkpoint.PROGRESS_KEY)))
                        .getAsJsonObject();
                for (String k : MUST_MATCH) {
                    JsonElement e = o.get(k);
                    saved.put(k, e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                            ? e.getAsLong() : null);
                }
            } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
                return "metadata '" + Checkpoint.PROGRESS_KEY + "' is not an object of counters";
            }
            return mismatch(run, saved);
        });
    }

    /** The label column checkpoint bytes record ({@link SavedModel#LABEL_COLUMN_KEY}); null for none or unreadable. */
    static String labelColumn(byte[] bytes) {
        return viaTempFile(p -> {
            Files.write(p, bytes);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                return f.metadata().get(SavedModel.LABEL_COLUMN_KEY);
            } catch (IOException e) {
                return null;
            }
        });
    }

    /** Null when a checkpoint's metadata {@code meta} records {@code loss} and {@code labelColumn}, else why not. */
    private static String settingsProblem(Map<String, String> meta, String loss, String labelColumn) {
        String problem = lossProblem(meta.get(SoftmaxCrossEntropy.METADATA_KEY), loss);
        if (problem != null) {
            return problem;
        }
        String saved = meta.get(SavedModel.LABEL_COLUMN_KEY);
        return Objects.equals(saved, labelColumn) ? null : DataFormatException.oneLine("the checkpoint was written by "
                + "a run reading the label from CSV column " + (saved == null ? "last" : saved) + ", this run from "
                + (labelColumn == null ? "last" : labelColumn) + "; resume with the same --label-column (use a new "
                + "checkpoint directory to start afresh)");
    }

    /** Null when a checkpoint's recorded loss settings ({@code saved}, null: none) are {@code loss}, else why not. */
    private static String lossProblem(String saved, String loss) {
        return Objects.equals(saved, loss) ? null : DataFormatException.oneLine("the checkpoint was written by a run "
                + "with loss settings " + (saved == null ? "none" : saved) + ", this run has "
                + (loss == null ? "none" : loss) + "; resume with the same class weights and label smoothing (use a "
                + "new checkpoint directory to start afresh)");
    }

    private static String mismatch(Map<String, Long> run, Map<String, Long> saved) {
        for (String k : MUST_MATCH) {
            if (!run.get(k).equals(saved.get(k))) {
                return "the checkpoint was written by a run with " + k + " = " + saved.get(k) + ", this run has "
                        + run.get(k) + "; resume with the same settings and partitioning";
            }
        }
        return null;
    }

    private interface FileAction<T> {
        T apply(Path p) throws IOException;
    }

    private static <T> T viaTempFile(FileAction<T> action) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("backprop-spark-");
            return action.apply(dir.resolve("state.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException("training state transfer through a temporary file failed: "
                    + IoErrors.message(e), e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            dir.toFile().deleteOnExit();
        }
    }
}
