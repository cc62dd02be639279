package dev.backprop.onnx;

import dev.backprop.backend.Backend;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.StateValues;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.nn.OutputShape;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads ONNX files into Backprop networks: the operator subset of {@link OperatorTable} arranged as a chain, from
 * Backprop's own exports or from PyTorch's {@code torch.onnx.export} (opsets 9 to 21, initializers listed as inputs
 * or not, {@code Gemm} or {@code MatMul + Add}, {@code Constant} nodes). Anything outside the subset is refused with
 * the node and operator or attribute named, never approximated; a hostile file gets a one-line
 * {@link ModelFileException} before anything is allocated on a backend.
 *
 * <pre>{@code
 * try (SavedModel.Loaded m = OnnxImport.load(Path.of("model.onnx"), backend)) {
 *     Evaluator.evaluate(m.model(), m.task(), testData, 1000);
 * }
 * }</pre>
 */
public final class OnnxImport {
    private OnnxImport() {
    }

    /**
     * A graph read as a chain of layers, before anything is allocated.
     *
     * @param spec            the network, a {@code sequential} of the layers read
     * @param state           the parameters by {@code state_dict} name ({@code 1.weight}: PyTorch's, where the file
     *                        keeps them)
     * @param origins         for each layer, the node it was read from (for messages)
     * @param metadata        the model's metadata properties (Backprop's exports carry the task and class names)
     * @param outputTransform {@code Softmax} or {@code LogSoftmax} when the graph ends with one, {@code Sigmoid} when
     *                        it ends with one on one output per example (and its metadata names no task but
     *                        binary), else null: the network's outputs are then the logits before it
     * @param inputShape      the input's declared dimensions after the batch, -1 where symbolic
     * @param inputName       the graph input's name
     * @param outputName      the graph output's name
     */
    public record Graph(LayerSpec spec, Map<String, HostTensor> state, List<String> origins,
                        Map<String, String> metadata, String outputTransform, int[] inputShape, String inputName,
                        String outputName) {
    }

    /**
     * Parses and checks a file and reads its graph, allocating nothing beyond the file's own size.
     *
     * @throws ModelFileException naming the file, the node and the problem
     */
    public static Graph read(Path path) throws IOException {
        return GraphImporter.read(path.toString(), OnnxReader.parse(path));
    }

    /**
     * Rebuilds the network a file holds on {@code backend} (FLOAT32), with its task (the file's metadata, else
     * classification after a final softmax or with more than one output, binary with one or after a final sigmoid)
     * and class names. A batch norm's running statistics are the mean and variance inputs of its
     * {@code BatchNormalization}; its {@code num_batches_tracked} comes from the metadata property
     * {@code backprop.counters} that Backprop's exports write, else 0. The returned metadata holds the file's
     * properties, and the declared input's dimensions after the batch as {@value OnnxExport#INPUT_SHAPE_KEY} when all
     * are known.
     *
     * @throws ModelFileException when the file is invalid, outside the subset, or needs a layer this build lacks, or
     *                            its weights hold NaN, infinities or a negative running variance
     *                            ({@link StateValues})
     */
    public static SavedModel.Loaded load(Path path, Backend backend) throws IOException {
        return load(path, backend, false);
    }

    /**
     * As {@link #load(Path, Backend)}; {@code allowNonFinite} loads weights that hold NaN or infinities with a logged
     * warning instead of refusing them (corrupt weights, or a run that diverged); a negative running variance is
     * refused all the same.
     */
    public static SavedModel.Loaded load(Path path, Backend backend, boolean allowNonFinite) throws IOException {
        return load(path, backend, allowNonFinite, 0);
    }

