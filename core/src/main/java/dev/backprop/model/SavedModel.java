package dev.backprop.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.ImageTransform;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.io.StrictJson;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.nn.OutputShape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Model files and checkpoints (the {@link ModelFile} / {@link Checkpoint} formats: PyTorch {@code state_dict}
 * names, the architecture in the metadata) that also say what the network is for: its {@link Task}
 * ({@value #TASK_KEY}), the class names when known ({@value #CLASS_NAMES_KEY}, a JSON array) and free-form facts
 * about the training run. {@code eval} and {@code predict} read these, so they need nothing but the file.
 *
 * <p>The tensors and the architecture are written by {@link ModelFile}/{@link Checkpoint} themselves, in one
 * atomic write, with this class's keys as extra metadata, so the formats stay defined in one place.
 */
public final class SavedModel {
    /** Metadata key of the task ({@code classification}, {@code binary}, {@code regression}). */
    public static final String TASK_KEY = "backprop.task";
    /** Metadata key of the class names, a JSON array of strings indexed by label. */
    public static final String CLASS_NAMES_KEY = "backprop.class_names";
    /**
     * Metadata key of the input's dimensions after the batch ({@code 1,28,28} for images, {@code 784} for feature
     * rows): what the network takes, which a CNN's layers leave open, so an ONNX export can declare it.
     */
    public static final String INPUT_SHAPE_KEY = "backprop.input_shape";
    /**
     * Metadata key of the resize and center crop the training images were read with ({@link ImageTransform#toString},
     * as {@code resize=72,center_crop=64x64}), which images must be read with to be predicted on: absent for none.
     */
    public static final String IMAGE_TRANSFORM_KEY = "backprop.image_transform";
    /**
     * Metadata key of the CSV column the label was read from when it was not the last
     * ({@link dev.backprop.data.LabelColumn#toString}: a header name or a 0-based index), which test files are read
     * with by default: absent for the last column.
     */
    public static final String LABEL_COLUMN_KEY = "backprop.label_column";

    private SavedModel() {
    }

    /**
     * The refusal of {@code file}, a CSV without a header line, read for {@code recordedBy}: a model or checkpoint
     * whose {@value #LABEL_COLUMN_KEY} is {@code column}, a header name. No name finds a column in such a file, and
     * an index would be another column than the one it was trained with for all the file records, so what helps is
     * the training file's header line. {@code train --resume}, {@code eval} and {@code predict} refuse such a CSV with
     * it, and so does {@code train --spark} resuming from a {@code --checkpoint-dir} checkpoint.
     *
     * @param option     how the message names the file's option ({@code --csv}, {@code --test-csv})
     * @param file       the CSV as the user named it
     * @param recordedBy the model or checkpoint as the message names it
     * @param column     the header name it records
     * @return the exception to throw, its message on one line
     */
    public static IllegalArgumentException headerlessCsv(String option, Object file, Object recordedBy,
                                                         String column) {
        return new IllegalArgumentException(DataFormatException.oneLine(option + " " + file + " has no header line, "
                + "but " + recordedBy + " reads its label from the column named '" + column + "' ("
                + LABEL_COLUMN_KEY + "), as the file it was trained on had a header naming it: add that header line, "
                + "naming '" + column + "' in the label's place, as the first line of " + file));
    }

    /**
     * A model read back from a file.
     *
     * @param model      the rebuilt network (owns its parameters: close it)
     * @param task       the stored task, or the one inferred from the output width when the file names none (more
     *                   than one output: classification; one: binary)
     * @param classNames the stored class names, or null
     * @param metadata   every metadata entry of the file
     */
    public record Loaded(Layer model, Task task, List<String> classNames, Map<String, String> metadata)
            implements AutoCloseable {
        /** Frees the model's parameters. */
        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * Saves {@code model}'s parameters and architecture, with the task, class names (may be null) and
     * {@code extra} metadata, atomically.
     *
     * @throws IllegalArgumentException when an extra key belongs to the model file format, a class name holds a
     *                                  character a terminal acts on ({@link Dataset#classNameProblem}), the class
     *                                  names are not as many as the task takes ({@link #checkClassNames}), or a
     *                                  binary model does not end with one logit (a sigmoid or several outputs)
     */
    public static void save(Path path, Layer model, Task task, List<String> classNames, Map<String, String> extra)
            throws IOException {
        task.checkOutput(model);
        ModelFile.save(path, model, metadata(model, task, classNames, extra));
    }

    /**
     * As {@link #metadata(Task, List, Map)}, for {@code model}: also refuses class names that do not fit it
     * ({@link #checkClassNames}). What a writer of a model file (or an ONNX export) records.
     *
     * @throws IllegalArgumentException when a class name holds a character a terminal acts on or the names do not fit
     */
    public static Map<String, String> metadata(Layer model, Task task, List<String> classNames,
                                               Map<String, String> extra) {
        String problem = classNames == null ? null
                : checkClassNames(task, classNames.size(), outputs(model.spec(), extra));
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return metadata(task, classNames, extra);
    }

    /**
     * The metadata entries this class adds to a model file or checkpoint: {@code extra}, then the task and the
     * class names (a JSON array; left out when null). Pass them to {@link ModelFile#save(Path, Layer, Map)}, or to
     * {@link Checkpoint#save(Path, Layer, dev.backprop.optim.Optimizer, dev.backprop.optim.LearningRateSchedule,
     * Map, Map)} and {@link dev.backprop.train.Trainer#saveCheckpoint(Path, Map)} for a checkpoint that
     * {@link #load} reads as a model too. This has no model to check the class names against, and {@link #load}
     * refuses names that do not fit the network: with the model at hand, use {@link #metadata(Layer, Task, List,
     * Map)}, which refuses them when the file is written.
     *
     * @throws IllegalArgumentException when a class name holds a character a terminal acts on
     */
    public static Map<String, String> metadata(Task task, List<String> classNames, Map<String, String> extra) {
        Map<String, String> m = new LinkedHashMap<>(extra);
        m.put(TASK_KEY, task.id());
        if (classNames != null) {
            JsonArray a = new JsonArray();
            for (String name : classNames) {
                String problem = Dataset.classNameProblem(name);
                if (problem != null) {
                    throw new IllegalArgumentException(problem + ", which a model file refuses");
                }
                a.add(name);
            }
            m.put(CLASS_NAMES_KEY, a.toString());
        }
        return m;
    }

    /**
     * Records in {@code facts} that the trained network takes inputs of {@code shape} (the dimensions after the
     * batch), under {@value #INPUT_SHAPE_KEY}: every trainer that saves a model records it this way.
     *
     * @throws IllegalArgumentException for an empty shape or a dimension below 1
     */
    public static void putInputShape(Map<String, String> facts, int... shape) {
        putShape(facts, INPUT_SHAPE_KEY, shape);
    }

    /**
     * Records {@code shape} under {@code key} as {@value #INPUT_SHAPE_KEY} is written ({@code 1,28,28}), for another
     * shape a trainer keeps with the model (the cli's image size).
     *
     * @throws IllegalArgumentException for an empty shape or a dimension below 1
     */
    public static void putShape(Map<String, String> facts, String key, int... shape) {
        if (shape.length == 0 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException(key + " " + Arrays.toString(shape)
                    + ": give at least one dimension, all >= 1");
        }
        facts.put(key, Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(",")));
    }

    /**
     * Reads a shape as {@link #putShape} writes it, {@code 1,28,28} (spaces around a dimension allowed, as a user
     * types one): what a model's recorded shapes and a shape given on the command line are read with.
     *
     * @throws IllegalArgumentException naming the text when it is not a list of whole numbers {@code >= 1}
     */
    public static int[] parseShape(String text) {
        String[] parts = text.split(",", -1);
        int[] dims = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String d = parts[i].trim();
            if (!d.matches("[0-9]{1,9}") || (dims[i] = Integer.parseInt(d)) < 1) {
                throw new IllegalArgumentException("input shape '" + text + "' must be positive integers like "
                        + "1,28,28");
            }
        }
        return dims;
    }

    /**
     * Records in {@code facts} that the training images were read with {@code transform}, under
     * {@value #IMAGE_TRANSFORM_KEY}; nothing for {@link ImageTransform#NONE}.
     */
    public static void putImageTransform(Map<String, String> facts, ImageTransform transform) {
        if (!transform.isNone()) {
            facts.put(IMAGE_TRANSFORM_KEY, transform.toString());
        }
    }

    /**
     * The transform recorded under {@value #IMAGE_TRANSFORM_KEY} ({@link #putImageTransform}), to read images for
     * the model with ({@link ImageTransform#read}); {@link ImageTransform#NONE} when none is.
     *
     * @throws IllegalArgumentException naming the key and the value when it is not a transform
     */
    public static ImageTransform recordedImageTransform(Map<String, String> meta) {
        String v = meta.get(IMAGE_TRANSFORM_KEY);
        try {
            return v == null ? ImageTransform.NONE : ImageTransform.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(DataFormatException.oneLine("metadata " + IMAGE_TRANSFORM_KEY + ": "
                    + e.getMessage()), e);
        }
    }

    /** The metadata of a safetensors file (validating its header). */
    public static Map<String, String> metadata(Path path) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
            return f.metadata();
        }
    }

    /**
     * Rebuilds the model a file (model file or checkpoint) describes, on {@code backend}, as FLOAT32.
     *
     * @throws ModelFileException when the file is invalid, has no architecture, names an unknown task or one its
     *                            network cannot have ({@link Task#checkOutput}), holds class names that do not fit
     *                            the network ({@link #checkClassNames}), or its state holds NaN, infinities or a
     *                            negative running variance
     */
    public static Loaded load(Path path, Backend backend) throws IOException {
        return load(path, backend, false);
    }

    /**
     * As {@link #load(Path, Backend)}; {@code allowNonFinite} loads parameters that hold NaN or infinities with a
     * logged warning instead of refusing them.
     */
    public static Loaded load(Path path, Backend backend, boolean allowNonFinite) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path, allowNonFinite)) {
            return load(f, backend);
        }
    }

    /**
     * As {@link #load(Path, Backend)}, from a file already open: the metadata, the architecture and the weights all
     * come from that one open file, so a file replaced meanwhile (a training run writing the path this loads) gives
     * one file's model or the other's, never a mix. Non-finite weights are allowed as {@code f} was opened to allow
     * them.
     */
    public static Loaded load(SafeTensorsFile f, Backend backend) throws IOException {
        return load(f, backend, 0);
    }

    /**
     * As {@link #load(Path, Backend, boolean)}, its dropout layers' mask streams keyed by {@code seed}
     * ({@link ModelFile#load(SafeTensorsFile, Backend, DType, long)}).
     */
    public static Loaded load(Path path, Backend backend, boolean allowNonFinite, long seed) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path, allowNonFinite)) {
            return load(f, backend, seed);
        }
    }

    /**
     * As {@link #load(SafeTensorsFile, Backend)}, its dropout layers' mask streams keyed by {@code seed}
     * ({@link ModelFile#load(SafeTensorsFile, Backend, DType, long)}).
     */
    public static Loaded load(SafeTensorsFile f, Backend backend, long seed) throws IOException {
        Task stored = storedTask(f);
        Layer model = ModelFile.load(f, backend, DType.FLOAT32, seed);
        try {
            return describe(f, stored, model);
        } catch (ModelFileException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Loads a file's state into {@code model}, a network the caller built to match it (for a plain PyTorch
     * {@code state_dict}, which records no architecture: see {@link ModelFile#loadInto}), and reads the task and class
     * names as {@link #load(Path, Backend)} does. The returned {@link Loaded} owns {@code model}; when loading fails,
     * the model is unchanged and still the caller's.
     *
     * @throws ModelFileException when the file is invalid, a name or shape differs from the model's, it names an
     *                            unknown task or one the model cannot have, its class names do not fit the model,
     *                            or it holds NaN or infinities that are not allowed or a negative running variance
     */
    public static Loaded load(Path path, Layer model, boolean allowNonFinite) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(path, allowNonFinite)) {
            return load(f, model);
        }
    }

    /**
     * As {@link #load(Path, Layer, boolean)}, from a file already open (see {@link #load(SafeTensorsFile, Backend)}).
     */
    public static Loaded load(SafeTensorsFile f, Layer model) throws IOException {
        ModelFile.Fit fit = ModelFile.checkFits(f, model);
        Loaded loaded = describe(f, storedTask(f), model);
        fit.load();
        return loaded;
    }

    /**
     * {@code model} with the task ({@code stored}, else inferred) and class names the file gives it, after checking
     * that both fit it: a binary task takes one output, the class names as many as {@link #checkClassNames} says.
     */
    private static Loaded describe(SafeTensorsFile f, Task stored, Layer model) throws ModelFileException {
        Task task = stored != null ? stored : inferTask(model);
        if (stored != null) {
            checkTask(f.file(), task, model);
        } else {
            checkInferredTask(f.file(), task, model);
        }
        Map<String, String> meta = f.metadata();
        return new Loaded(model, task, classNames(f.file(), meta.get(CLASS_NAMES_KEY), task,
                outputs(model.spec(), meta)), meta);
    }

    /**
     * The network's outputs per example ({@link OutputShape#features}): from its last layers, else by shape inference
     * from the input shape recorded in {@code meta} ({@value #INPUT_SHAPE_KEY}); -1 when neither tells, as for a
     * network ending in a convolution whose file records no input shape: its parameters give the channels but not
     * the image size, which the width depends on.
     */
    private static int outputs(LayerSpec spec, Map<String, String> meta) {
        return OutputShape.features(spec, recordedInputShape(meta));
    }

    /**
     * The dimensions recorded under {@value #INPUT_SHAPE_KEY} ({@link #putInputShape}), or null when none are or the
     * value is not a list of dimensions {@code >= 1}.
     */
    public static int[] recordedInputShape(Map<String, String> meta) {
        String v = meta.get(INPUT_SHAPE_KEY);
        try {
            return v == null ? null : parseShape(v);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Refuses a model file's task that its network cannot have been saved with ({@link Task#checkOutput}: a binary
     * network gives one logit), as a file's error.
     *
     * @param file names the file in the message
     * @throws ModelFileException when the task does not fit the network
     */
    public static void checkTask(String file, Task task, Layer model) throws ModelFileException {
        try {
            task.checkOutput(model);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file + ": metadata " + TASK_KEY + ": " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a network whose file names no task and whose inferred task does not fit it (one output ending with a
     * sigmoid would be read as binary and give sigmoid(p) twice), saying the task was inferred, not recorded.
     */
    private static void checkInferredTask(String file, Task task, Layer model) throws ModelFileException {
        try {
            task.checkOutput(model);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file + ": no " + TASK_KEY + " in the metadata, so the task is inferred as "
                    + task.id() + " (one output), which does not fit the network: " + e.getMessage()
                    + "; or save the model with SavedModel.save and its task", e);
        }
    }

    private static Task storedTask(SafeTensorsFile f) throws ModelFileException {
        String path = f.file();
        Map<String, String> meta = f.metadata();
        if (!meta.containsKey(TASK_KEY)) {
            return null;
        }
        Task stored;
        try {
            stored = Task.parse(meta.get(TASK_KEY));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(path + ": metadata " + TASK_KEY + ": " + e.getMessage(), e);
        }
        if (!stored.id().equals(meta.get(TASK_KEY))) {  // the command line's spelling is lenient, files are not
            throw new ModelFileException(path + ": metadata " + TASK_KEY + " is '" + meta.get(TASK_KEY)
                    + "', not a task as Backprop writes it ('" + stored.id() + "')");
        }
        return stored;
    }

    /** The task of a network whose file names none: binary for one output, else classification. */
    private static Task inferTask(Layer model) {
        return Layers.outputFeatures(model.spec()) == 1 ? Task.BINARY : Task.CLASSIFICATION;
    }

    /**
     * What is wrong with {@code count} class names for a {@code task} network of {@code outputs} outputs per example
     * ({@link OutputShape#features}; -1 when unknown, and then any count fits), or null when they fit:
     * classification takes one name per output, binary two (class 0, class 1), regression none; an empty list is
     * none. A list that fits no output would make predictions print under another class's name, or under none.
     */
    public static String checkClassNames(Task task, int count, int outputs) {
        return switch (task) {
            case CLASSIFICATION -> outputs < 0 || count == outputs ? null : count + " class names for a network "
                    + "with " + outputs + " outputs (classification takes one per output)";
            case BINARY -> count == 2 || count == 0 ? null : count + " class names for task binary (it takes 2, "
                    + "class 0 then class 1, or none)";
            case REGRESSION -> count == 0 ? null : count + " class names for task regression (it takes none)";
        };
    }

    /**
     * The class names in a model's metadata ({@value #CLASS_NAMES_KEY}: a JSON array of printable strings), checked
     * against the model's task and output width ({@link #checkClassNames}); null when {@code json} is.
     *
     * @param file    names the file in messages
     * @param outputs the network's outputs per example ({@link OutputShape#features}; -1 when unknown)
     * @throws ModelFileException when the value is not such an array or does not fit the model
     */
    public static List<String> classNames(String file, String json, Task task, int outputs)
            throws ModelFileException {
        if (json == null) {
            return null;
        }
        JsonElement e;
        try {
            e = StrictJson.parse(json);
        } catch (IOException x) {
            throw new ModelFileException(file + ": metadata " + CLASS_NAMES_KEY + " is not valid JSON: "
                    + x.getMessage(), x);
        }
        if (!e.isJsonArray()) {
            throw new ModelFileException(file + ": metadata " + CLASS_NAMES_KEY + " must be a JSON array");
        }
        List<String> out = new ArrayList<>();
        for (JsonElement x : e.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                throw new ModelFileException(file + ": metadata " + CLASS_NAMES_KEY + " must hold strings, got " + x);
            }
            String name = x.getAsString();
            String problem = Dataset.classNameProblem(name);
            if (problem != null) {
                throw new ModelFileException(file + ": metadata " + CLASS_NAMES_KEY + ": " + problem);
            }
            out.add(name);
        }
        String problem = checkClassNames(task, out.size(), outputs);
        if (problem != null) {
            throw new ModelFileException(file + ": metadata " + CLASS_NAMES_KEY + " holds " + problem
                    + "; drop the entry or save the model again with fitting names");
        }
        return List.copyOf(out);
    }
}
