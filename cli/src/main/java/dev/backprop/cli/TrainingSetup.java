package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.onnx.ModelFormats;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code train} trains: the network (fresh from a seed, from {@code --init} weights, or from a
 * {@code --resume} checkpoint together with the optimizer state and epoch count), its optimizer and schedule, and
 * the core {@link Trainer} that runs them. Owns the network and the optimizer state.
 *
 * @param model       the network
 * @param optimizer   its optimizer
 * @param trainer     the trainer, its epoch count restored from a {@code --resume} checkpoint
 * @param description the network in words, e.g. {@code 784-256-128-10 relu}
 */
record TrainingSetup(Layer model, Optimizer optimizer, Trainer trainer, String description) implements AutoCloseable {
    /** Examples per evaluation batch (evaluation is not timed; large batches keep it quick). */
    static final int EVAL_BATCH = 1000;

    /**
     * Builds the network, optimizer and trainer for {@code cmd}'s settings on {@code backend}.
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
            model = cmd.modelOptions.mlp(inputs, outputs, cmd.seed).build(backend);
        } else {
            SavedModel.Loaded loaded = ModelFormats.load(file, backend);
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
            Trainer trainer = Trainer.builder(model, task.loss(), opt).schedule(schedule).batchSize(cmd.batchSize)
                    .seed(cmd.seed).clipGradNorm(cmd.clipNorm).evaluationBatchSize(EVAL_BATCH).trackAccuracy(false)
                    .build();
            if (cmd.resume != null) {
                trainer.restoreCheckpoint(cmd.resume);
                if (trainer.epoch() >= cmd.epochs) {
                    throw new IllegalArgumentException(cmd.resume + ": the checkpoint already has " + trainer.epoch()
                            + " epoch(s); --epochs counts all epochs, so ask for more than " + trainer.epoch());
                }
            }
            return new TrainingSetup(model, opt, trainer, description);
        } catch (IOException | RuntimeException e) {
            if (opt != null) {
                opt.close();
            }
            model.close();
            throw e;
        }
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
                && !java.util.Arrays.equals(cmd.modelOptions.layerSizes(), sizes)) {
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

    /** Frees the optimizer state and the network. */
    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
