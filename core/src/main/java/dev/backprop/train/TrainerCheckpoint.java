package dev.backprop.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.backprop.data.Augmentation;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.io.StrictJson;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link Trainer}'s checkpoint holds beside the model, optimizer and schedule ({@link Checkpoint}): the
 * progress counters (epochs done, the shuffling seed, the batch size), the augmentation and the plateau
 * scheduler's settings and state, and the checks that a restored file was written with this trainer's settings, so
 * that training continues exactly.
 */
final class TrainerCheckpoint {
    /**
     * Metadata key of the plateau scheduler: what {@code fit} steps it with (null when a listener does), its
     * settings and its {@link ReduceLROnPlateau.State} (a best of ±∞, before any improvement, as the string
     * {@code "Infinity"} or {@code "-Infinity"}).
     */
    private static final String PLATEAU_KEY = ReduceLROnPlateau.METADATA_KEY;
    /** The fields of the plateau record, all of them always written. */
    private static final Set<String> PLATEAU_FIELDS = Set.of("monitor", "settings", "best", "bad_epochs",
            "cooldown_counter");
    private static final String EPOCH = "epoch";
    private static final String SEED = "seed";
    private static final String BATCH_SIZE = "batch_size";

    private TrainerCheckpoint() {
    }

    /**
     * Saves {@code trainer}'s checkpoint after {@code batchesDone} batches of its current epoch, with {@code extra}
     * metadata and {@code kept} tensors.
     *
     * @throws IllegalStateException when an epoch is half done (checkpoints are taken between epochs)
     */
    static void save(Path path, Trainer trainer, int batchesDone, Augmentation augmentation,
                     Map<String, String> extra, Map<String, Tensor> kept) throws IOException {
        if (batchesDone != 0) {
            throw new IllegalStateException("a checkpoint is taken between epochs; epoch " + (trainer.epoch() + 1)
                    + " is at batch " + batchesDone);
        }
        Map<String, String> meta = extra;
        if (!augmentation.isNone()) {
            meta = new LinkedHashMap<>(extra);
            meta.put(Augmentation.METADATA_KEY, augmentation.toString());
        }
        if (trainer.plateau() != null) {
            meta = new LinkedHashMap<>(meta);
            meta.put(PLATEAU_KEY, plateauJson(trainer));
        }
        Checkpoint.save(path, trainer.model(), trainer.optimizer(), trainer.schedule(), Map.of(EPOCH,
                (long) trainer.epoch(), SEED, trainer.seed(), BATCH_SIZE, (long) trainer.batchSize()), meta, kept);
    }

    /**
     * Restores the model, optimizer and schedule of {@code trainer} from {@code f}; returns the epochs done it
     * records.
     *
     * @throws dev.backprop.io.ModelFileException when the file does not fit the trainer (nothing is changed then)
     */
    static int restore(SafeTensorsFile f, Trainer trainer, Augmentation augmentation) throws IOException {
        ReduceLROnPlateau.State[] plateau = new ReduceLROnPlateau.State[1];
        Map<String, Long> p = Checkpoint.restore(f, trainer.model(), trainer.optimizer(), trainer.schedule(),
                progress -> {
                    Long s = progress.get(SEED), bs = progress.get(BATCH_SIZE), e = progress.get(EPOCH);
                    if (s == null || bs == null || e == null || e < 0 || e > Integer.MAX_VALUE) {
                        return "progress counters epoch, seed and batch_size are missing or invalid: " + progress;
                    }
                    if (s != trainer.seed() || bs != trainer.batchSize()) {
                        return "the checkpoint was trained with seed " + s + " and batch size " + bs + ", this run "
                                + "uses seed " + trainer.seed() + " and batch size " + trainer.batchSize()
                                + "; resume with the same settings";
                    }
                    String problem = scheduleEpochProblem(f.metadata(), trainer, e);
                    if (problem != null) {
                        return problem;
                    }
                    problem = augmentationProblem(f.metadata(), augmentation);
                    if (problem != null) {
                        return problem;
                    }
                    try {
                        plateau[0] = plateauState(f.metadata().get(PLATEAU_KEY), trainer);
                        return null;
                    } catch (IllegalArgumentException x) {
                        return x.getMessage();
                    }
                });
        if (plateau[0] != null) {
            trainer.plateau().restore(plateau[0]);
        }
        return Math.toIntExact(p.get(EPOCH));
    }

    /**
     * What is wrong when the schedule's epoch counter in {@code meta} is not {@code epochs}, the epochs done: the
     * trainer steps the schedule once at the end of every epoch, so another count would set the next rates from
     * another epoch; null when they agree or there is no schedule. {@link Checkpoint#restore} has already checked
     * the record's form.
     */
    private static String scheduleEpochProblem(Map<String, String> meta, Trainer trainer, long epochs) {
        if (trainer.schedule() == null) {
            return null;
        }
        BigInteger scheduled;
        try {
            scheduled = StrictJson.integer(StrictJson.parse(meta.get(Checkpoint.SCHEDULE_KEY)).getAsJsonObject()
                    .get(EPOCH));
        } catch (IOException x) {
            return "metadata " + Checkpoint.SCHEDULE_KEY + ": " + x.getMessage();
        }
        if (scheduled == null || scheduled.longValue() != epochs || scheduled.bitLength() > 63) {
            return "the schedule's epoch " + scheduled + " is not the " + epochs + " epochs done that the progress "
                    + "counters record";
        }
        return null;
    }

