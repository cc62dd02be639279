package dev.backprop.cli;

import picocli.CommandLine.Option;

import java.util.Map;

/**
 * The {@code --threads N} option of {@code train}, {@code eval} and {@code predict} (mixed in with {@code @Mixin}):
 * the cpu backend's worker threads, its {@code threads} backend option. {@code train} describes it with what it
 * means there under {@code --spark} (in {@code Train.properties}). The upper bound is the backend's to check, on the
 * machine whose processors it counts: a {@code --spark} rank may run on another.
 */
final class CpuThreadsOption {
    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the cpu backend, at most 4 per available processor.")
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

    /** The backend option this sets ({@code threads}), or none when not given; checked like {@link #count}. */
    Map<String, String> backendOptions() {
        Integer n = count();
        return n == null ? Map.of() : Map.of("threads", Integer.toString(n));
    }
}
