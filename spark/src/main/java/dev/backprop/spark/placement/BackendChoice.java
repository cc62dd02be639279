package dev.backprop.spark.placement;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.runtime.Backends;
import dev.backprop.runtime.FallbackPolicy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which backend a rank runs on, decided from the request ({@code auto}, {@code cpu}, {@code cuda},
 * {@code opencl}) and what Spark gave the task: its GPU addresses (resource {@code gpu}, set up with
 * {@code spark.executor.resource.gpu.*} and {@code spark.task.resource.gpu.amount}) and its CPU count
 * ({@code spark.task.cpus}).
 *
 * <ul>
 *   <li>{@code auto}: {@code cuda} on the first GPU Spark assigned ({@code backprop.cuda.device} = its address),
 *       otherwise {@code cpu}.</li>
 *   <li>{@code cpu}: worker threads = {@code spark.task.cpus} (or the explicit thread count).</li>
 *   <li>{@code cuda} / {@code opencl}: the assigned GPU when there is one, else the backend's default device.</li>
 * </ul>
 * When {@code auto} chose {@code cuda} and it cannot start, the rank falls back to {@code cpu} under
 * {@code backprop.fallback=allow|warn} (the report says so) and fails under {@code fail}. An explicit name is
 * never replaced.
 *
 * @param requested what was asked for
 * @param backend   the backend chosen
 * @param options   its options ({@code threads} for cpu, {@code device} for a GPU)
 * @param reason    why, for the rank's report
 */
public record BackendChoice(String requested, String backend, Map<String, String> options, String reason) {
    /** Copies the options. */
    public BackendChoice {
        options = Map.copyOf(options);
    }

    /**
     * Decides without creating anything.
     *
     * @param gpus     the GPU addresses Spark assigned to the task (empty when none)
     * @param taskCpus {@code spark.task.cpus}
     * @param threads  explicit cpu threads, or null to follow {@code taskCpus}
     * @throws IllegalArgumentException for an unknown name, or a GPU address that is not a device index
     */
    public static BackendChoice decide(String requested, List<String> gpus, int taskCpus, Integer threads) {
        String r = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
        int cpuThreads = threads != null ? threads : Math.max(1, taskCpus);
        String cpuWhy = cpuThreads + " thread(s) (" + (threads != null ? "--threads" : "spark.task.cpus=" + taskCpus)
                + ")";
        String gpu = gpus.isEmpty() ? null : gpus.get(0);
        switch (r) {
            case "auto":
                if (gpu != null) {
                    return new BackendChoice(r, "cuda", Map.of("device", deviceIndex(gpu)),
                            "auto: Spark assigned GPU " + gpu + " to this task, so cuda on device " + gpu);
                }
                return cpu(r, cpuThreads, "auto: no GPU assigned to this task by Spark, so cpu with " + cpuWhy);
            case "cpu":
                return cpu(r, cpuThreads, "cpu requested; " + cpuWhy);
            case "cuda":
            case "opencl":
                if (gpu != null) {
                    return new BackendChoice(r, r, Map.of("device", deviceIndex(gpu)),
                            r + " requested; Spark assigned GPU " + gpu + " to this task");
                }
                return new BackendChoice(r, r, Map.of(), r + " requested; no GPU assigned by Spark, so the "
                        + "backend's default device");
            default:
                throw new IllegalArgumentException("backend '" + requested + "': choose auto, cpu, cuda or opencl");
        }
    }

    private static BackendChoice cpu(String requested, int threads, String why) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("threads", Integer.toString(threads));
        return new BackendChoice(requested, "cpu", o, why);
    }

    private static String deviceIndex(String address) {
        if (!address.trim().matches("\\d+")) {
            throw new IllegalArgumentException("Spark assigned GPU address '" + address + "', which is not a device "
                    + "index; make the GPU discovery script report indices (0, 1, ...) as the executor sees them");
        }
        return address.trim();
    }

    /** The CPU threads this choice asks for, or 0 for a GPU backend. */
    public int threads() {
        return Integer.parseInt(options.getOrDefault("threads", "0"));
    }

    /**
     * A backend as decided, and the final reason.
     *
     * @param backend the backend (the caller closes it)
     * @param choice  what actually ran: the decision, or the cpu fallback with the reason it happened
     */
    public record Opened(Backend backend, BackendChoice choice) {
    }

    /**
     * Creates the backend; {@code auto}'s cuda falls back to cpu (threads {@code fallbackThreads}) unless
     * {@code policy} is {@link FallbackPolicy#FAIL}.
     *
     * @throws BackendUnavailableException with the backend's own reason when it cannot start and may not fall back
     */
    public Opened open(FallbackPolicy policy, int fallbackThreads) {
        try {
            return new Opened(Backends.get(backend, BackendOptions.of(options)), this);
        } catch (BackendUnavailableException e) {
            if (!requested.equals("auto") || backend.equals("cpu") || policy == FallbackPolicy.FAIL) {
                throw new BackendUnavailableException(reason + ", but: " + e.getMessage()
                        + (policy == FallbackPolicy.FAIL ? " (backprop.fallback=fail)" : ""), e);
            }
            BackendChoice fallback = cpu(requested, fallbackThreads, reason + ", but " + e.getMessage()
                    + "; fell back to cpu with " + fallbackThreads + " thread(s)");
            java.util.logging.Logger.getLogger(BackendChoice.class.getName()).log(policy == FallbackPolicy.WARN
                    ? java.util.logging.Level.WARNING : java.util.logging.Level.INFO, fallback.reason());
            return fallback.open(policy, fallbackThreads);
        }
    }
}
