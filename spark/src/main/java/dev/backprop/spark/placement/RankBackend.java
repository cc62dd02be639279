package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceType;
import dev.backprop.runtime.Backends;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * A rank's backend, chosen by core's {@link Backends} like any other: the backend the spec names, or automatic
 * selection for {@code auto} (which ranks, falls back and logs under {@code backprop.fallback} as everywhere). What
 * Spark gave the task goes in as options: the first GPU it assigned (resource {@code gpu}, set up with
 * {@code spark.executor.resource.gpu.*} and {@code spark.task.resource.gpu.amount}) as the {@code device}, and
 * {@code spark.task.cpus} (or the explicit thread count) as the cpu backend's {@code threads}.
 *
 * <p>A backend that does not open is tried once more after {@link #RETRY_WAIT}, in the same task: Spark does not
 * rerun the stage for it (a rerun would land on the same executors), and the executor that replaces a lost one may
 * start on a node whose GPU the lost one's process still holds while the driver releases it (a GPU in exclusive
 * process mode refuses a second context meanwhile, and its memory may still be taken). A name that no backend on
 * the class path has is not retried, nor a backend whose probe finds no library, driver or device (nor, for
 * {@code auto}, any backend's probe that does).
 */
public final class RankBackend {
    /** How long a rank waits before its one retry of a backend that did not open. */
    public static final Duration RETRY_WAIT = Duration.ofSeconds(5);

    private static final Logger LOG = Logger.getLogger(RankBackend.class.getName());

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
     * Opens the backend, trying once more after {@link #RETRY_WAIT} when it does not open.
     *
     * @param requested a backend name, or {@code auto} (or null) for automatic selection
     * @param gpus      the GPU addresses Spark assigned to the task (empty when none)
     * @param taskCpus  {@code spark.task.cpus}
     * @param threads   explicit cpu threads, or null to follow {@code taskCpus}
     * @throws IllegalArgumentException    for a GPU address that is not a device index
     * @throws BackendUnavailableException with the registry's reason when nothing suitable can start, on the retry
     *                                     too (or at once for a name no backend has)
     */
    public static Opened open(Backends.Registry registry, String requested, List<String> gpus, int taskCpus,
                              Integer threads) {
        return open(registry, requested, gpus, taskCpus, threads, RETRY_WAIT);
    }

    /** As {@link #open(Backends.Registry, String, List, int, Integer)}, retrying after {@code retryWait}. */
    static Opened open(Backends.Registry registry, String requested, List<String> gpus, int taskCpus,
                       Integer threads, Duration retryWait) {
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
        BackendOptions opts = BackendOptions.of(options);
        String retried = "";
        Backend backend;
        try {
            if (!name.equalsIgnoreCase("auto")) {
                registry.checkKnown(name);  // no retry finds a provider that is not on the class path
            }
            try {
                backend = registry.create(name, opts);
            } catch (BackendUnavailableException first) {
                if (!mayPass(registry, name)) {
                    throw first;
                }
                LOG.warning(why + ", but: " + first.getMessage() + "; trying once more in " + seconds(retryWait));
                backend = retry(registry, name, opts, retryWait, first);
                retried = " on a retry after " + seconds(retryWait) + " (the first try: " + first.getMessage() + ")";
            }
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException(why + ", but: " + e.getMessage(), e);
        }
        boolean host = backend.device().type() == DeviceType.CPU;
        return new Opened(backend, why + "; " + backend.name() + " chosen" + retried, host ? cpuThreads : 0);
    }

    /**
     * Whether a retry may open {@code name} (or, for {@code auto}, the backend selection would pick): when every
     * provider it concerns probes as available, the failure came from opening the device (held by another process,
     * its memory taken) and may pass; a probe that finds no library, driver or device will find none 5 s later.
     */
    private static boolean mayPass(Backends.Registry registry, String name) {
        boolean auto = name.equalsIgnoreCase("auto");
        return registry.probeAll().stream().filter(s -> auto || s.provider().name().equalsIgnoreCase(name))
                .allMatch(s -> s.probe().available());
    }

    /**
     * The backend {@code name} created after {@code wait}, once {@code first} said why it did not open.
     *
     * @throws BackendUnavailableException with the retry's reason and, when it differs, the first one's; the first
     *                                     as it was when the wait is interrupted (Spark kills the task)
     */
    private static Backend retry(Backends.Registry registry, String name, BackendOptions options, Duration wait,
                                 BackendUnavailableException first) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw first;
        }
        try {
            return registry.create(name, options);
        } catch (BackendUnavailableException again) {
            String earlier = again.getMessage().equals(first.getMessage()) ? "the same on a retry after "
                    + seconds(wait) : "on a retry after " + seconds(wait) + "; the first try: " + first.getMessage();
            BackendUnavailableException e = new BackendUnavailableException(again.getMessage() + " (" + earlier + ")",
                    again);
            e.addSuppressed(first);
            throw e;
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String deviceIndex(String address) {
        if (!address.trim().matches("\\d+")) {
            throw new IllegalArgumentException("Spark assigned GPU address '" + address + "', which is not a device "
                    + "index; make the GPU discovery script report indices (0, 1, ...) as the executor sees them");
        }
        return address.trim();
    }
}
