package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.io.Checkpoint;
import dev.backprop.loss.Loss;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code train} trains: the network (fresh from a seed, from {@code --init} weights, or from a
 * {@code --resume} checkpoint together with the optimizer state and epoch count), its loss, optimizer and schedule.
 * Owns the network and the optimizer state.
 */
final class TrainingSetup implements AutoCloseable {
    /** Checkpoint counter keys, the same {@link dev.backprop.train.Trainer} stores, so either can resume the other's. */
    static final String EPOCH = "epoch";
    static final String SEED = "seed";
    static final String BATCH_SIZE = "batch_size";

    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final int epochsDone;
    private final String description;
    private final Task task;
    private final List<String> classNames;

    private TrainingSetup(Layer model, Task task, List<String> classNames, Optimizer optimizer,
                          LearningRateSchedule schedule, int epochsDone, String description) {
        this.model = model;
        this.task = task;
        this.classNames = classNames;
        this.loss = task.loss();
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.epochsDone = epochsDone;
        this.description = description;
    }

    /**
     * Builds the network and optimizer for {@code cmd}'s settings on {@code backend}.
     *
     * @throws IllegalArgumentException when the network does not fit the data or the settings contradict a file
     * @throws IOException              when a model or checkpoint file cannot be read or does not fit
     */
    static TrainingSetup create(TrainCommand cmd, Task task, DataOptions.Loaded data, Backend backend)
            throws IOException {
        int inputs = data.train().featureSize();
        int outputs = task.outputs(data.train());
        Path file = cmd.resume != null ? cmd.resume : cmd.init;
        Layer model;
        if (file == null) {
            model = cmd.modelOptions.build(backend, cmd.modelOptions.sizes(inputs, outputs), cmd.seed);
        } else {
            SavedModel.Loaded loaded = SavedModel.load(file, backend);
            model = loaded.model();
            if (loaded.task() != task) {
                model.close();
                throw new IllegalArgumentException(file + " holds a " + loaded.task().id() + " model; this run "
                        + "trains for --task " + task.id());
            }
        }
        Optimizer opt = null;
        try {
            String description = describe(model.spec());
            checkFits(cmd, model.spec(), inputs, outputs, file, description);
            opt = cmd.optimizerOptions.create(model.parameters());
            LearningRateSchedule schedule = cmd.optimizerOptions.schedule(opt, cmd.epochs);
            int done = cmd.resume == null ? 0 : restore(cmd, model, opt, schedule);
            return new TrainingSetup(model, task, data.classNames(), opt, schedule, done, description);
        } catch (IOException | RuntimeException e) {
            if (opt != null) {
                opt.close();
            }
            model.close();
            throw e;
        }
    }

    private static int restore(TrainCommand cmd, Layer model, Optimizer opt, LearningRateSchedule schedule)
            throws IOException {
        Map<String, Long> p = Checkpoint.restore(cmd.resume, model, opt, schedule, progress -> {
            Long e = progress.get(EPOCH), s = progress.get(SEED), bs = progress.get(BATCH_SIZE);
            if (e == null || s == null || bs == null || e < 0 || e > Integer.MAX_VALUE) {
                return "not a checkpoint of 'backprop train' (progress counters " + progress + ")";
            }
            if (s != cmd.seed || bs != cmd.batchSize) {
                return "the checkpoint was trained with --seed " + s + " --batch-size " + bs + ", this run asks for "
                        + "--seed " + cmd.seed + " --batch-size " + cmd.batchSize + "; resume with the same settings";
            }
            if (e >= cmd.epochs) {
                return "the checkpoint already has " + e + " epoch(s); --epochs counts all epochs, so ask for more "
                        + "than " + e;
            }
            return null;
        });
        return Math.toIntExact(p.get(EPOCH));
    }

    private static void checkFits(TrainCommand cmd, LayerSpec spec, int inputs, int outputs, Path file,
                                  String description) {
        int[] sizes = sizes(spec);
        if (sizes.length < 2 || sizes[0] != inputs || sizes[sizes.length - 1] != outputs) {
            throw new IllegalArgumentException((file == null ? "the model" : file.toString()) + " (" + description
                    + ") does not fit the data: it has " + inputs + " features and the task needs " + outputs
                    + " output(s)");
        }
        if (file != null && cmd.modelOptions.layers != null
                && !java.util.Arrays.equals(ModelOptions.parseSizes(cmd.modelOptions.layers), sizes)) {
            throw new IllegalArgumentException("--layers " + cmd.modelOptions.layers + " differs from the model in "
                    + file + " (" + description + "); leave --layers out to use the file's");
        }
    }

    /** The dense sizes from input to output of a sequential spec (empty when it has no dense layers). */
    static int[] sizes(LayerSpec spec) {
        List<Integer> s = new ArrayList<>();
        for (LayerSpec l : spec.layers().isEmpty() ? List.of(spec) : spec.layers()) {
            if (l.type().equals("dense")) {
                if (s.isEmpty()) {
                    s.add(l.arg("in"));
                }
                s.add(l.arg("out"));
            }
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code 784-256-128-10 relu}: the dense sizes and the first activation between them. */
    static String describe(LayerSpec spec) {
        String act = spec.layers().stream().map(LayerSpec::type)
                .filter(t -> !t.equals("dense") && !t.equals("flatten")).findFirst().orElse("linear");
        StringBuilder sb = new StringBuilder();
        for (int v : sizes(spec)) {
            sb.append(sb.length() == 0 ? "" : "-").append(v);
        }
        return sb.append(' ').append(act).toString();
    }

    /** Writes a checkpoint after epoch {@code epoch}, with {@code facts} in its metadata. */
    void saveCheckpoint(Path path, int epoch, long seed, int batchSize, Map<String, String> facts)
            throws IOException {
        SavedModel.saveCheckpoint(path, model, optimizer, schedule,
                Map.of(EPOCH, (long) epoch, SEED, seed, BATCH_SIZE, (long) batchSize), task, classNames, facts);
    }

    Layer model() {
        return model;
    }

    Loss loss() {
        return loss;
    }

    Optimizer optimizer() {
        return optimizer;
    }

    /** The schedule, or null for a constant learning rate. */
    LearningRateSchedule schedule() {
        return schedule;
    }

    /** Epochs already trained (from a checkpoint), 0 for a new run. */
    int epochsDone() {
        return epochsDone;
    }

    /** The network in words, e.g. {@code 784-256-128-10 relu}. */
    String description() {
        return description;
    }

    /** Frees the optimizer state and the network. */
    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
