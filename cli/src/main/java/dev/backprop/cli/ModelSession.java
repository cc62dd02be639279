package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.ImageTransform;
import dev.backprop.io.IoErrors;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.io.StrictJson;
import dev.backprop.model.InputShape;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.onnx.ModelFormats;
import dev.backprop.runtime.Backends;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A saved model opened on a backend, for {@code eval} and {@code predict}: the backend (chosen like
 * {@code train}'s), the network (rebuilt from the file's architecture, or for a plain PyTorch {@code state_dict} the
 * one the architecture options name, with the file loaded into it), its task and class names. Closing frees both.
 */
final class ModelSession implements AutoCloseable {
    /** Metadata key {@code train} writes for binary Fashion-MNIST runs: the class scored against the rest. */
    static final String POSITIVE_CLASS_KEY = "backprop.positive_class";
    /**
     * Metadata key {@code train} writes when it trained on image files: their {@code C,H,W}, which
     * {@link SavedModel#INPUT_SHAPE_KEY} gives only for a network that takes images (an MLP takes them flat).
     */
    static final String IMAGE_SHAPE_KEY = "backprop.image_shape";
    /**
     * Metadata key {@code train} writes when it held its test examples out of a single {@code --csv} or
     * {@code --images}: that split of {@link DataOptions#HOLD_OUT} of the examples ({@link HoldOutSplit}: its seed,
     * how many examples it split and their digest), so that {@code eval} and {@code predict} hold the same examples out
     * ({@link TestDataOptions#holdOutSeed}) of the same data ({@link TestDataOptions#checkSplitExamples}).
     */
    static final String HOLD_OUT_KEY = "backprop.holdout";

    private final Backend backend;
    private final SavedModel.Loaded loaded;
    private final Path file;

    private ModelSession(Backend backend, SavedModel.Loaded loaded, Path file) {
        this.backend = backend;
        this.loaded = loaded;
        this.file = file;
    }

