package dev.backprop.cli;

import dev.backprop.runtime.Backends;
import picocli.CommandLine.Option;

import java.util.Locale;

/**
 * The {@code --backend NAME} option, shared by every subcommand that runs on a backend (mixed in with
 * {@code @Mixin}). The option counts as "named in code": it wins over the system property
 * {@code backprop.backend}, which wins over the environment variable {@code BACKPROP_BACKEND}.
 */
public final class BackendSelectionOption {
    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend to use (cpu, opencl, cuda, or auto). Default: -Dbackprop.backend, then "
                    + "$BACKPROP_BACKEND, then automatic selection.")
    String backend;

    /** The name asked for on the command line, or null when absent or {@code auto}. */
    public String commandLineName() {
        if (backend == null || backend.isBlank() || backend.trim().equalsIgnoreCase("auto")) {
            return null;
        }
        return backend.trim().toLowerCase(Locale.ROOT);
    }

    /** The name in force (command line, then configuration), or null for automatic selection. */
    public String requestedName(Backends.Registry registry) {
        String n = commandLineName();
        return n != null ? n : registry.configuredName();
    }

    /** Where {@link #requestedName} came from, for messages; null for automatic selection. */
    public String requestSource(Backends.Registry registry) {
        if (commandLineName() != null) {
            return "--backend";
        }
        if (registry.configuredName() == null) {
            return null;
        }
        String prop = System.getProperty("backprop.backend");
        return prop != null && !prop.isBlank() ? "system property backprop.backend"
                : "environment variable BACKPROP_BACKEND";
    }
}
