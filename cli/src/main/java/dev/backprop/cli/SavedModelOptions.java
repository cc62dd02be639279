package dev.backprop.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How {@code eval} and {@code predict} open a saved model (mixed in with {@code @Mixin}): the backend it runs on and
 * that backend's threads, the network a plain PyTorch {@code state_dict} is loaded into, whether weights with NaN or
 * infinities are accepted, and the task when the file's is overridden. The file itself ({@code --model}) each
 * command declares, with its own description. {@link ModelSession#open} reads them.
 */
final class SavedModelOptions {
    @Mixin
    BackendSelectionOption selection;

    @Mixin
    ArchitectureOptions architecture;

    @Mixin
    CpuThreadsOption threads;

    @Option(names = "--allow-non-finite",
            description = "Load a model whose weights hold NaN or infinities (with a warning) instead of refusing it.")
    boolean allowNonFinite;

    @Option(names = "--task", paramLabel = "TASK",
            description = "Override the task stored in the file: classification, binary or regression.")
    String task;
}