    private static String plateauJson(Trainer trainer) {
        ReduceLROnPlateau s = trainer.plateau();
        JsonObject o = new JsonObject();
        o.addProperty("monitor", trainer.plateauMonitor() == null ? null : trainer.plateauMonitor().name());
        JsonObject settings = new JsonObject();
        s.settings().forEach(settings::addProperty);
        o.add("settings", settings);
        double best = s.state().best();
        if (Double.isInfinite(best)) {
            o.addProperty("best", best > 0 ? "Infinity" : "-Infinity");
        } else {
            o.addProperty("best", best);
        }
        o.addProperty("bad_epochs", s.state().badEpochs());
        o.addProperty("cooldown_counter", s.state().cooldownCounter());
        return o.toString();
    }

    /**
     * The plateau state a checkpoint's metadata {@code saved} (null: none) records for {@code trainer}, or null when
     * neither has a plateau scheduler.
     *
     * @throws IllegalArgumentException with what differs or is malformed
     */
    private static ReduceLROnPlateau.State plateauState(String saved, Trainer trainer) {
        ReduceLROnPlateau mine = trainer.plateau();
        if (saved == null || mine == null) {
            if ((saved == null) != (mine == null)) {
                throw new IllegalArgumentException(saved == null
                        ? "the checkpoint was trained without ReduceLROnPlateau, this run uses it; resume with the "
                        + "same settings"
                        : "the checkpoint was trained with ReduceLROnPlateau (" + saved + "), this run has none; "
                        + "resume with the same settings");
            }
            return null;
        }
        JsonElement e;
        try {
            e = StrictJson.parse(saved);
        } catch (IOException x) {
            throw new IllegalArgumentException("metadata " + PLATEAU_KEY + ": " + x.getMessage(), x);
        }
        String bad = "metadata " + PLATEAU_KEY + " is not a plateau scheduler's record: " + saved;
        if (!e.isJsonObject() || !(e.getAsJsonObject().get("settings") instanceof JsonObject settings)) {
            throw new IllegalArgumentException(bad);
        }
        JsonObject o = e.getAsJsonObject();
        if (!o.keySet().equals(PLATEAU_FIELDS)) {
            throw new IllegalArgumentException(bad);
        }
        JsonElement monitor = o.get("monitor");
        String mineWatches = trainer.plateauMonitor() == null ? null : trainer.plateauMonitor().name();
        if (monitor == null || !(monitor.isJsonNull() ? mineWatches == null
                : monitor.isJsonPrimitive() && monitor.getAsString().equals(mineWatches))) {
            throw new IllegalArgumentException("the checkpoint's ReduceLROnPlateau watched " + monitor + ", this run "
                    + "watches " + mineWatches + "; resume with the same settings");
        }
        Map<String, Double> was = new LinkedHashMap<>();
        for (String k : settings.keySet()) {
            BigDecimal v = StrictJson.decimal(settings.get(k));
            if (v == null) {
                throw new IllegalArgumentException(bad);
            }
            was.put(k, v.doubleValue());
        }
        Map<String, Double> now = new LinkedHashMap<>();
        mine.settings().forEach((k, v) -> now.put(k, v + 0.0));  // a JSON number read back has no -0.0
        if (!was.equals(now)) {
            throw new IllegalArgumentException("the checkpoint's ReduceLROnPlateau has settings " + was + ", this "
                    + "run's " + now + "; resume with the same settings");
        }
        BigInteger badEpochs = StrictJson.integer(o.get("bad_epochs"));
        BigInteger cooldown = StrictJson.integer(o.get("cooldown_counter"));
        JsonElement best = o.get("best");
        if (badEpochs == null || cooldown == null || best == null || !best.isJsonPrimitive()
                || badEpochs.bitLength() > 31 || cooldown.bitLength() > 31) {
            throw new IllegalArgumentException(bad);
        }
        double b;
        if (best.getAsJsonPrimitive().isString()) {
            b = switch (best.getAsString()) {
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> throw new IllegalArgumentException(bad);
            };
        } else {
            BigDecimal d = StrictJson.decimal(best);
            b = d == null ? Double.NaN : d.doubleValue();
            if (!Double.isFinite(b)) {  // the writer spells the infinities as strings
                throw new IllegalArgumentException(bad);
            }
        }
        ReduceLROnPlateau.State state = new ReduceLROnPlateau.State(b, badEpochs.intValue(), cooldown.intValue());
        mine.check(state);
        return state;
    }

    /** Null when the augmentation a checkpoint's {@code meta} records is {@code now}, else what differs. */
    private static String augmentationProblem(Map<String, String> meta, Augmentation now) {
        Augmentation was;
        try {
            was = Augmentation.recorded(meta);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return was.equals(now) ? null : "the checkpoint was trained with augmentation " + was + ", this run "
                + "uses " + now + "; resume with the same settings";
    }
}
