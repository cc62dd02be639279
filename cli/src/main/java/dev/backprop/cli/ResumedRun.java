package dev.backprop.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.backprop.data.ImageTransform;
import dev.backprop.io.Checkpoint;
import dev.backprop.model.SavedModel;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.optim.WarmupLR;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoublePredicate;

/**
 * What a {@code --resume} checkpoint fixes, reconciled with {@code train}'s options before anything runs, so that the
 * start-up lines show only values in force:
 * <ul>
 *   <li>an option left out takes the checkpoint's value ({@code --optimizer}, {@code --momentum},
 *       {@code --weight-decay}, {@code --schedule}, {@code --step-size}, {@code --gamma},
 *       {@code --plateau-patience} and the other {@code --plateau-*} settings, {@code --warmup},
 *       {@code --warmup-factor}, {@code --warmup-method}, {@code --lr}, {@code --batch-size}, {@code --seed},
 *       {@code --split-seed} when it records a hold-out split, and {@code --epochs} for a cosine schedule, which
 *       spans its run after the warmup);</li>
 *   <li>{@code --lr} given without a schedule is applied from the first resumed step, as PyTorch users change
 *       {@code param_groups[...]["lr"]}, and the train line says what the checkpoint had;</li>
 *   <li>any other option given with a value other than the checkpoint's is refused, naming both values: the
 *       optimizer state, the shuffles and the schedule only continue exactly with the settings that made them.</li>
 * </ul>
 * The loss settings ({@code --class-weights}, {@code --label-smoothing}) follow the same rule ({@link LossOptions}),
 * and so do {@code --augment} ({@link AugmentOptions}), {@code --resize} and {@code --center-crop}, which bring
 * the images to the size the network was trained on, and the validation split and early stopping
 * ({@code --validation}, {@code --patience}, {@code --min-delta}, {@code --keep-best}, {@code --monitor}:
 * {@link ValidationOptions}), which also carry on where the watch stood; the test examples held out of a single
 * {@code --csv} or {@code --images} are the checkpoint's ({@link #heldOut}).
 * The architecture and task are checked where the network is built ({@link TrainingSetup}); the file's tensors,
 * counters and format when it is restored ({@link Checkpoint#restore}), which also refuses what this class leaves
 * alone because it cannot read it.
 */
final class ResumedRun {
    private final TrainCommand cmd;
    private final String file;

    private ResumedRun(TrainCommand cmd) {
        this.cmd = cmd;
        this.file = cmd.resume.toString();
    }

