package dev.backprop.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.io.StrictJson;
import dev.backprop.model.Task;
import dev.backprop.optim.OptimizerChoice;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.train.EarlyStopping;
import dev.backprop.train.Trainer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code train}'s validation split and early stopping: a seeded hold-out of the training examples evaluated after
 * every epoch, and {@link EarlyStopping} on its loss or accuracy ({@code --monitor}, which the plateau schedule
 * watches too). A checkpoint records the settings and where the watch stands ({@link #STATE_KEY}), so a resumed run
 * goes on counting where it left off.
 */
final class ValidationOptions {
    /** A checkpoint's metadata entry holding the settings and the watch's state, as JSON. */
    static final String STATE_KEY = "backprop.early_stopping";
    /** {@code --monitor}'s names, Keras's. */
    static final String LOSS = "val_loss";
    static final String ACCURACY = "val_acc";

    @Option(names = "--validation", paramLabel = "FRACTION",
            description = "Hold out this fraction of the training examples (seeded by --seed) as a validation set, "
                    + "evaluated after every epoch; the model then trains on the rest, so its results differ from "
                    + "a run without it.")
    Double fraction;

    @Option(names = "--patience", paramLabel = "N",
            description = "Stop when the --monitor value has not improved for N epochs (needs --validation).")
    Integer patience;

    @Option(names = "--min-delta", paramLabel = "X",
            description = "The least change of the --monitor value that counts as an improvement for --patience "
                    + "(which it needs) and --keep-best; --schedule plateau has its own, 0.01%% (default: 0).")
    Double minDelta;

    @Option(names = "--keep-best",
            description = "Save to --out the weights of the best epoch, not the last: the last whose --monitor "
                    + "value beat the best before it by more than --min-delta (the best without it), whether or "
                    + "not --patience stopped the run (needs --validation).")
    boolean keepBest;

    @Option(names = "--monitor", paramLabel = "NAME", defaultValue = LOSS,
            description = "What --patience, --keep-best and --schedule plateau watch (refused without one of them): "
                    + "val_loss (lower is better) or val_acc (higher; not for --task regression) (default: "
                    + "${DEFAULT-VALUE}).")
    String monitor;

    /** The training data less the validation examples, and those examples (null without {@code --validation}). */
    record Held(DataOptions.Loaded data, Dataset validation) {
    }

    /**
     * Checks the values and that the options needing {@code --validation} have it.
     *
     * @param unsettled whether a {@code --resume} checkpoint may still supply {@code --validation}
     * @throws IllegalArgumentException naming the option and its value
     */
    void check(boolean unsettled) {
        if (fraction != null && !(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("--validation must be a fraction in (0, 1), got " + fraction);
        }
        if (patience != null && patience < 1) {
            throw new IllegalArgumentException("--patience must be at least 1 epoch, got " + patience);
        }
        if (!monitor.equals(LOSS) && !monitor.equals(ACCURACY)) {
            throw new IllegalArgumentException("--monitor " + monitor + ": choose " + LOSS + " or " + ACCURACY);
        }
        if (minDelta != null && (!(minDelta >= 0) || !Double.isFinite(minDelta))) {
            throw new IllegalArgumentException("--min-delta must be a finite number >= 0, got " + minDelta);
        }
        if (fraction == null && !unsettled) {
            String needing = patience != null ? "--patience " + patience : minDelta != null ? "--min-delta "
                    + OptimizerChoice.number(minDelta) : keepBest ? "--keep-best"
                    : !monitor.equals(LOSS) ? "--monitor " + monitor : null;
            if (needing != null) {
                throw new IllegalArgumentException(needing + " needs --validation FRACTION: early stopping and the "
                        + "best epoch are judged on validation examples, never on the test set");
            }
        }
        if (minDelta != null && patience == null && !unsettled) {
            throw new IllegalArgumentException("--min-delta " + OptimizerChoice.number(minDelta) + " needs "
                    + "--patience N: it says what counts as an improvement for early stopping");
        }
    }

    /**
     * Refuses {@code --monitor val_acc} for a task without accuracy (regression).
     *
     * @throws IllegalArgumentException naming the option and the task
     */
    void checkMonitor(Task task) {
        if (monitor.equals(ACCURACY) && !task.scoredByAccuracy()) {
            throw new IllegalArgumentException("--monitor " + ACCURACY + " needs a classification task; a "
                    + task.name().toLowerCase(java.util.Locale.ROOT) + " model has no accuracy: watch " + LOSS);
        }
    }

    /** What {@code --monitor} watches. */
    EarlyStopping.Monitor watched() {
        return monitor.equals(ACCURACY) ? EarlyStopping.Monitor.ACCURACY : EarlyStopping.Monitor.LOSS;
    }

    /** How the plateau schedule judges the watched value: lower ({@code val_loss}) or higher is better. */
    ReduceLROnPlateau.Mode plateauMode() {
        return watched().plateauMode();
    }

    /** Whether a validation set is held out. */
    boolean on() {
        return fraction != null;
    }

    /**
     * Holds out {@link #fraction} of {@code d}'s training examples by a shuffle seeded with {@code seed}.
     *
     * @throws IllegalArgumentException when a part would be empty or the training part would lack a class
     */
    Held split(DataOptions.Loaded d, Task task, long seed) {
        if (fraction == null) {
            return new Held(d, null);
        }
        Dataset all = d.train();
        if (all.size() < 2) {
            throw new IllegalArgumentException("--validation " + fraction + " needs at least 2 training examples, "
                    + "got " + all.size());
        }
        Dataset[] parts = HoldOut.split(all, fraction, seed);
        if (task != Task.REGRESSION && all.hasLabels()) {
            int missing = missingClass(parts[0], all);
            if (missing >= 0) {
                throw new IllegalArgumentException("--validation " + fraction + " leaves class " + missing + " with "
                        + "no training example (of " + all.size() + "); give a smaller fraction or more data");
            }
        }
        return new Held(d.withTrain(parts[0]), parts[1]);
    }

    /** The first class that {@code all} has and {@code part} lacks, or -1. */
    private static int missingClass(Dataset part, Dataset all) {
        boolean[] inAll = new boolean[all.numClasses()];
        boolean[] inPart = new boolean[all.numClasses()];
        int[] labels = new int[all.size()];
        all.gatherLabels(all.identityOrder(), 0, all.size(), labels);
        for (int y : labels) {
            inAll[y] = true;
        }
        int[] partLabels = new int[part.size()];
        part.gatherLabels(part.identityOrder(), 0, part.size(), partLabels);
        for (int y : partLabels) {
            inPart[y] = true;
        }
        for (int c = 0; c < inAll.length; c++) {
            if (inAll[c] && !inPart[c]) {
                return c;
            }
        }
        return -1;
    }

    /** The policy for {@code trainer}, or null: with {@code --patience}, or {@code --keep-best} alone (no stop). */
    EarlyStopping policy(Trainer trainer) {
        if (patience == null && !keepBest) {
            return null;
        }
        int p = patience != null ? patience : Integer.MAX_VALUE;
        return new EarlyStopping(trainer, watched(), p, minDelta != null ? minDelta : 0, keepBest);
    }

    /**
     * The policy for {@code trainer} ({@link #policy(Trainer)}), or null, resumed where a checkpoint's watch stood
     * ({@code saved}, null: none) with the best weights the checkpoint {@code kept}.
     */
    EarlyStopping policy(Trainer trainer, EarlyStopping.State saved, KeptWeights kept) {
        EarlyStopping p = policy(trainer);
        if (p != null && saved != null) {
            p.resume(saved, kept.weights(), kept.counters());
        }
        return p;
    }

    /**
     * The settings and where {@code policy} (null: none) stands as the checkpoint's {@link #STATE_KEY} entry, with
     * the best epoch's counters when it keeps that epoch's weights (the checkpoint keeps the tensors).
     */
    String metadata(EarlyStopping policy) {
        EarlyStopping.State state = policy == null ? null : policy.state();
        JsonObject o = new JsonObject();
        o.addProperty("validation", fraction);
        o.addProperty("patience", patience);
        o.addProperty("min_delta", minDelta);
        o.addProperty("keep_best", keepBest);
        o.addProperty("monitor", monitor);
        if (state != null) {
            o.addProperty("best_epoch", state.bestEpoch());
            o.addProperty("best", Double.isNaN(state.best()) ? null : state.best());
            o.addProperty("epochs_since_best", state.epochsSinceBest());
            JsonObject counters = new JsonObject();
            policy.bestCounters().forEach(counters::addProperty);
            o.add("kept_counters", counters);
        }
        return o.toString();
    }

    /**
     * Settles the options against a resumed checkpoint's {@code meta}: those left out take its values, and one
     * given with another value is refused naming both, since the split and the watch only continue with the
     * settings that made them.
     *
     * @return the watch's state to resume, or null when the checkpoint has none
     */
    EarlyStopping.State reconcile(Map<String, String> meta, String file, CommandSpec spec) {
        JsonObject o = parse(meta.get(STATE_KEY), file);
        Double savedFraction = o == null ? null : number(o, "validation", file);
        Integer savedPatience = o == null ? null : epochs(o, "patience", file);
        Double savedDelta = o == null ? null : number(o, "min_delta", file);
        boolean savedKeep = o != null && flag(o, "keep_best", file);
        String savedMonitor = o == null ? LOSS : name(o, "monitor", file);
        fraction = settle(spec, "--validation", fraction, savedFraction, file);
        patience = settle(spec, "--patience", patience, savedPatience, file);
        minDelta = settle(spec, "--min-delta", minDelta, savedDelta, file);
        keepBest = settle(spec, "--keep-best", keepBest, savedKeep, file);
        monitor = settle(spec, "--monitor", monitor, savedMonitor, file);
        if (o == null || !o.has("best_epoch")) {
            return null;
        }
        Integer bestEpoch = epochs(o, "best_epoch", file);
        Integer since = epochs(o, "epochs_since_best", file);
        if (bestEpoch == null || since == null) {
            throw malformed(file, "gives best_epoch " + o.get("best_epoch") + " and epochs_since_best "
                    + o.get("epochs_since_best") + "; it needs both");
        }
        Double best = number(o, "best", file);
        return new EarlyStopping.State(bestEpoch, best == null ? Double.NaN : best, since);
    }

    /**
     * The best epoch's counters a checkpoint's {@link #STATE_KEY} entry records, by name: one for each of the
     * model's {@code modelCounters}.
     *
     * @throws IllegalArgumentException naming the file when the entry is malformed or its counters are not the model's
     */
    static Map<String, Long> keptCounters(Map<String, String> meta, String file, Set<String> modelCounters) {
        JsonObject o = parse(meta.get(STATE_KEY), file);
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        JsonElement kept = o == null ? null : o.get("kept_counters");
        if (kept != null && !kept.isJsonObject()) {
            throw malformed(file, "has kept_counters " + kept + ", not an object");
        }
        if (kept != null) {
            JsonObject counters = kept.getAsJsonObject();
            for (String k : counters.keySet()) {
                Long v = count(counters, k, file);
                if (v == null) {
                    throw malformed(file, "has kept counter " + k + " null");
                }
                m.put(k, v);
            }
        }
        if (!m.keySet().equals(modelCounters)) {
            throw malformed(file, "keeps the best epoch's counters " + m.keySet() + ", not the model's "
                    + modelCounters);
        }
        return m;
    }

    private static <T> T settle(CommandSpec spec, String option, T here, T saved, String file) {
        if (!spec.commandLine().getParseResult().hasMatchedOption(option)) {
            return saved;
        }
        if (!Objects.equals(here, saved)) {
            String asked = here instanceof Boolean ? option : option + " " + shown(here);
            throw new IllegalArgumentException(asked + ": " + file + " was trained with "
                    + (saved == null || Boolean.FALSE.equals(saved) ? "no " + option : option + " " + shown(saved))
                    + "; leave " + option + " out to resume with it, or start a new run without --resume");
        }
        return here;
    }

    private static String shown(Object v) {
        return v instanceof Double d ? OptimizerChoice.number(d) : v instanceof Boolean ? "" : String.valueOf(v);
    }

    private static JsonObject parse(String json, String file) {
        if (json == null) {
            return null;
        }
        JsonElement e;
        try {
            e = StrictJson.parse(json);
        } catch (IOException x) {
            throw malformed(file, "is not valid JSON: " + x.getMessage());
        }
        if (!e.isJsonObject()) {
            throw malformed(file, "is not a JSON object");
        }
        return e.getAsJsonObject();
    }

    private static IllegalArgumentException malformed(String file, String what) {
        return new IllegalArgumentException(file + ": its " + STATE_KEY + " entry " + what);
    }

    /** The number at {@code key}, or null when absent. */
    private static Double number(JsonObject o, String key, String file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        BigDecimal b = StrictJson.decimal(e);
        double d = b == null ? Double.NaN : Double.parseDouble(b.toString());
        if (!Double.isFinite(d)) {
            throw malformed(file, "has " + key + " " + e + ", not a finite number");
        }
        return d;
    }

    /** The whole number at least 0 (digits only) at {@code key}, or null when absent. */
    private static Long count(JsonObject o, String key, String file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        BigInteger b = StrictJson.integer(e);
        if (b == null || b.signum() < 0 || b.bitLength() > 63) {
            throw malformed(file, "has " + key + " " + e + ", not a whole number at least 0 written with digits");
        }
        return b.longValue();
    }

    /** A count of epochs at {@code key}, or null when absent. */
    private static Integer epochs(JsonObject o, String key, String file) {
        Long v = count(o, key, file);
        if (v != null && v > Integer.MAX_VALUE) {
            throw malformed(file, "has " + key + " " + v + ", more epochs than a run can have");
        }
        return v == null ? null : v.intValue();
    }

    /** {@code --monitor}'s name at {@code key}; {@code val_loss} when absent (a watch that could only watch it). */
    private static String name(JsonObject o, String key, String file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return LOSS;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()
                || !(e.getAsString().equals(LOSS) || e.getAsString().equals(ACCURACY))) {
            throw malformed(file, "has " + key + " " + e + ", not " + LOSS + " or " + ACCURACY);
        }
        return e.getAsString();
    }

    private static boolean flag(JsonObject o, String key, String file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return false;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw malformed(file, "has " + key + " " + e + ", not true or false");
        }
        return e.getAsBoolean();
    }
}
