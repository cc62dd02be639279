package dev.backprop.cpu;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.Probe;
import dev.backprop.backend.base.BaseProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code cpu} provider: the plain-Java backend, available on every JVM. Registered in
 * {@code META-INF/services/dev.backprop.backend.BackendProvider}.
 *
 * <p>The probe reports one CPU device: the processor's name (from {@code /proc/cpuinfo} where readable, else the
 * architecture), the cores, the heap limit as its memory, the thread count the backend would use and whether the
 * Vector API path would be on (and why not). It reads the same options as {@link #create} from system
 * properties, so a malformed {@code backprop.cpu.*} value shows up as the reason.
 */
public final class CpuBackendProvider extends BaseProvider {
    /** The provider name. */
    public static final String NAME = "cpu";

    /** For {@link java.util.ServiceLoader}; does nothing else. */
    public CpuBackendProvider() {
        super(NAME);
    }

    @Override
    public Probe probe() {
        try {
            BackendOptions o = BackendOptions.defaults();
            int threads = o.getInt(NAME, "threads", Runtime.getRuntime().availableProcessors());
            String vector = CpuBackend.vectorState(CpuVectorApi.load(o.getBoolean(NAME, "vector", true)));
            return Probe.available("plain Java on " + threads + " thread(s), Vector API " + vector,
                    List.of(device(threads, vector)), Probe.RANK_HOST);
        } catch (RuntimeException | LinkageError e) {
            return Probe.unavailable("cpu: " + e.getMessage());
        }
    }

    /**
     * Creates a {@link CpuBackend}.
     *
     * @throws BackendUnavailableException when an option is malformed or the smoke test fails, with the reason
     */
    @Override
    public Backend create(BackendOptions options) {
        try {
            return new CpuBackend(options);
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException("cpu: " + e.getMessage(), e);
        }
    }

    /** The device line for this machine. */
    static DeviceInfo device(int threads, String vector) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        details.put("threads", Integer.toString(threads));
        details.put("vector", vector);
        details.put("java", System.getProperty("java.version", "?"));
        return new DeviceInfo(processorName(), DeviceType.CPU, Runtime.getRuntime().maxMemory(), details);
    }

    /** The {@code model name} line of {@code /proc/cpuinfo}, or the JVM's architecture name. */
    static String processorName() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        try {
            if (Files.isReadable(cpuinfo)) {
                for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
                    int colon = line.indexOf(':');
                    if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
                        String name = line.substring(colon + 1).trim();
                        if (!name.isEmpty()) {
                            return name;
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // Unreadable or odd: the architecture name below still identifies the device.
        }
        return System.getProperty("os.arch", "unknown") + " processor";
    }
}
