package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.onnx.ModelFormats;
import dev.backprop.runtime.Backends;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A saved model opened on a backend, for {@code eval} and {@code predict}: the backend (chosen like
 * {@code train}'s), the network rebuilt from the file, its task and class names. Closing frees both.
 */
final class ModelSession implements AutoCloseable {
    /** Metadata key {@code train} writes for binary Fashion-MNIST runs: the class scored against the rest. */
    static final String POSITIVE_CLASS_KEY = "backprop.positive_class";

    private final Backend backend;
    private final SavedModel.Loaded loaded;
    private final Path file;

    private ModelSession(Backend backend, SavedModel.Loaded loaded, Path file) {
        this.backend = backend;
        this.loaded = loaded;
        this.file = file;
    }

    /**
     * Opens {@code file} on the backend {@code selection} names (or the automatic choice); weights that hold NaN
     * or infinities are refused unless {@code allowNonFinite}.
     *
     * @throws BackpropException when the backend is unavailable or the file cannot be read or is not a model
     */
    static ModelSession open(BackendSelectionOption selection, Integer threads, Path file, boolean allowNonFinite) {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        BackendOptions options = threads == null ? BackendOptions.defaults()
                : BackendOptions.of(Map.of("threads", Integer.toString(threads)));
        Backend backend = Backends.create(selection.commandLineName(), options);
        try {
            return new ModelSession(backend, ModelFormats.load(file, backend, allowNonFinite), file);
        } catch (IOException e) {
            backend.close();
            throw new BackpropException(e.getMessage(), e);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
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
     * The test examples for this model: {@code --positive-class} defaults to the one the model was trained for,
     * and the data must fit the model's input width.
     */
    DataOptions.Loaded testData(DataOptions options, Task task, long seed) {
        String k = loaded.metadata().get(POSITIVE_CLASS_KEY);
        if (options.positiveClass == null && k != null && task == Task.BINARY) {
            try {
                options.positiveClass = Integer.parseInt(k);
            } catch (NumberFormatException e) {
                throw new BackpropException(file + ": metadata " + POSITIVE_CLASS_KEY + " is not a class number: " + k);
            }
        }
        DataOptions.Loaded d = options.loadTest(task, seed);
        int inputs = inputs();
        if (d.test().featureSize() != inputs) {
            throw new IllegalArgumentException(file + " takes " + inputs + " features per example, the test data "
                    + "has " + d.test().featureSize());
        }
        checkOutputs(task, d);
        return d;
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

    /** The network's input width. */
    int inputs() {
        int[] sizes = TrainingSetup.sizes(loaded.model().spec());
        return sizes.length == 0 ? -1 : sizes[0];
    }

    /** The network's output width. */
    int outputs() {
        int[] sizes = TrainingSetup.sizes(loaded.model().spec());
        return sizes.length == 0 ? -1 : sizes[sizes.length - 1];
    }

    /** Prints what runs: backend, device and the model. */
    void describe(PrintWriter o, Task task) {
        o.println("backend: " + backend.name() + " on " + backend.device().describe());
        o.println("model:   " + file + ": " + TrainingSetup.describe(loaded.model().spec()) + ", " + task.id()
                + ", " + loaded.model().parameterCount() + " parameters");
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
