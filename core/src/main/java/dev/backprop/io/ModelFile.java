package dev.backprop.io;

import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model files: the model's {@code state_dict} in the safetensors format under PyTorch's names and shapes for the
 * equivalent {@code nn.Sequential}: the parameters ({@code 0.weight} {@code [out, in]}, {@code 0.bias} ...), the
 * buffers ({@code 1.running_mean}, {@code 1.running_var} of a batch norm) in the parameters' dtype and the counters
 * ({@code 1.num_batches_tracked}) as I64 scalars, so
 * {@code model.load_state_dict(safetensors.torch.load_file(path))} reads them, plus the architecture in the metadata
 * ({@value #ARCHITECTURE_KEY}) so Backprop can rebuild the model from the file alone. A tied model's shared tensor is
 * there once, with its other names in {@value #TIED_KEY} ({@link #ties}), as safetensors' {@code save_model} writes
 * it. Loading validates the whole file, and its fit to the model, before allocating anything or changing the model.
 */
public final class ModelFile {
    /** Metadata key of the architecture JSON. */
    public static final String ARCHITECTURE_KEY = "backprop.architecture";
    /** Metadata key of the file layout version. */
    public static final String VERSION_KEY = "backprop.version";
    /**
     * Metadata key of a tied model's ties ({@link #ties}), a JSON object of each name the file leaves out to the name
     * it holds the tensor under ({@code {"2.bias":"0.bias","2.weight":"0.weight"}}); absent for an untied model.
     * PyTorch's loaders ignore it.
     */
    public static final String TIED_KEY = "backprop.tied";
    /** The file layout version this code writes and reads. */
    public static final String VERSION = "1";
    /** Tensors under this prefix are optimizer state (in checkpoints); model loading ignores them. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    private ModelFile() {
    }

    /** Saves {@code model}'s state and architecture to {@code path}, atomically. */
    public static void save(Path path, Layer model) throws IOException {
        save(path, model, Map.of());
    }

    /**
     * Saves {@code model}'s state (parameters, buffers, counters) and architecture to {@code path}, atomically, with
     * {@code extra} metadata entries after the format's own.
     *
     * A tied model's shared tensors are written once, under the names {@link #ties} keeps.
     *
     * @throws IllegalArgumentException when an extra key is one of the format's; nothing is written then
     */
    public static void save(Path path, Layer model, Map<String, String> extra) throws IOException {
        Map<String, String> ties = ties(model);
        Map<String, String> meta = metadata(model, ties);
        addExtra(meta, extra);
        SafeTensorsFile.write(path, Ties.kept(tensorsOf(model), ties), Ties.kept(countersOf(model), ties), meta);
    }

    /** The format's metadata for {@code model}, whose ties are {@code ties} ({@link #ties}). */
    static Map<String, String> metadata(Layer model, Map<String, String> ties) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        m.put(VERSION_KEY, VERSION);
        m.put(ARCHITECTURE_KEY, ArchitectureJson.write(model.spec()));
        if (!ties.isEmpty()) {
            m.put(TIED_KEY, Ties.write(ties));
        }
        return m;
    }

    /** Appends {@code extra} to the format's metadata {@code meta}, refusing to replace any of its keys. */
    static void addExtra(Map<String, String> meta, Map<String, String> extra) {
        for (String k : extra.keySet()) {
            if (meta.containsKey(k)) {
                throw new IllegalArgumentException("metadata key '" + k + "' belongs to the model file format");
            }
        }
        meta.putAll(extra);
    }

    /**
     * The model's weight tying as a model file records it: each {@code state_dict} name whose tensor (parameter,
     * buffer or counter) another name holds too, to the name of that group that sorts first, in name order
     * ({@code {"2.bias":"0.bias","2.weight":"0.weight"}} for {@code Sequential.of(lin, Activation.tanh(), lin)});
     * empty for an untied model. The ties are the model's {@link Layer#sharedParameters()} and any parameter, buffer
     * or counter it lists under two names. The kept name is the one safetensors' {@code save_model} keeps
     * ({@code sorted(names)[0]}), so a file holds what it writes for the equivalent PyTorch module. Every save and
     * load of a model file or checkpoint applies this one rule: a file holds each group's tensor once under its kept
     * name and records the ties under {@value #TIED_KEY}; loading into a model needs the file's ties to be the
     * model's (or none, with equal values under the tied names), and rebuilding from the architecture gives one layer
     * for a layer used whole at several places.
     *
     * @param model the model to save, load into or hand on
     * @return the ties, by tied name in name order
     * @throws IllegalArgumentException when the model's {@link Layer#sharedParameters()} names a parameter its
     *                                  {@link Layer#parameters()} does not list
     */
    public static Map<String, String> ties(Layer model) {
        return Ties.of(model);
    }

    /**
     * The model's floating tensors by {@code state_dict} name: the parameters' values (a shared one under its first
     * name only), then the buffers.
     */
    static Map<String, Tensor> tensorsOf(Layer model) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        model.parameters().forEach((k, v) -> m.put(k, v.value()));
        m.putAll(model.buffers());
        return m;
    }

    /** The model's counters' current values by {@code state_dict} name. */
    static Map<String, Long> countersOf(Layer model) {
        Map<String, Long> m = new LinkedHashMap<>();
        model.counters().forEach((k, v) -> m.put(k, v[0]));
        return m;
    }

    /** Rebuilds the model a file describes, on {@code backend}, in the file's dtype. */
    public static Layer load(Path path, Backend backend) throws IOException {
        return load(path, backend, null);
    }

    /**
     * Rebuilds the model a file describes, on {@code backend}, with parameters and buffers converted to
     * {@code dtype} (FLOAT32 or FLOAT64; null keeps the file's).
     *
     * @throws ModelFileException when the file is invalid, has no architecture, or its tensors do not match it or
     *                            hold NaN, infinities or a negative running variance ({@link StateValues})
     */
    public static Layer load(Path path, Backend backend, DType dtype) throws IOException {
        return load(path, backend, dtype, false);
    }

    /**
     * As {@link #load(Path, Backend, DType)}; {@code allowNonFinite} loads parameters that hold NaN or infinities
     * with a logged warning instead of refusing them; a negative running variance is refused all the same.
     */
    public static Layer load(Path path, Backend backend, DType dtype, boolean allowNonFinite) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path, allowNonFinite)) {
            return load(f, backend, dtype);
        }
    }

    /**
     * As {@link #load(Path, Backend, DType)}, from a file already open: a caller that also reads the file's metadata
     * reads it from the same open file, so a file replaced meanwhile cannot give the metadata of one and the weights
     * of another. Non-finite values are allowed as {@code f} was opened to allow them.
     */
    public static Layer load(SafeTensorsFile f, Backend backend, DType dtype) throws IOException {
        return load(f, backend, dtype, 0);
    }

    /**
     * As {@link #load(SafeTensorsFile, Backend, DType)}, its dropout layers' mask streams keyed by {@code seed} as
     * {@link Layers#create(LayerSpec, dev.backprop.nn.ParameterFactory, long)} keys them: a run that trains on from a
     * file draws the masks of its own seed, as a network built fresh from that seed does.
     */
    public static Layer load(SafeTensorsFile f, Backend backend, DType dtype, long seed) throws IOException {
        String file = f.header().file();
        String arch = f.metadata().get(ARCHITECTURE_KEY);
        if (arch == null) {
            throw new ModelFileException(file + ": no '" + ARCHITECTURE_KEY + "' in the metadata, so the model "
                    + "cannot be rebuilt from the file; build it in code and use loadInto");
        }
        checkVersion(f);
        LayerSpec spec = ArchitectureJson.read(file, arch);
        Map<String, int[]> floats = new LinkedHashMap<>(Layers.parameterShapes(spec));
        floats.putAll(Layers.bufferShapes(spec));
        List<String> counters = Layers.counterNames(spec);
        Map<String, String> ties = Ties.read(f, floats, counters);
        Map<String, String> reuse = Ties.reuse(file, spec, ties);
        Stored stored = checkState(f, Ties.untied(floats, ties), Ties.untied(counters, ties), true);
        DType target = dtype != null ? dtype : stored.dtype();
        if (!target.isFloating()) {
            throw new IllegalArgumentException("parameters must be FLOAT32 or FLOAT64, not " + target);
        }
        if (target == DType.FLOAT64 && !backend.capabilities().float64()) {
            throw new DTypeMismatchException(file + " holds " + stored.dtype() + " parameters but backend '"
                    + backend.name() + "' has no FLOAT64; load it as FLOAT32");
        }
        Layer model;
        try {
            model = Layers.create(spec, (name, shape, role, fanIn, fanOut) -> {
                try {
                    return f.read(ties.getOrDefault(name, name), backend, target);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, seed, reuse);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        try {
            copyIn(f, Ties.kept(model.buffers(), ties), "");
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
        setCounters(model, stored.counters(), ties);
        return model;
    }

    /**
     * Loads a file's state (parameters, buffers, counters) into an existing model (converted to the model's dtype).
     * The file must hold exactly the model's {@code state_dict} names with the model's shapes; when it records an
     * architecture, that must be the model's too, and its ties ({@value #TIED_KEY}) the model's ({@link #ties}); a
     * file that records no ties loads into a tied model when it holds the same values under the tied names. Works on
     * files written by PyTorch ({@code safetensors.torch.save_file(model.state_dict())}, and {@code save_model},
     * whose left-out names the file's ties must then give). The model is unchanged when anything does not match.
     */
    public static void loadInto(Path path, Layer model) throws IOException {
        loadInto(path, model, false);
    }

    /**
     * As {@link #loadInto(Path, Layer)}; {@code allowNonFinite} loads tensors that hold NaN or infinities with a
     * logged warning instead of refusing them.
     */
    public static void loadInto(Path path, Layer model, boolean allowNonFinite) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path, allowNonFinite)) {
            loadInto(f, model);
        }
    }

    /**
     * As {@link #loadInto(Path, Layer)}, from a file already open (see {@link #load(SafeTensorsFile, Backend,
     * DType)} for why).
     */
    public static void loadInto(SafeTensorsFile f, Layer model) throws IOException {
        checkFits(f, model).load();
    }

    /**
     * Refuses a file whose architecture or state does not fit {@code model}, changing nothing; what it returns copies
     * the checked state in. {@link #loadInto(SafeTensorsFile, Layer)} is the two steps; a caller that also checks the
     * file's metadata against the model does that between them, so a file of another network is refused for that
     * rather than for what follows from it, and the file is checked once.
     *
     * @throws ModelFileException when the file records another architecture or other ties, its tensors are not the
     *                            model's, or it holds a tied model's names apart with different values
     */
    public static Fit checkFits(SafeTensorsFile f, Layer model) throws IOException {
        Map<String, String> ties = ties(model);
        checkArchitecture(f, model);
        Map<String, int[]> floats = stateShapes(model);
        List<String> counters = new ArrayList<>(model.counters().keySet());
        Map<String, String> fileTies = Ties.read(f, floats, counters);
        Ties.checkSame(f.file(), fileTies, ties, true);
        Stored stored = checkState(f, Ties.untied(floats, fileTies), Ties.untied(counters, fileTies), true);
        if (fileTies.isEmpty() && !ties.isEmpty()) {
            Ties.checkEqual(f, ties, allTensors(model), stored.counters());
        }
        return new Fit(f, model, Ties.kept(tensorsOf(model), fileTies), stored.counters(), fileTies);
    }

    /** The model's floating tensors under every {@code state_dict} name, a shared parameter's under each. */
    static Map<String, Tensor> allTensors(Layer model) {
        Map<String, Tensor> m = tensorsOf(model);
        Map<String, Variable> params = model.parameters();
        model.sharedParameters().forEach((name, first) -> m.put(name, params.get(first).value()));
        return m;
    }

    /** The shapes of {@link #allTensors}. */
    static Map<String, int[]> stateShapes(Layer model) {
        return shapesOf(allTensors(model));
    }

    /** A file's state checked against a model by {@link #checkFits}, to be copied in from the same open file. */
    public static final class Fit {
        private final SafeTensorsFile file;
        private final Layer model;
        private final Map<String, Tensor> targets;
        private final Map<String, Long> counters;
        private final Map<String, String> ties;

        private Fit(SafeTensorsFile file, Layer model, Map<String, Tensor> targets, Map<String, Long> counters,
                    Map<String, String> ties) {
            this.file = file;
            this.model = model;
            this.targets = targets;
            this.counters = counters;
            this.ties = ties;
        }

        /**
         * Copies the file's parameters, buffers and counters into the model.
         *
         * @throws ModelFileException when a tensor's data is refused as it is read (NaN or infinities that are not
         *                            allowed, a negative running variance); the model is unchanged then
         */
        public void load() throws IOException {
            copyIn(file, targets, "");
            setCounters(model, counters, ties);
        }
    }

    /**
     * Sets each of the model's counters to its value in {@code values}, which a file with {@code ties} holds under
     * the kept name of a tied one.
     */
    static void setCounters(Layer model, Map<String, Long> values, Map<String, String> ties) {
        model.counters().forEach((k, v) -> v[0] = values.get(ties.getOrDefault(k, k)));
    }

    /** A file that records a layout version must record exactly the one this code reads, {@value #VERSION}. */
    static void checkVersion(SafeTensorsFile f) throws ModelFileException {
        String version = f.metadata().get(VERSION_KEY);
        if (version != null && !version.equals(VERSION)) {
            throw new ModelFileException(f.header().file() + ": metadata " + VERSION_KEY + " is '" + version
                    + "', this Backprop reads version " + VERSION + " (written by a newer Backprop?)");
        }
    }

    static void checkArchitecture(SafeTensorsFile f, Layer model) throws ModelFileException {
        checkVersion(f);
        String arch = f.metadata().get(ARCHITECTURE_KEY);
        if (arch != null) {
            LayerSpec spec = ArchitectureJson.read(f.header().file(), arch);
            if (!spec.equals(model.spec())) {
                throw new ModelFileException(f.header().file() + ": the file's architecture " + arch
                        + " differs from the model's " + ArchitectureJson.write(model.spec()));
            }
        }
    }

    static Map<String, int[]> shapesOf(Map<String, Tensor> tensors) {
        Map<String, int[]> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.shape().dims()));
        return m;
    }

    /**
     * What {@link #checkState} found: the dtype of the floating tensors and the counters' values.
     */
    record Stored(DType dtype, Map<String, Long> counters) {
    }

    /**
     * Checks that the file holds exactly the {@code floats} tensors (parameters and buffers, with those shapes and
     * one floating dtype) and the {@code counters} (I64 scalars, at least 0), plus a checkpoint's optimizer state
     * and kept tensors when {@code allowOptimizer}; reads the counters.
     */
    static Stored checkState(SafeTensorsFile f, Map<String, int[]> floats, List<String> counters,
                             boolean allowOptimizer) throws IOException {
        String file = f.header().file();
        DType dtype = null;
        for (Map.Entry<String, int[]> e : floats.entrySet()) {
            SafeTensorsHeader.Entry t = f.header().entries().get(e.getKey());
            if (t == null) {
                throw new ModelFileException(file + ": missing tensor '" + e.getKey() + "' (expected "
                        + Arrays.toString(e.getValue()) + ")");
            }
            f.require(e.getKey(), DType.FLOAT32);
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new ModelFileException(file + ": tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(e.getValue()));
            }
            if (dtype != null && t.dtype().tensorType() != dtype) {
                throw new ModelFileException(file + ": tensor '" + e.getKey() + "' is " + t.dtype().safetensorsName()
                        + " but earlier parameters are " + dtype.safetensorsName() + " (one dtype per model)");
            }
            dtype = t.dtype().tensorType();
        }
        Map<String, Long> values = readCounters(f, counters);
        for (String name : f.shapes().keySet()) {
            if (!floats.containsKey(name) && !values.containsKey(name)
                    && !(allowOptimizer && (name.startsWith(OPTIMIZER_PREFIX)
                    || name.startsWith(Checkpoint.KEPT_PREFIX)))) {
                List<String> all = new ArrayList<>(floats.keySet());
                all.addAll(counters);
                throw new ModelFileException(file + ": unexpected tensor '" + name + "'; the model's state is "
                        + all);
            }
        }
        return new Stored(dtype == null ? DType.FLOAT32 : dtype, values);
    }

    /** Reads the counters {@code names}: each an I64 scalar, at least 0. */
    static Map<String, Long> readCounters(SafeTensorsFile f, java.util.Collection<String> names) throws IOException {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String name : names) {
            if (!f.header().entries().containsKey(name)) {
                throw new ModelFileException(f.header().file() + ": missing tensor '" + name
                        + "' (expected an I64 scalar)");
            }
            long v = f.readInt64Scalar(name);
            if (v < 0) {
                throw new ModelFileException(f.header().file() + ": counter '" + name + "' is " + v
                        + ", a count must be >= 0");
            }
            values.put(name, v);
        }
        return values;
    }

    /**
     * Reads {@code prefix + name} for every target into temporaries first, then copies them all in, so a read
     * failure leaves the targets unchanged.
     */
    @SuppressWarnings("try") // the scope frees the temporaries
    static void copyIn(SafeTensorsFile f, Map<String, Tensor> targets, String prefix) throws IOException {
        try (Scope scope = Scope.open()) {
            Map<String, Tensor> read = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : targets.entrySet()) {
                Tensor target = e.getValue();
                read.put(e.getKey(), f.read(prefix + e.getKey(), target.backend(), target.dtype()));
            }
            for (Map.Entry<String, Tensor> e : targets.entrySet()) {
                Elementwise.copy(read.get(e.getKey()), e.getValue());
            }
        }
    }
}