    /**
     * Opens {@code file} as {@code options} say: on the backend {@code --backend} names (or the automatic choice),
     * with its {@code --threads}; weights that hold NaN or infinities are refused unless
     * {@code --allow-non-finite}. A file without Backprop's architecture metadata is loaded into the network the
     * architecture options name, which they must name; a file with it must be that network when they name one.
     *
     * @throws BackpropException when the backend is unavailable or the file cannot be read or is not a model
     */
    static ModelSession open(SavedModelOptions options, Path file) {
        BackendOptions backendOptions = BackendOptions.of(options.threads.backendOptions());
        ArchitectureOptions arch = options.architecture;
        arch.check();
        try {
            IoErrors.checkFile(file);  // a wrong path is the whole message, not a line after the backend's choice
        } catch (IOException e) {
            throw new BackpropException(IoErrors.message(e), e);
        }
        Backend backend = Backends.create(options.selection.commandLineName(), backendOptions);
        try {
            return new ModelSession(backend, load(file, backend, options.allowNonFinite, arch), file);
        } catch (IOException e) {
            backend.close();
            throw new BackpropException(IoErrors.message(e), e);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** The model in {@code file} (ONNX or safetensors) on {@code backend}, as {@link #open} describes. */
    static SavedModel.Loaded load(Path file, Backend backend, boolean allowNonFinite, ArchitectureOptions arch)
            throws IOException {
        if (ModelFormats.isOnnx(file)) {
            if (arch.given()) {
                throw new IllegalArgumentException(file + " is an ONNX model, which records its network; leave "
                        + "--arch, --layers, --activation and --dropout out");
            }
            return ModelFormats.load(file, backend, allowNonFinite);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file, allowNonFinite)) {  // one open: one file's parts
            return load(f, backend, arch);
        }
    }

    private static SavedModel.Loaded load(SafeTensorsFile f, Backend backend, ArchitectureOptions arch)
            throws IOException {
        String file = f.file();
        if (f.metadata().containsKey(ModelFile.ARCHITECTURE_KEY)) {
            SavedModel.Loaded loaded = SavedModel.load(f, backend);
            try {
                checkNamed(file, loaded, arch.given() ? arch.forStateDict(f.shapes()) : null);
            } catch (RuntimeException e) {
                loaded.close();
                throw e;
            }
            return loaded;
        }
        if (!arch.given()) {
            throw new ModelFileException(file + ": no '" + ModelFile.ARCHITECTURE_KEY + "' in the metadata (a plain "
                    + "PyTorch state_dict?), so the network cannot be rebuilt from the file; name it with --arch cnn "
                    + "or --arch mlp [--layers SIZES] [--activation NAME] [--dropout P]");
        }
        Layer model = arch.forStateDict(f.shapes()).build(backend);
        try {
            return SavedModel.load(f, model);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Refuses a file that records another network than the one the architecture options name ({@code named}, or
     * null when they name none).
     */
    private static void checkNamed(String file, SavedModel.Loaded loaded, Architecture named) {
        if (named != null && !named.spec().equals(loaded.model().spec())) {
            throw new IllegalArgumentException(file + " records its network (" + Layers.describe(loaded.model()
                    .spec()) + "), which is not the one the architecture options name; leave --arch, --layers, "
                    + "--activation and --dropout out");
        }
    }

    Backend backend() {
        return backend;
    }

    SavedModel.Loaded loaded() {
        return loaded;
    }

    /** The task: {@code override} when given, else the file's. */
    Task task(String override) {
        return override != null ? Task.parse(override) : loaded.task();
    }

    /** The class names: the file's, else the data's, else null. */
    List<String> classNames(DataOptions.Loaded data) {
        return loaded.classNames() != null ? loaded.classNames() : data.classNames();
    }

    /**
     * The class {@value #POSITIVE_CLASS_KEY} records, read as the checkpoint's counters are ({@link StrictJson}'s
     * integer literal, here also in its one canonical form: digits only, no sign, space or leading zero), since the
     * file may come from anyone: a Fashion-MNIST class, the only data it is recorded for.
     *
     * @throws BackpropException naming the file and the value when it is anything else
     */
    static int positiveClass(Path file, String value) {
        BigInteger b = canonicalInteger(value);
        int classes = FashionMnist.CLASS_NAMES.size();
        if (b == null || b.signum() < 0 || b.compareTo(BigInteger.valueOf(classes)) >= 0) {
            throw new BackpropException(file + ": metadata " + POSITIVE_CLASS_KEY + " is not a class number in [0, "
                    + classes + ") written with digits only: " + value);
        }
        return b.intValue();
    }

    /**
     * {@code value} as {@link StrictJson}'s integer literal written in its one canonical form (as
     * {@link BigInteger#toString()} writes it), or null when it is anything else.
     */
    private static BigInteger canonicalInteger(String value) {
        BigInteger b;
        try {
            b = StrictJson.integer(StrictJson.parse(value));
        } catch (IOException e) {   // not even a JSON value
            return null;
        }
        return b != null && b.toString().equals(value) ? b : null;
    }

    /**
     * The test examples for this model, shaped as it takes them: {@code --positive-class} is the one the model was
     * trained for and, for regression, {@code --targets} its output count (another is refused), a single
     * {@code --csv} or {@code --images} is split by the seed the model records ({@link TestDataOptions#holdOutSeed})
     * and must have as many examples as that split ({@link TestDataOptions#checkSplitExamples}), and the data must
     * fit the model's input.
     */
    DataOptions.Loaded testData(TestDataOptions testData, Task task) {
        DataOptions options = testData.data;
        options.checkTaskOptions(task, task == loaded.task() ? file + "'s task, " + task.id()
                : "--task " + task.id());
        String k = loaded.metadata().get(POSITIVE_CLASS_KEY);
        if (k != null && task == Task.BINARY) {
            int trained = positiveClass(file, k);
            // the file's class names and its one output speak of that class; other labels would be scored as it
            if (options.positiveClass != null && options.positiveClass != trained) {
                throw new IllegalArgumentException("--positive-class " + options.positiveClass + " is not the class "
                        + file + " was trained to score against the rest, " + trained + ": leave it out or give "
                        + trained);
            }
            options.positiveClass = trained;
        }
        int outputs = outputs();
        if (task == Task.REGRESSION && loaded.task() == Task.REGRESSION && outputs > 0) {
            // each output of a regression model predicts one target column; another task's outputs are no count
            if (options.targetColumns != null && options.targetColumns != outputs) {
                throw new IllegalArgumentException("--targets " + options.targetColumns + " is not the number of "
                        + "targets " + file + " was trained to predict, " + outputs + ": leave it out or give "
                        + outputs);
            }
            options.targetColumns = outputs;
        }
        options.settleLabelColumn(loaded.metadata().get(SavedModel.LABEL_COLUMN_KEY), file);
        int[] images = imageShape();
        if (options.readsImages() && options.channels == null && images != null) {
            options.channels = images[0];
        }
        if (options.readsImages()) {
            options.modelTransform = imageTransform(options);
        }
        // after the model's other facts are judged; before any example is read
        String holdOut = loaded.metadata().get(HOLD_OUT_KEY);
        HoldOutSplit recorded = holdOut == null ? null : HoldOutSplit.parse(file, holdOut);
        long seed = testData.holdOutSeed(recorded == null ? null : recorded.seed(), file);
        DataOptions.Loaded d = options.loadTest(task, seed, loaded.classNames());
        testData.checkSplitExamples(recorded, d.holdOut(), file);  // before a shape or an example is judged
        if (d.imageShape() != null) {
            checkImageShape(d.imageShape(), "the test images are");
        }
        DataOptions.Loaded shaped = d.shaped(inputShape(d.test().featureShape(), "each test example has"));
        checkOutputs(task, shaped);
        if (recorded == null) {
            testData.warnUnrecorded(file);
        }
        return shaped;
    }

    /**
     * The {@code [C, H, W]} of the images the model was trained on: its {@value #IMAGE_SHAPE_KEY}, else its
     * {@link SavedModel#INPUT_SHAPE_KEY} when that has three dimensions, else null (not known).
     *
     * @throws BackpropException when the recorded shape is not a list of positive integers
     */
    int[] imageShape() {
        String key = loaded.metadata().containsKey(IMAGE_SHAPE_KEY) ? IMAGE_SHAPE_KEY : SavedModel.INPUT_SHAPE_KEY;
        String recorded = loaded.metadata().get(key);
        if (recorded == null) {
            return null;
        }
        int[] shape;
        try {
            shape = SavedModel.parseShape(recorded);
        } catch (IllegalArgumentException e) {
            throw new BackpropException(file + ": metadata " + key + ": " + e.getMessage(), e);
        }
        return shape.length == 3 ? shape : null;
    }

    /**
     * The resize and crop images are read with for this model: {@code --resize} and {@code --center-crop} when
     * given, else the model's {@value SavedModel#IMAGE_TRANSFORM_KEY} ({@link SavedModel#recordedImageTransform}),
     * else none. A model records the preprocessing it was trained with, so options that ask for another are refused;
     * a model that records none takes any.
     *
     * @throws IllegalArgumentException naming both when the options differ from the model's
     * @throws BackpropException        when the recorded transform cannot be read
     */
    ImageTransform imageTransform(DataOptions options) {
        ImageTransform own;
        try {
            own = SavedModel.recordedImageTransform(loaded.metadata());
        } catch (IllegalArgumentException e) {
            throw new BackpropException(file + ": " + e.getMessage(), e);
        }
        ImageTransform asked = options.askedTransform();
        if (asked != null && !own.isNone() && !asked.equals(own)) {
            throw new IllegalArgumentException("--resize and --center-crop ask for " + asked + ", but " + file
                    + " was trained on images read with " + own + "; leave them out to read images as it was");
        }
        return asked != null ? asked : own;
    }

    /**
     * Refuses images of {@code shape} ({@code [C, H, W]}) when the model was trained on images of another.
     *
     * @param what how a message names the images ({@code the test images are})
     */
    void checkImageShape(int[] shape, String what) {
        int[] own = imageShape();
        if (own != null && !Arrays.equals(own, shape)) {
            throw new IllegalArgumentException(what + " " + chw(shape) + " (CxHxW), but " + file + " takes images of "
                    + chw(own) + (own[0] != shape[0] ? "; --channels " + own[0] + " reads them with its channels"
                    : "; --resize and --center-crop bring images to one size"));
        }
    }

    private static String chw(int[] shape) {
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining("x"));
    }

    /**
     * The dimensions the model takes an example of {@code exampleShape} as.
     *
     * @param what how a message names the examples ({@code --row has})
     * @throws IllegalArgumentException when the model cannot take them
     */
    int[] inputShape(int[] exampleShape, String what) {
        LayerSpec spec = loaded.model().spec();
        int[] input;
        try {
            input = InputShape.of(spec, exampleShape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        if (TrainingSetup.takes(spec, input) == 0) {
            LayerSpec first = TrainingSetup.firstWeighted(spec);
            long values = Arrays.stream(exampleShape).asLongStream().reduce(1, (a, b) -> a * b);
            throw new IllegalArgumentException(what + " " + values + " values" + (exampleShape.length > 1 ? " "
                    + Arrays.toString(exampleShape) : "") + ", the model takes "
                    + (first.type().equals("dense") ? first.arg("in") + " features"
                    : "images of " + first.arg("in") + " channel(s)"));
        }
        return input;
    }

    /** The data's labels or targets must fit the network's outputs (a label past them would score as NaN). */
    private void checkOutputs(Task task, DataOptions.Loaded d) {
        int outputs = outputs();
        boolean fits = switch (task) {
            case CLASSIFICATION -> d.test().numClasses() <= outputs;
            case BINARY -> outputs == 1;
            case REGRESSION -> d.test().targetSize() == outputs;
        };
        if (!fits) {
            String data = switch (task) {
                case CLASSIFICATION -> "labels up to " + (d.test().numClasses() - 1);
                case BINARY -> "one 0/1 target";
                case REGRESSION -> d.test().targetSize() + " target column(s)";
            };
            throw new IllegalArgumentException(file + " has " + outputs + " output(s), which cannot score " + data
                    + " for --task " + task.id());
        }
    }

    /** The network's output width ({@link Layers#outputFeatures}), or -1 when unknown. */
    int outputs() {
        return Layers.outputFeatures(loaded.model().spec());
    }

    /** Prints what runs: backend, device and the model. */
    void describe(PrintWriter o, Task task) {
        o.println("backend: " + backend.name() + " on " + backend.device().describe());
        o.println("model:   " + DataFormatException.oneLine(file.toString()) + ": "
                + Layers.describe(loaded.model().spec()) + ", " + task.id() + ", " + loaded.model().parameterCount()
                + " parameters");
    }

    @Override
    public void close() {
        try {
            loaded.close();
        } finally {
            backend.close();
        }
    }
}
