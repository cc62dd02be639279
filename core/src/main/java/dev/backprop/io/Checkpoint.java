package dev.backprop.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.backprop.nn.Layer;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Training checkpoints: a model file (see {@link ModelFile}: parameters, buffers, counters) that also holds the
 * optimizer state ({@code optimizer.<param>.<buffer>} tensors, the step counter and learning rate), the layers'
 * training state ({@link Layer#trainingState()}: a dropout layer's random stream, in the metadata), the schedule's
 * epoch and the caller's progress counters, so that training resumed from it continues exactly as if never
 * interrupted. A tied model's shared tensors are there once, as in a model file ({@link ModelFile#ties}).
 * Restoring checks the file against the model, optimizer and schedule it goes into, completely, before changing
 * anything; the dtypes must match exactly (no conversion, which would break exactness).
 */
public final class Checkpoint {
    /** Metadata key of the optimizer's type, hyperparameters, step counter and learning rate. */
    public static final String OPTIMIZER_KEY = "backprop.optimizer";
    /** Metadata key of the schedule's type, settings and epoch. */
    public static final String SCHEDULE_KEY = "backprop.schedule";
    /** Metadata key of the caller's progress counters. */
    public static final String PROGRESS_KEY = "backprop.progress";
    /**
     * Metadata key of the layers' training state: a JSON object of whole numbers by {@code state_dict}-style name
     * ({@code "2.dropout_seed"}, {@code "2.dropout_offset"}); written when the model has any.
     */
    public static final String TRAINING_STATE_KEY = "backprop.training_state";
    /**
     * The prefix of tensors a checkpoint keeps for the run beside the model's and the optimizer's, under the model's
     * names (the best epoch's weights of early stopping); loading the checkpoint as a model skips them.
     */
    public static final String KEPT_PREFIX = "kept.";

    private static final String ARCHITECTURE = ModelFile.ARCHITECTURE_KEY;

    private Checkpoint() {
    }

    /**
     * Writes a checkpoint atomically.
     *
     * @param schedule the schedule driving the optimizer, or null
     * @param progress counters to store (epochs done, seed ...), returned by {@link #restore}; written in key order,
     *                 so that the same counters give the same bytes whatever the map's iteration order
     */
    public static void save(Path path, Layer model, Optimizer optimizer, LearningRateSchedule schedule,
                            Map<String, Long> progress) throws IOException {
        save(path, model, optimizer, schedule, progress, Map.of());
    }

    /**
     * Writes a checkpoint atomically, with {@code extra} metadata entries after the checkpoint's own.
     *
     * @throws IllegalArgumentException when an extra key is one of the format's (nothing is written then)
     */
    public static void save(Path path, Layer model, Optimizer optimizer, LearningRateSchedule schedule,
                            Map<String, Long> progress, Map<String, String> extra) throws IOException {
        save(path, model, optimizer, schedule, progress, extra, Map.of());
    }

    /**
     * Writes a checkpoint atomically, with {@code extra} metadata entries and {@code kept} tensors, named as the
     * model's, stored under {@link #KEPT_PREFIX} ({@link #readKept} reads them back).
     *
     * @throws IllegalArgumentException when an extra key is one of the format's or a kept tensor is not the model's;
     *                                  nothing is written then
     */
    public static void save(Path path, Layer model, Optimizer optimizer, LearningRateSchedule schedule,
                            Map<String, Long> progress, Map<String, String> extra, Map<String, Tensor> kept)
            throws IOException {
        Map<String, String> ties = ModelFile.ties(model);
        Map<String, Tensor> live = ModelFile.tensorsOf(model);
        for (Map.Entry<String, Tensor> e : kept.entrySet()) {
            Tensor own = live.get(e.getKey());
            if (own == null || !own.shape().equals(e.getValue().shape()) || own.dtype() != e.getValue().dtype()) {
                throw new IllegalArgumentException("kept tensor '" + e.getKey() + "' " + e.getValue().shape()
                        + " is not one of the model's " + live.keySet());
            }
        }
        Map<String, Tensor> tensors = Ties.kept(live, ties);
        kept.forEach((k, v) -> tensors.put(KEPT_PREFIX + k, v));
        optimizer.state().forEach((k, v) -> tensors.put(ModelFile.OPTIMIZER_PREFIX + k, v));
        Map<String, String> meta = ModelFile.metadata(model, ties);
        JsonObject opt = new JsonObject();
        opt.addProperty("type", optimizer.type());
        opt.addProperty("lr", optimizer.learningRate());
        opt.addProperty("step", optimizer.stepCount());
        opt.add("hyperparameters", numbers(optimizer.hyperparameters()));
        meta.put(OPTIMIZER_KEY, opt.toString());
        if (schedule != null) {
            JsonObject s = new JsonObject();
            s.addProperty("type", schedule.type());
            s.addProperty("epoch", schedule.epoch());
            s.add("settings", numbers(schedule.settings()));
            meta.put(SCHEDULE_KEY, s.toString());
        }
        // Sorted: a Map.of's iteration order differs between JVM runs, and a checkpoint's bytes must not.
        meta.put(PROGRESS_KEY, numbers(new TreeMap<>(progress)).toString());
        Map<String, long[]> state = model.trainingState();
        if (!state.isEmpty()) {
            JsonObject t = new JsonObject();
            state.forEach((k, v) -> t.addProperty(k, v[0]));
            meta.put(TRAINING_STATE_KEY, t.toString());
        }
        ModelFile.addExtra(meta, extra);
        SafeTensorsFile.write(path, tensors, Ties.kept(ModelFile.countersOf(model), ties), meta);
    }

    private static JsonObject numbers(Map<String, ? extends Number> m) {
        JsonObject o = new JsonObject();
        m.forEach(o::addProperty);
        return o;
    }

    /**
     * Restores the model's parameters, buffers, counters and training state, the optimizer's state and counters,
     * and the schedule's epoch from a checkpoint.
     *
     * @param schedule the schedule to restore, or null when training has none (the file must agree)
     * @return the progress counters stored with {@link #save}
     * @throws ModelFileException when the file is invalid or was written for another model (architecture or ties),
     *                            optimizer (type or hyperparameters), schedule or dtype; nothing is changed then
     */
    public static Map<String, Long> restore(Path path, Layer model, Optimizer optimizer,
                                            LearningRateSchedule schedule) throws IOException {
        return restore(path, model, optimizer, schedule, progress -> null);
    }

    /**
     * As {@link #restore(Path, Layer, Optimizer, LearningRateSchedule)}, with a check of the stored progress
     * counters that runs before anything is changed.
     *
     * @param progressCheck returns null when the counters fit, else what is wrong (thrown as a
     *                      {@link ModelFileException})
     */
    public static Map<String, Long> restore(Path path, Layer model, Optimizer optimizer,
                                            LearningRateSchedule schedule,
                                            Function<Map<String, Long>, String> progressCheck) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            return restore(f, model, optimizer, schedule, progressCheck);
        }
    }

    /**
     * As {@link #restore(Path, Layer, Optimizer, LearningRateSchedule, Function)}, from a file already open: a caller
     * that read the file's metadata (or built the model from it) restores from that same file even when the path is
     * replaced meanwhile.
     */
    public static Map<String, Long> restore(SafeTensorsFile f, Layer model, Optimizer optimizer,
                                            LearningRateSchedule schedule,
                                            Function<Map<String, Long>, String> progressCheck) throws IOException {
        Map<String, String> ties = ModelFile.ties(model);
        String file = f.file();
        try {
            Map<String, String> meta = f.metadata();
            if (meta.get(ARCHITECTURE) == null) {
                throw new ModelFileException(file + ": no '" + ARCHITECTURE
                        + "' in the metadata: not a Backprop checkpoint");
            }
            ModelFile.checkArchitecture(f, model);
            JsonObject opt = object(file, meta, OPTIMIZER_KEY);
            expect(file, "optimizer type", optimizer.type(), string(file, opt, "type"));
            for (Map.Entry<String, Double> h : optimizer.hyperparameters().entrySet()) {
                double saved = exactDouble(number(file, object(file, opt, "hyperparameters"), h.getKey()));
                expect(file, "optimizer " + h.getKey(), h.getValue(), saved);
            }
            long step = integer(file, opt, "step", true).longValueExact();
            double lr = exactDouble(number(file, opt, "lr"));
            try {
                optimizer.checkCounters(step, lr);
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(file + ": optimizer counters: " + e.getMessage(), e);
            }
            int epoch = checkSchedule(file, meta, schedule);
            // A schedule sets the rate from the epoch alone, so any other rate is a file edited or mismatched, and
            // restoring it would train the next epoch at a rate no uninterrupted run had.
            if (schedule != null && Double.compare(lr, schedule.rateAt(epoch)) != 0) {
                throw new ModelFileException(file + ": optimizer lr " + lr + " is not the rate "
                        + schedule.rateAt(epoch) + " that its " + schedule.type() + " schedule gives after epoch "
                        + epoch);
            }
            Map<String, String> fileTies = Ties.read(f, ModelFile.stateShapes(model), model.counters().keySet());
            Ties.checkSame(file, fileTies, ties, false);
            Map<String, Tensor> tensors = Ties.kept(ModelFile.tensorsOf(model), fileTies);
            checkExact(f, tensors, "");
            Map<String, Tensor> state = optimizer.state();
            checkExact(f, state, ModelFile.OPTIMIZER_PREFIX);
            Map<String, Long> counters = ModelFile.readCounters(f, Ties.untied(model.counters().keySet(), fileTies));
            checkNoOthers(f, tensors, counters, state);
            Map<String, Long> training = trainingState(file, meta, model);
            Map<String, Long> progress = new LinkedHashMap<>();
            JsonObject p = object(file, meta, PROGRESS_KEY);
            for (String k : p.keySet()) {
                progress.put(k, integer(file, p, k, false).longValueExact());
            }
            String problem = progressCheck.apply(progress);
            if (problem != null) {
                throw new ModelFileException(file + ": " + problem);
            }
            Map<String, Tensor> targets = new LinkedHashMap<>(tensors);
            state.forEach((k, v) -> targets.put(ModelFile.OPTIMIZER_PREFIX + k, v));
            ModelFile.copyIn(f, targets, "");
            ModelFile.setCounters(model, counters, fileTies);
            model.trainingState().forEach((k, v) -> v[0] = training.get(k));
            if (schedule != null) {
                schedule.restore(epoch);
            }
            optimizer.restoreCounters(step, lr);
            return progress;
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ModelFileException(file + ": a number in the checkpoint metadata is out of range: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The tensors {@link #save} kept in checkpoint {@code f}, read onto the model's backend in its dtype: every one
     * of the model's parameters and buffers, or none.
     *
     * @return the tensors by the model's names (the caller closes them), or an empty map when the file keeps none
     * @throws ModelFileException when some are missing, or one is not the model's or has another shape
     */
    public static Map<String, Tensor> readKept(SafeTensorsFile f, Layer model) throws IOException {
        Map<String, Tensor> live = ModelFile.tensorsOf(model);
        List<String> names = f.shapes().keySet().stream().filter(n -> n.startsWith(KEPT_PREFIX)).toList();
        if (names.isEmpty()) {
            return Map.of();
        }
        for (String n : names) {
            if (!live.containsKey(n.substring(KEPT_PREFIX.length()))) {
                throw new ModelFileException(f.file() + ": kept tensor '" + n + "' is not one of the model's "
                        + live.keySet());
            }
        }
        checkExact(f, live, KEPT_PREFIX);
        Map<String, Tensor> read = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : live.entrySet()) {
                read.put(e.getKey(), f.read(KEPT_PREFIX + e.getKey(), e.getValue().backend(), e.getValue().dtype()));
            }
        } catch (IOException | RuntimeException e) {
            read.values().forEach(Tensor::close);
            throw e;
        }
        return read;
    }

    private static int checkSchedule(String file, Map<String, String> meta, LearningRateSchedule schedule)
            throws ModelFileException {
        if (schedule == null) {
            if (meta.containsKey(SCHEDULE_KEY)) {
                throw new ModelFileException(file + ": the checkpoint was written with a learning-rate schedule ("
                        + meta.get(SCHEDULE_KEY) + "); pass the same schedule to resume exactly");
            }
            return 0;
        }
        JsonObject s = object(file, meta, SCHEDULE_KEY);
        expect(file, "schedule type", schedule.type(), string(file, s, "type"));
        for (Map.Entry<String, Double> h : schedule.settings().entrySet()) {
            expect(file, "schedule " + h.getKey(), h.getValue(),
                    exactDouble(number(file, object(file, s, "settings"), h.getKey())));
        }
        return integer(file, s, "epoch", true).intValueExact();
    }

    /** Every target has a tensor under {@code prefix + name} with its shape and exactly its dtype. */
    private static void checkExact(SafeTensorsFile f, Map<String, Tensor> targets, String prefix)
            throws ModelFileException {
        for (Map.Entry<String, Tensor> e : targets.entrySet()) {
            String name = prefix + e.getKey();
            Tensor t = e.getValue();
            SafeTensorsHeader.Entry entry = f.require(name, t.dtype());
            if (!Arrays.equals(entry.shape(), t.shape().dims()) || entry.dtype().tensorType() != t.dtype()) {
                throw new ModelFileException(f.header().file() + ": tensor '" + name + "' is "
                        + entry.dtype().safetensorsName() + " " + Arrays.toString(entry.shape()) + ", expected "
                        + t.dtype().safetensorsName() + " " + t.shape());
            }
        }
    }

    private static void checkNoOthers(SafeTensorsFile f, Map<String, Tensor> tensors, Map<String, Long> counters,
                                      Map<String, Tensor> state) throws ModelFileException {
        for (String name : f.shapes().keySet()) {
            boolean known = tensors.containsKey(name) || counters.containsKey(name) || name.startsWith(KEPT_PREFIX)
                    || (name.startsWith(ModelFile.OPTIMIZER_PREFIX)
                    && state.containsKey(name.substring(ModelFile.OPTIMIZER_PREFIX.length())));
            if (!known) {
                java.util.List<String> model = new java.util.ArrayList<>(tensors.keySet());
                model.addAll(counters.keySet());
                throw new ModelFileException(f.header().file() + ": unexpected tensor '" + name + "' (the model has "
                        + model + ", the optimizer state " + state.keySet() + ")");
            }
        }
    }

    /**
     * The training state stored for exactly the model's names: whole numbers written with digits only, and each
     * counter offset ({@code *_offset}) at least 0.
     */
    private static Map<String, Long> trainingState(String file, Map<String, String> meta, Layer model)
            throws ModelFileException {
        Map<String, long[]> mine = model.trainingState();
        Map<String, Long> out = new LinkedHashMap<>();
        if (mine.isEmpty()) {
            if (meta.containsKey(TRAINING_STATE_KEY)) {
                throw new ModelFileException(file + ": metadata '" + TRAINING_STATE_KEY + "' holds training state, "
                        + "but the model has no layer that keeps any");
            }
            return out;
        }
        JsonObject o = object(file, meta, TRAINING_STATE_KEY);
        if (!o.keySet().equals(mine.keySet())) {
            throw new ModelFileException(file + ": metadata '" + TRAINING_STATE_KEY + "' has " + o.keySet()
                    + ", the model keeps " + mine.keySet());
        }
        for (String k : mine.keySet()) {
            BigInteger b = StrictJson.integer(o.get(k));
            boolean offset = k.endsWith("_offset");
            if (b == null || b.bitLength() > 63 || (offset && b.signum() < 0)) {
                throw new ModelFileException(file + ": training state '" + k + "' must be a whole number written "
                        + "with digits only, in the range of a 64-bit integer" + (offset ? ", at least 0" : "")
                        + ", got " + o.get(k));
            }
            out.put(k, b.longValue());
        }
        return out;
    }

    private static JsonObject object(String file, Map<String, String> meta, String key) throws ModelFileException {
        String json = meta.get(key);
        if (json == null) {
            throw new ModelFileException(file + ": no '" + key + "' in the metadata: not a checkpoint (a model file?)");
        }
        try {
            JsonElement e = StrictJson.parse(json);
            if (e.isJsonObject()) {
                return e.getAsJsonObject();
            }
        } catch (IOException e) {
            throw new ModelFileException(file + ": metadata '" + key + "' is not valid JSON: " + e.getMessage(), e);
        }
        throw new ModelFileException(file + ": metadata '" + key + "' must be a JSON object");
    }

    private static JsonObject object(String file, JsonObject o, String key) throws ModelFileException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonObject()) {
            throw new ModelFileException(file + ": checkpoint field '" + key + "' must be an object");
        }
        return e.getAsJsonObject();
    }

    private static BigDecimal number(String file, JsonObject o, String key) throws ModelFileException {
        BigDecimal b = StrictJson.decimal(o.get(key));
        if (b == null) {
            throw new ModelFileException(file + ": checkpoint field '" + key + "' must be a number, got " + o.get(key));
        }
        return b;
    }

    /** A counter: an integer literal (digits only, so {@code 3e0} is refused), at least 0 if {@code count}. */
    private static BigInteger integer(String file, JsonObject o, String key, boolean count)
            throws ModelFileException {
        BigInteger b = StrictJson.integer(o.get(key));
        if (b == null || (count && b.signum() < 0)) {
            throw new ModelFileException(file + ": checkpoint field '" + key + "' must be a whole number written with "
                    + "digits only" + (count ? ", at least 0" : "") + ", got " + o.get(key));
        }
        return b;
    }

    /**
     * The double a JSON number was written from (Gson writes the shortest decimal that round-trips); one past the
     * double range ({@code 1e999}), which no double was written as, is refused.
     */
    private static double exactDouble(BigDecimal b) {
        double d = Double.parseDouble(b.toString());
        if (!Double.isFinite(d)) {
            throw new ArithmeticException(b + " is past the range of a double");
        }
        return d;
    }

    private static String string(String file, JsonObject o, String key) throws ModelFileException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new ModelFileException(file + ": checkpoint field '" + key + "' must be a string, got " + e);
        }
        return e.getAsString();
    }

    private static void expect(String file, String what, Object mine, Object saved) throws ModelFileException {
        if (!mine.equals(saved)) {
            throw new ModelFileException(file + ": " + what + " is " + saved + " in the checkpoint but " + mine
                    + " here; resume with the same settings");
        }
    }
}
