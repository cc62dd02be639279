package dev.backprop.cli;

import dev.backprop.model.Task;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * How {@code eval} and {@code predict} open a saved model (mixed in with {@code @Mixin}): the backend it runs on and
 * that backend's threads, the network a plain PyTorch {@code state_dict} is loaded into, whether weights with NaN or
 * infinities are accepted, and the task when the file's is overridden. The file itself ({@code --model}) each
 * command declares, with its own description.
 */
final class SavedModelOptions {
    @Mixin
    BackendSelectionOption selection;

    @Mixin
    ArchitectureOptions architecture;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads of the cpu backend.")
    Integer threads;

    @Option(names = "--allow-non-finite",
            description = "Load a model whose weights hold NaN or infinities (with a warning) instead of refusing it.")
    boolean allowNonFinite;

    @Option(names = "--task", paramLabel = "TASK",
            description = "Override the task stored in the file: classification, binary or regression.")
    String task;

    /**
     * Opens the model in {@code file} as these options say.
     *
     * @throws dev.backprop.backend.BackpropException when the backend is unavailable or the file is not a model
     */
    ModelSession open(Path file) {
        return ModelSession.open(selection, threads, file, allowNonFinite, architecture);
    }

    /** The task of {@code session}'s model: {@code --task} when given, else the file's. */
    Task task(ModelSession session) {
        return session.task(task);
    }
}