    /**
     * Sets {@code cmd}'s options left out to the values in {@code meta}, the metadata of the open checkpoint the run
     * restores, and refuses those given that differ.
     *
     * @return what the start-up line adds ({@code " (checkpoint had lr 0.1)"}), or "" when nothing changed
     * @throws IllegalArgumentException naming the option, its value here and the checkpoint's
     */
    static String reconcile(TrainCommand cmd, Map<String, String> meta) {
        refuseSparkCheckpoint(cmd.resume.toString(), meta.get(Checkpoint.PROGRESS_KEY));
        cmd.lossOptions.reconcile(meta, cmd.resume.toString(), cmd.spec);
        cmd.augmentOptions.reconcile(meta, cmd.resume.toString(), cmd.spec);
        settleImageTransform(cmd, meta);
        cmd.data.settleLabelColumn(meta.get(SavedModel.LABEL_COLUMN_KEY), cmd.resume);
        settleSplitSeed(cmd, meta.get(ModelSession.HOLD_OUT_KEY));
        JsonObject optimizer;
        JsonObject schedule;
        JsonObject plateau;
        JsonObject progress;
        try {
            optimizer = object(meta.get(Checkpoint.OPTIMIZER_KEY));
            schedule = object(meta.get(Checkpoint.SCHEDULE_KEY));
            plateau = object(meta.get(ReduceLROnPlateau.METADATA_KEY));
            progress = object(meta.get(Checkpoint.PROGRESS_KEY));
        } catch (JsonParseException | IllegalStateException e) {
            return "";  // restoring names what is wrong with the file
        }
        if (optimizer == null || progress == null) {
            return "";
        }
        try {
            return new ResumedRun(cmd).apply(optimizer, schedule, plateau, progress);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException && !(e instanceof NumberFormatException)) {
                throw e;
            }
            return "";  // a field of an unexpected type: restoring names it
        }
    }

    /**
     * Splits a single {@code --csv} or {@code --images} by the seed of the split the checkpoint records ({@code value},
     * its {@value ModelSession#HOLD_OUT_KEY}): {@code --split-seed} left out takes it, and another is refused, since
     * it would test examples the checkpoint trained on. A checkpoint that records none leaves the split to
     * {@code --split-seed} and {@code --seed} ({@link #heldOut} then records none either).
     *
     * @throws IllegalArgumentException naming both seeds
     * @throws dev.backprop.backend.BackpropException when the recorded split cannot be read
     */
    private static void settleSplitSeed(TrainCommand cmd, String value) {
        if (value == null || !cmd.data.holdsOut()) {
            return;
        }
        long recorded = HoldOutSplit.parse(cmd.resume, value).seed();
        cmd.splitSeed.value = new ResumedRun(cmd).settle(SplitSeedOption.NAME, cmd.splitSeed.value, recorded);
    }

    /**
     * Refuses a {@code train --spark --checkpoint-dir} checkpoint: its progress counts its ranks' global steps, not
     * epochs, and only a Spark run with its settings resumes it.
     *
     * @throws IllegalArgumentException naming the file, its ranks and step, and how to resume it
     */
    private static void refuseSparkCheckpoint(String file, String progress) {
        JsonObject p;
        try {
            p = object(progress);
        } catch (JsonParseException | IllegalStateException e) {
            return;  // restoring names what is wrong with the file
        }
        if (p != null && p.has("ranks") && !p.has("epoch")) {
            throw new IllegalArgumentException(file + ": a checkpoint of a train --spark run (ranks " + p.get("ranks")
                    + ", step " + p.get("step") + "), which counts global steps, not epochs: resume it with train "
                    + "--spark and --checkpoint-dir naming its directory");
        }
    }

    /**
     * The examples of a run resuming from the checkpoint whose metadata is {@code meta}, held against the hold-out
     * split it records ({@value ModelSession#HOLD_OUT_KEY}): a single {@code --csv} or {@code --images} holding
     * another number of examples, or other examples than its digest, is refused, since the checkpoint's seed then
     * holds out others, some of which it was trained on; a split recorded without a digest is kept without one. A
     * checkpoint that records no split cannot say which examples it kept out of training (it was trained with
     * {@code --test-csv} or {@code --test-images}, or written without the key), so the resumed run records none
     * either, and {@code eval} and {@code predict} warn instead of trusting it.
     *
     * @param d the examples loaded with the checkpoint's split seed
     * @throws IllegalArgumentException naming both counts
     * @throws dev.backprop.backend.BackpropException when the recorded split cannot be read
     */
    static DataOptions.Loaded heldOut(TrainCommand cmd, Map<String, String> meta, DataOptions.Loaded d) {
        if (d.holdOut() == null) {
            return d;
        }
        String value = meta.get(ModelSession.HOLD_OUT_KEY);
        if (value == null) {
            return new DataOptions.Loaded(d.train(), d.test(), d.classNames(), d.description(), d.imageShape());
        }
        boolean images = cmd.data.images != null;
        HoldOutSplit recorded = HoldOutSplit.parse(cmd.resume, value);
        recorded.checkSameExamples(d.holdOut(), images ? "--images " + cmd.data.images : "--csv " + cmd.data.csv,
                images ? "images" : "rows", cmd.resume, "resume with the " + (images ? "folder" : "file")
                        + " it was trained on");
        if (recorded.sha256() == null) {
            // the checkpoint vouches for the count only: its rows may have been others of that count
            return new DataOptions.Loaded(d.train(), d.test(), d.classNames(), d.description(), d.imageShape(),
                    d.holdOut().withoutDigest());
        }
        return d;
    }

    /**
     * Reads the images as the checkpoint's were: {@code --resize} and {@code --center-crop} left out take its
     * transform (none when it records none), and asking for another is refused, since the network was trained on
     * images of that size and a CNN would take others without a word.
     *
     * @throws IllegalArgumentException naming both transforms, or the checkpoint's that cannot be read
     */
    private static void settleImageTransform(TrainCommand cmd, Map<String, String> meta) {
        if (!cmd.data.readsImages()) {
            return;
        }
        ImageTransform saved;
        try {
            saved = SavedModel.recordedImageTransform(meta);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(cmd.resume + ": " + e.getMessage(), e);
        }
        ImageTransform asked = cmd.data.askedTransform();
        if (asked == null) {
            cmd.data.modelTransform = saved;
        } else if (!asked.equals(saved)) {
            throw new IllegalArgumentException("--resize and --center-crop ask for " + asked + ", but " + cmd.resume
                    + " was trained on images read with " + saved + "; leave them out to resume with it, or start "
                    + "a new run without --resume");
        }
    }

    private String apply(JsonObject optimizer, JsonObject schedule, JsonObject plateau, JsonObject progress) {
        OptimizerOptions o = cmd.optimizerOptions;
        Map<String, JsonElement> h = optimizer.getAsJsonObject("hyperparameters").asMap();
        String type = optimizer.get("type").getAsString();
        String name = type.equals("sgd") && h.containsKey("momentum") && h.get("momentum").getAsDouble() != 0
                ? "momentum" : type;
        o.optimizer = settle("--optimizer", o.optimizer, name);
        if (h.containsKey("momentum")) {
            o.momentum = settle("--momentum", o.momentum, h.get("momentum").getAsDouble());
        }
        if (h.containsKey("weight_decay")) {
            o.weightDecay = settle("--weight-decay", o.weightDecay, h.get("weight_decay").getAsDouble());
        }
        cmd.batchSize = settle("--batch-size", cmd.batchSize, progress.get("batch_size").getAsInt());
        cmd.seed = settle("--seed", cmd.seed, progress.get("seed").getAsLong());
        double lr = optimizer.get("lr").getAsDouble();
        if (schedule != null) {
            return scheduled(schedule);
        }
        o.warmup = settle("--warmup", o.warmup, 0);
        if (plateau != null) {
            JsonObject s = plateau.getAsJsonObject("settings");
            o.schedule = settle("--schedule", o.schedule, "plateau");
            o.gamma = settle("--gamma", o.gamma, number(s, "factor", v -> v >= 0 && v < 1, "a number >= 0 and < 1"));
            o.plateauPatience = settle("--plateau-patience", o.plateauPatience, s.get("patience").getAsInt());
            settlePlateau(s);
            o.lr = settle("--lr", o.lr, s.get("base_lr").getAsDouble(), " (a scheduled rate goes on from the "
                    + "checkpoint's base rate)");
            return "";
        }
        o.schedule = settle("--schedule", o.schedule, "none");
        if (o.lr == null || o.lr == lr) {
            o.lr = lr;
            return "";
        }
        return " (checkpoint had lr " + OptimizerChoice.number(lr) + ")";
    }

    /**
     * Takes the plateau scheduler's threshold, threshold mode, cooldown, minimum rate and eps from its checkpoint
     * {@code settings} ({@link ReduceLROnPlateau#settings}), refusing options given with other values.
     */
    private void settlePlateau(JsonObject settings) {
        OptimizerOptions o = cmd.optimizerOptions;
        DoublePredicate finite = v -> v >= 0 && Double.isFinite(v);
        o.plateauThreshold = settle("--plateau-threshold", o.plateauThreshold, number(settings, "threshold", finite,
                "a finite number >= 0"));
        double mode = number(settings, "threshold_mode", v -> v == 0 || v == 1, "0 (rel) or 1 (abs)");
        o.plateauThresholdMode = settle("--plateau-threshold-mode", o.plateauThresholdMode, mode == 0 ? "rel"
                : "abs");
        o.plateauCooldown = settle("--plateau-cooldown", o.plateauCooldown, (int) number(settings, "cooldown",
                v -> v >= 0 && v <= Integer.MAX_VALUE && v == Math.rint(v), "a whole number of epochs from 0 to "
                        + Integer.MAX_VALUE));
        o.plateauMinLr = settle("--plateau-min-lr", o.plateauMinLr, number(settings, "min_lr", finite,
                "a finite number >= 0"));
        o.plateauEps = settle("--plateau-eps", o.plateauEps, number(settings, "eps", finite, "a finite number >= 0"));
    }

    /** How a warmup's checkpoint type ends before the main schedule's ({@code linear-warmup+cosine}). */
    private static final String WARMUP_SUFFIX = "-warmup";

    /** A scheduled rate follows its schedule from the checkpoint's base rate; it is not changed on resume. */
    private String scheduled(JsonObject schedule) {
        OptimizerOptions o = cmd.optimizerOptions;
        String type = schedule.get("type").getAsString();
        JsonObject s = schedule.getAsJsonObject("settings");
        int warmup = 0;
        String[] warmupAndMain = type.split("\\+", 2);
        if (warmupAndMain[0].endsWith(WARMUP_SUFFIX)) {
            String method = warmupAndMain[0].substring(0, warmupAndMain[0].length() - WARMUP_SUFFIX.length());
            recorded(Arrays.stream(WarmupLR.Method.values()).anyMatch(m -> m.label().equals(method)),
                    "warmup method (type " + type + ")", method, "linear or constant");
            o.warmupMethod = settle("--warmup-method", o.warmupMethod, method);
            warmup = epochs(s, "warmup_epochs");
            o.warmupFactor = settle("--warmup-factor", o.warmupFactor, number(s, "warmup_factor",
                    v -> v > 0 && v <= 1, "a number > 0 and <= 1"));
            type = warmupAndMain.length > 1 ? warmupAndMain[1] : "none";
        }
        recorded(type.equals("step") || type.equals("cosine") || (warmup > 0 && type.equals("none")), "type",
                schedule.get("type"), "step, cosine, or linear-warmup or constant-warmup alone or followed by "
                        + "+step or +cosine");
        o.warmup = settle("--warmup", o.warmup, warmup);
        o.schedule = settle("--schedule", o.schedule, type);
        if (s.has("base_lr")) {
            o.lr = settle("--lr", o.lr, s.get("base_lr").getAsDouble(), " (a scheduled rate goes on from the "
                    + "checkpoint's base rate)");
        }
        if (type.equals("step")) {
            o.stepSize = settle("--step-size", o.stepSize, epochs(s, "step_size"));
            o.gamma = settle("--gamma", o.gamma, number(s, "gamma", v -> v >= 0 && Double.isFinite(v),
                    "a finite number >= 0"));
        } else if (type.equals("cosine")) {
            int tMax = epochs(s, "t_max");
            if (tMax > Integer.MAX_VALUE - warmup) {
                throw new IllegalArgumentException(file + ": schedule t_max " + tMax + " and warmup_epochs " + warmup
                        + " in the checkpoint add up to more than " + Integer.MAX_VALUE + " epochs");
            }
            cmd.epochs = settle("--epochs", cmd.epochs, tMax + warmup, " (the cosine schedule anneals over the whole "
                    + "run" + (warmup > 0 ? " after the warmup)" : ")"));
        }
        return "";
    }

    /**
     * The whole number of epochs, at least 1, that the checkpoint's schedule setting {@code key} holds (the warmup,
     * the cosine schedule's length, the step schedule's step), as {@link #number} reads it.
     */
    private int epochs(JsonObject settings, String key) {
        return (int) number(settings, key, v -> v >= 1 && v <= Integer.MAX_VALUE && v == Math.rint(v),
                "a whole number of epochs from 1 to " + Integer.MAX_VALUE);
    }

    /**
     * The number the checkpoint's schedule setting {@code key} holds, when {@code valid}; {@code rule} says what
     * that is. The settings become options ({@code --warmup-factor}, {@code --gamma}, {@code --epochs}, ...) whose
     * own checks would blame a value the user never gave.
     *
     * @throws IllegalArgumentException naming the file, the setting and its value, for a value that is not valid or
     *                                  not a number
     */
    private double number(JsonObject settings, String key, DoublePredicate valid, String rule) {
        JsonElement e = settings.get(key);
        double v = e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble()
                : Double.NaN;
        recorded(valid.test(v), key, e, rule);
        return v;
    }

    /**
     * Refuses a bad schedule setting of the checkpoint, naming the file, the setting and its value.
     *
     * @param valid   whether the value is good
     * @param setting what the checkpoint calls it ({@code warmup_factor})
     * @param value   the value as recorded
     * @param rule    what a good value is ({@code a number > 0 and <= 1})
     * @throws IllegalArgumentException unless {@code valid}
     */
    private void recorded(boolean valid, String setting, Object value, String rule) {
        if (!valid) {
            throw new IllegalArgumentException(file + ": schedule " + setting + " is " + value + " in the checkpoint, "
                    + "not " + rule);
        }
    }

    private <T> T settle(String option, T here, T saved) {
        return settle(option, here, saved, "");
    }

    /**
     * The checkpoint's value {@code saved} when {@code option} was left out; {@code here} when given and equal.
     *
     * @throws IllegalArgumentException when given with another value
     */
    private <T> T settle(String option, T here, T saved, String why) {
        if (!cmd.spec.commandLine().getParseResult().hasMatchedOption(option)) {
            return saved;
        }
        boolean same = here instanceof String t ? t.trim().equalsIgnoreCase((String) saved)
                : Objects.equals(here, saved);
        if (!same) {
            throw new IllegalArgumentException(option + " " + shown(here) + ": " + file + " was trained with "
                    + option + " " + shown(saved) + why + "; leave " + option + " out to resume with it, or start "
                    + "a new run without --resume");
        }
        return here;
    }

    private static String shown(Object v) {
        return v instanceof Double d ? OptimizerChoice.number(d) : String.valueOf(v).trim();
    }

    private static JsonObject object(String json) {
        if (json == null) {
            return null;
        }
        JsonElement e = JsonParser.parseString(json);
        return e.isJsonObject() ? e.getAsJsonObject() : null;
    }
}