    /**
     * As {@link #load(Path, Backend, boolean)}, the dropout layers read (kept for fine-tuning) drawing their masks
     * from streams keyed by {@code seed} as {@link Layers#create(LayerSpec, dev.backprop.nn.ParameterFactory, long)}
     * keys them: a run that trains on from the file draws the masks of its own seed.
     */
    public static SavedModel.Loaded load(Path path, Backend backend, boolean allowNonFinite, long seed)
            throws IOException {
        Graph g = read(path);
        String file = path.toString();
        for (Map.Entry<String, HostTensor> e : g.state().entrySet()) {
            StateValues.check(file, e.getKey(), e.getValue().dims(), e.getValue().data(), allowNonFinite);
        }
        List<LayerSpec> layers = g.spec().layers();
        for (int i = 0; i < layers.size(); i++) {
            try {
                Layers.validate(layers.get(i));
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(g.origins().get(i) + ": Backprop cannot build it: " + e.getMessage(), e);
            }
        }
        Map<String, int[]> shapes = Layers.parameterShapes(g.spec());
        Map<String, int[]> buffers = Layers.bufferShapes(g.spec());
        Map<String, int[]> all = new LinkedHashMap<>(shapes);
        all.putAll(buffers);
        for (Map.Entry<String, HostTensor> e : g.state().entrySet()) {
            if (!Arrays.equals(all.get(e.getKey()), e.getValue().dims())) {
                throw new ModelFileException(file + ": tensor '" + e.getKey() + "' " + e.getValue() + " is no "
                        + "parameter or buffer of the network read (" + all.keySet() + ")");
            }
        }
        if (!g.state().keySet().containsAll(all.keySet())) {
            throw new ModelFileException(file + ": the network read needs tensors " + all.keySet()
                    + ", the file gives " + g.state().keySet());
        }
        Map<String, Long> counters = Counters.read(file, g.metadata().get(Counters.KEY),
                Layers.counterNames(g.spec()));
        Task task = task(file, g);
        int[] input = Arrays.stream(g.inputShape()).allMatch(d -> d > 0) ? g.inputShape() : null;
        List<String> classNames = SavedModel.classNames(file, g.metadata().get(SavedModel.CLASS_NAMES_KEY), task,
                OutputShape.features(g.spec(), input));
        Layer model = Layers.create(g.spec(), (name, shape, role, fanIn, fanOut) ->
                Tensor.of(backend, g.state().get(name).data(), shape), seed);
        try {
            SavedModel.checkTask(file, task, model);
            for (Map.Entry<String, Tensor> e : model.buffers().entrySet()) {
                try (Tensor t = Tensor.of(backend, g.state().get(e.getKey()).data(), e.getValue().shape().dims())) {
                    Elementwise.copy(t, e.getValue());
                }
            }
        } catch (ModelFileException | RuntimeException e) {
            model.close();
            throw e;
        }
        model.counters().forEach((name, value) -> value[0] = counters.get(name));
        return new SavedModel.Loaded(model, task, classNames, metadata(g));
    }

    /**
     * The file's metadata, with {@value OnnxExport#INPUT_SHAPE_KEY} set to the graph input's declared dimensions
     * when all are known (and left out when not: the graph, not a property, says what the model takes).
     */
    private static Map<String, String> metadata(Graph g) {
        Map<String, String> m = new LinkedHashMap<>(g.metadata());
        m.remove(OnnxExport.INPUT_SHAPE_KEY);
        if (Arrays.stream(g.inputShape()).allMatch(d -> d > 0)) {
            m.put(OnnxExport.INPUT_SHAPE_KEY, Arrays.stream(g.inputShape()).mapToObj(Integer::toString)
                    .collect(Collectors.joining(",")));
        }
        return m;
    }

    private static Task task(String file, Graph g) throws ModelFileException {
        String stored = g.metadata().get(SavedModel.TASK_KEY);
        Task task;
        if (stored != null) {
            try {
                task = Task.parse(stored);
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(file + ": metadata " + SavedModel.TASK_KEY + ": " + e.getMessage(), e);
            }
        } else {
            task = g.outputTransform() != null ? transformed(g) : Layers.outputFeatures(g.spec()) == 1
                    ? Task.BINARY : Task.CLASSIFICATION;
        }
        if (g.outputTransform() != null && task != transformed(g)) {
            throw new ModelFileException(file + ": the graph ends with " + g.outputTransform() + ", which only a "
                    + transformed(g).id() + " model has, but its metadata says task " + task.id());
        }
        return task;
    }

    /** The task whose predictions the graph's final transform computes: a sigmoid's binary, a softmax's. */
    private static Task transformed(Graph g) {
        return g.outputTransform().equals("Sigmoid") ? Task.BINARY : Task.CLASSIFICATION;
    }
}
