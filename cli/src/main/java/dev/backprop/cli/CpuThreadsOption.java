package dev.backprop.cli;

import dev.backprop.cpu.CpuBackend;
import picocli.CommandLine.Option;

import java.util.Map;

/**
 * The {@code --threads N} option of {@code train}, {@code eval} and {@code predict} (mixed in with {@code @Mixin}):
 * the cpu backend's worker threads, its {@code threads} backend option. {@code train} describes it with what it
 * means there under {@code --spark} (in {@code Train.properties}). A run on this machine, or on a {@code --spark}
 * master of this machine ({@code local}, {@code local-cluster}), checks the upper bound with the backend's own check
 * before anything is read; on a cluster a rank's backend checks it on the machine whose processors it counts.
 */
final class CpuThreadsOption {
    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the cpu backend: at most 4 per available processor, or 64 where that "
                    + "is fewer.")
    Integer threads;

    /**
     * The count given, or null for the backend's own.
     *
     * @throws IllegalArgumentException when it is below 1
     */
    Integer count() {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        return threads;
    }

    /**
     * The backend option this sets ({@code threads}) for a backend on this machine, or none when not given.
     *
     * @throws IllegalArgumentException when the count is below 1, or above what the cpu backend takes on this
     *                                  machine ({@link CpuBackend#checkThreads})
     */
    Map<String, String> backendOptions() {
        Integer n = count();
        return n == null ? Map.of() : Map.of("threads", Integer.toString(CpuBackend.checkThreads("--threads", n)));
    }
}
