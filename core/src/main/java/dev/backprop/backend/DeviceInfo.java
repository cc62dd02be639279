package dev.backprop.backend;

import java.util.Map;

/**
 * One device as a probe or a created backend reports it.
 *
 * @param name        human-readable device name ({@code "NVIDIA H100"}, {@code "pthread-AMD EPYC"})
 * @param type        GPU, CPU or other accelerator
 * @param memoryBytes global memory in bytes, or -1 when unknown
 * @param details     further facts worth printing (compute capability, driver, lanes ...), in display order
 */
public record DeviceInfo(String name, DeviceType type, long memoryBytes, Map<String, String> details) {
    /**
     * Copies {@code details}.
     *
     * @param name        human-readable device name
     * @param type        GPU, CPU or other accelerator
     * @param memoryBytes global memory in bytes, or -1 when unknown
     * @param details     further facts worth printing, in display order
     */
    public DeviceInfo {
        details = Map.copyOf(details);
    }

    /** {@return one line for {@code backprop backends}: name, type, memory and details} */
    public String describe() {
        StringBuilder sb = new StringBuilder(name).append(" [").append(type).append(']');
        if (memoryBytes >= 0) {
            sb.append(String.format(" %.1f GiB", memoryBytes / (1024.0 * 1024 * 1024)));
        }
        details.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(", ").append(e.getKey()).append('=').append(e.getValue()));
        return sb.toString();
    }
}
