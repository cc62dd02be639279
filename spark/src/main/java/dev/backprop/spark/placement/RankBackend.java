package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceType;
import dev.backprop.runtime.Backends;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A rank's backend, chosen by core's {@link Backends} like any other: the backend the spec names, or automatic
 * selection for {@code auto} (which ranks, falls back and logs under {@code backprop.fallback} as everywhere). What
 * Spark gave the task goes in as options: the first GPU it assigned (resource {@code gpu}, set up with
 * {@code spark.executor.resource.gpu.*} and {@code spark.task.resource.gpu.amount}) as the {@code device}, and
 * {@code spark.task.cpus} (or the explicit thread count) as the cpu backend's {@code threads}.
 */
public final class RankBackend {
    private RankBackend() {
    }

    /**
     * A backend opened for a rank.
     *
     * @param backend the backend (the caller closes it)
     * @param reason  what was asked for and what Spark assigned, for the rank's report
     * @param threads the cpu threads it runs with when it computes on the host, else 0
     */
    public record Opened(Backend backend, String reason, int threads) {
    }

    /**
     * Opens the backend.
     *
     * @param requested a backend name, or {@code auto} (or null) for automatic selection
     * @param gpus      the GPU addresses Spark assigned to the task (empty when none)
     * @param taskCpus  {@code spark.task.cpus}
     * @param threads   explicit cpu threads, or null to follow {@code taskCpus}
     * @throws IllegalArgumentException    for a GPU address that is not a device index
     * @throws BackendUnavailableException with the registry's reason when nothing suitable can start
     */
    public static Opened open(Backends.Registry registry, String requested, List<String> gpus, int taskCpus,
                              Integer threads) {
        int cpuThreads = threads != null ? threads : Math.max(1, taskCpus);
        Map<String, String> options = new LinkedHashMap<>();
        options.put("threads", Integer.toString(cpuThreads));
        String gpu = gpus.isEmpty() ? null : deviceIndex(gpus.get(0));
        if (gpu != null) {
            options.put("device", gpu);
        }
        String name = requested == null || requested.isBlank() ? "auto" : requested.trim();
        String why = name + " requested; " + (gpu == null ? "no GPU assigned to this task by Spark"
                : "Spark assigned GPU " + gpu + " to this task (device " + gpu + ")") + "; cpu threads " + cpuThreads
                + " (" + (threads != null ? "--threads" : "spark.task.cpus=" + taskCpus) + ")";
        Backend backend;
        try {
            backend = registry.create(name, BackendOptions.of(options));
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException(why + ", but: " + e.getMessage(), e);
        }
        boolean host = backend.device().type() == DeviceType.CPU;
        return new Opened(backend, why + "; " + backend.name() + " chosen", host ? cpuThreads : 0);
    }

    private static String deviceIndex(String address) {
        if (!address.trim().matches("\\d+")) {
            throw new IllegalArgumentException("Spark assigned GPU address '" + address + "', which is not a device "
                    + "index; make the GPU discovery script report indices (0, 1, ...) as the executor sees them");
        }
        return address.trim();
    }
}
