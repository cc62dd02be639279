package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.io.ModelFile;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.loss.Loss;
import dev.backprop.model.InputShape;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Architecture;
import dev.backprop.nn.Layer;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;
import dev.backprop.onnx.ModelFormats;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What {@code train} trains: the network (fresh from a seed, from {@code --init} weights, or from a
 * {@code --resume} checkpoint together with the optimizer state and epoch count), its optimizer and schedule, the
 * core {@link Trainer} that runs them, and the data shaped as the network takes it. Owns the network and the
 * optimizer state.
 *
 * @param model       the network
 * @param loss        the loss it trains with, which also scores the test set ({@link LossOptions})
 * @param optimizer   its optimizer
 * @param trainer     the trainer, its epoch count restored from a {@code --resume} checkpoint (at most
 *                    {@code --epochs}: equal when that run ended between its last checkpoint and its final save)
 * @param description the network in words, e.g. {@code 784-256-128-10 relu} ({@link Layers#describe})
 * @param data        the data, its examples shaped as the network takes them ({@code [1, 28, 28]} for the CNN)
 */
record TrainingSetup(Layer model, Loss loss, Optimizer optimizer, Trainer trainer, String description,
                     DataOptions.Loaded data)
        implements AutoCloseable {
    /** Examples per evaluation batch (evaluation is not timed; large batches keep it quick). */
    static final int EVAL_BATCH = 1000;

    /** The refusal of a file ({@code --resume}, {@code --init}) holding a network of another task than the run's. */
    static IllegalArgumentException otherTask(Path file, Task held, Task task) {
        return new IllegalArgumentException(file + " holds a " + held.id() + " model; this run trains for --task "
                + task.id());
    }

    /**
     * Builds the network, optimizer and trainer for {@code cmd}'s settings on {@code backend}. A file that records
     * its architecture (a Backprop model or checkpoint) brings its own network, which the architecture options must
     * then match if given; a plain PyTorch {@code state_dict} ({@code --init}) is loaded into the network the options
     * build.
     *
     * @param resumed the open {@code --resume} checkpoint, or null: the network and the restored state both come from
     *                it, never from its path opened again
     * @throws IllegalArgumentException when the network does not fit the data or the settings contradict a file
     * @throws IOException              when a model or checkpoint file cannot be read or does not fit
     */
    static TrainingSetup create(TrainCommand cmd, Task task, DataOptions.Loaded data, Backend backend,
                                SafeTensorsFile resumed) throws IOException {
        int[] exampleShape = data.train().featureShape();
        int outputs = task.outputs(data.train());
        Path file = cmd.resume != null ? cmd.resume : cmd.init;
        boolean ownNetwork = resumed != null ? resumed.metadata().containsKey(ModelFile.ARCHITECTURE_KEY)
                : file != null && (ModelFormats.isOnnx(file)
                || SavedModel.metadata(file).containsKey(ModelFile.ARCHITECTURE_KEY));
        Layer model;
        if (ownNetwork) {
            // --init draws the masks of this run's --seed, as a fresh network would; --resume restores the streams.
            SavedModel.Loaded loaded = resumed != null ? SavedModel.load(resumed, backend)
                    : ModelFormats.load(file, backend, false, cmd.seed);
            model = loaded.model();
            if (loaded.task() != task) {
                model.close();
                throw otherTask(file, loaded.task(), task);
            }
        } else {
            model = cmd.modelOptions.architecture(exampleShape, outputs, cmd.seed).build(backend);
        }
        Optimizer opt = null;
        try {
            if (cmd.init != null && !ownNetwork) {
                ModelFile.loadInto(cmd.init, model);
            }
            String description = Layers.describe(model.spec());
            int[] input = checkFits(cmd, model.spec(), exampleShape, outputs, ownNetwork ? file : null,
                    description);
            Loss loss = cmd.lossOptions.loss(task, data.train());
            opt = cmd.optimizerOptions.create(model.parameters());
            LearningRateSchedule schedule = cmd.optimizerOptions.schedule(opt, cmd.epochs);
            Trainer.Builder builder = Trainer.builder(model, loss, opt).schedule(schedule);
            if (cmd.optimizerOptions.onPlateau()) {
                // Stepped by EpochLines with the held-out value: fit's validation set is the test set.
                builder.plateau(cmd.optimizerOptions.plateau(opt, cmd.validationOptions.plateauMode()), null);
            }
            Trainer trainer = builder.batchSize(cmd.batchSize)
                    .seed(cmd.seed).clipGradNorm(cmd.clipNorm).evaluationBatchSize(EVAL_BATCH).trackAccuracy(false)
                    .augmentation(cmd.augmentOptions.augmentation()).build();
            if (resumed != null) {
                trainer.restoreCheckpoint(resumed);  // refuses a file without an architecture: not a checkpoint
                if (schedule == null && !cmd.optimizerOptions.onPlateau()) {
                    // The rate ResumedRun settled on: the checkpoint's, or a new --lr.
                    opt.setLearningRate(cmd.optimizerOptions.learningRate());
                }
                if (trainer.epoch() > cmd.epochs) {
                    throw new IllegalArgumentException(cmd.resume + ": the checkpoint already has " + trainer.epoch()
                            + " epochs, more than --epochs " + cmd.epochs + " (--epochs counts all epochs): ask for "
                            + "more than " + trainer.epoch() + " to train on, or --epochs " + trainer.epoch() + " to "
                            + "save its model to --out; eval, predict and export also read the checkpoint as it is");
                }
            }
            return new TrainingSetup(model, loss, opt, trainer, description, data.shaped(input));
        } catch (IOException | RuntimeException e) {
            if (opt != null) {
                opt.close();
            }
            model.close();
            throw e;
        }
    }

    /**
     * Checks that the network takes the data's examples and gives the task's outputs, and, for a network from
     * {@code file}, that architecture options given name that network; returns the dimensions each example is
     * given to it as.
     */
    private static int[] checkFits(TrainCommand cmd, LayerSpec spec, int[] exampleShape, int outputs, Path file,
                                   String description) {
        String what = (file == null ? "the model" : file.toString()) + " (" + description + ")";
        int[] input;
        try {
            input = InputShape.of(spec, exampleShape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " does not fit the data: " + e.getMessage(), e);
        }
        int takes = takes(spec, input);
        int gives = Layers.outputFeatures(spec);
        if (takes == 0 || gives >= 0 && gives != outputs) {
            throw new IllegalArgumentException(what + " does not fit the data: it has " + Arrays.toString(input)
                    .replace(", ", "x").replaceAll("[\\[\\]]", "") + " features and the task needs " + outputs
                    + " output(s)");
        }
        if (file != null && cmd.modelOptions.given()) {
            Architecture named = cmd.modelOptions.architecture(exampleShape, outputs, cmd.seed);
            if (!named.spec().equals(spec)) {
                throw new IllegalArgumentException(architectureOptions(cmd) + " differs from the model in " + file
                        + " (" + description + "); leave " + (architectureOptions(cmd).contains(" --") ? "them" : "it")
                        + " out to use the file's");
            }
        }
        return input;
    }

    /** The architecture options given, as typed ({@code --layers 4-16-3}). */
    private static String architectureOptions(TrainCommand cmd) {
        StringBuilder sb = new StringBuilder();
        ArchitectureOptions a = cmd.modelOptions;
        for (String[] o : new String[][] {{"--arch", a.arch}, {"--layers", a.layers}, {"--activation", a.activation},
                {"--dropout", a.dropout}}) {
            if (o[1] != null) {
                sb.append(sb.length() == 0 ? "" : " ").append(o[0]).append(' ').append(o[1]);
            }
        }
        return sb.toString();
    }

    /**
     * 1 when the network's first weighted layer takes examples of dimensions {@code input}, 0 when it does not,
     * -1 when that is not known before running it.
     */
    static int takes(LayerSpec spec, int[] input) {
        LayerSpec first = firstWeighted(spec);
        if (first == null) {
            return -1;
        }
        if (first.type().equals("dense")) {
            return Arrays.stream(input).asLongStream().reduce(1, (a, b) -> a * b) == first.arg("in") ? 1 : 0;
        }
        if (first.type().equals("conv2d")) {
            return input.length == 3 && input[0] == first.arg("in") ? 1 : 0;
        }
        return -1;
    }

    /** The network's first dense or convolution layer, or null. */
    static LayerSpec firstWeighted(LayerSpec spec) {
        for (LayerSpec l : spec.layers().isEmpty() ? java.util.List.of(spec) : spec.layers()) {
            if (l.type().equals("dense") || l.type().equals("conv2d")) {
                return l;
            }
        }
        return null;
    }

    /** Frees the optimizer state and the network. */
    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
