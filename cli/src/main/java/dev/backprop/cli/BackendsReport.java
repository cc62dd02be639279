package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.runtime.Backends;
import dev.backprop.runtime.FallbackPolicy;
import dev.backprop.runtime.ProviderStatus;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Everything {@code backprop backends} shows, gathered once and then printed as text or JSON (the record
 * components are the JSON field names).
 *
 * @param version   Backprop's version
 * @param jvm       facts about the running JVM that decide which paths a backend can take
 * @param providers every provider on the class path, available or not, in name order
 * @param selection what selection picks with the current settings, or why it fails
 */
public record BackendsReport(String version, JvmFacts jvm, List<ProviderReport> providers,
                             SelectionReport selection) {

    /**
     * The JVM the command runs in.
     *
     * @param javaVersion  {@code Runtime.version()}
     * @param vendor       {@code java.vendor}
     * @param cores        {@code availableProcessors()}
     * @param maxHeapBytes {@code Runtime.maxMemory()}
     * @param vectorModule whether {@code jdk.incubator.vector} is resolved in the boot layer
     * @param vectorNote   what that means for the Vector API paths, and how to change it
     */
    public record JvmFacts(String javaVersion, String vendor, int cores, long maxHeapBytes, boolean vectorModule,
                           String vectorNote) {
        static JvmFacts current() {
            boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
            String note = vector ? "jdk.incubator.vector is resolved: backends may use the Vector API"
                    : "jdk.incubator.vector is not resolved, so Vector API paths are off: start the JVM with "
                    + "--add-modules jdk.incubator.vector (bin/backprop does)";
            Runtime rt = Runtime.getRuntime();
            return new JvmFacts(Runtime.version().toString(), System.getProperty("java.vendor"),
                    rt.availableProcessors(), rt.maxMemory(), vector, note);
        }
    }

    /**
     * One provider and what its probe (and, when available, a briefly created backend) said.
     *
     * @param name      the provider's name
     * @param available the probe's verdict
     * @param reason    why it is unavailable, or the probe's summary when available
     * @param rank      automatic-selection rank (higher wins; 0 when unavailable)
     * @param devices   {@link DeviceInfo#describe()} of each device the probe found
     * @param created   what the created backend reports; null when the provider is unavailable
     */
    public record ProviderReport(String name, boolean available, String reason, int rank, List<String> devices,
                                 CreatedReport created) {
    }

    /**
     * A backend created briefly to read its capabilities.
     *
     * @param ok           whether {@code create} succeeded
     * @param error        why it failed; null when it succeeded
     * @param device       the created backend's device ({@link DeviceInfo#describe()})
     * @param float64      whether FLOAT64 is supported
     * @param threadSafe   whether it may be used from several threads at once
     * @param capabilities the backend's display facts in key order (for cpu: whether the Vector API path is on)
     */
    public record CreatedReport(boolean ok, String error, String device, Boolean float64, Boolean threadSafe,
                                Map<String, String> capabilities) {
        static CreatedReport of(Backend b) {
            Capabilities c = b.capabilities();
            return new CreatedReport(true, null, b.device().describe(), c.float64(), c.threadSafe(),
                    new TreeMap<>(c.details()));
        }

        static CreatedReport failed(String error) {
            return new CreatedReport(false, error, null, null, null, Map.of());
        }
    }

    /**
     * What selection does with the current settings.
     *
     * @param mode           {@code by name} or {@code automatic}
     * @param requested      the name asked for; null in automatic mode
     * @param source         where that name came from ({@code --backend}, the system property or the
     *                       environment variable); null in automatic mode
     * @param fallback       the {@code backprop.fallback} policy in force (or the invalid value given)
     * @param automaticOrder available providers as automatic selection ranks them, best first
     * @param passedOver     unavailable providers with their reasons
     * @param chosen         the backend selection created; null when it failed
     * @param error          why selection failed; null when it succeeded
     */
    public record SelectionReport(String mode, String requested, String source, String fallback,
                                  List<String> automaticOrder, List<String> passedOver, String chosen,
                                  String error) {
    }

    /**
     * Probes every provider, runs selection exactly as a training run would, and creates each available
     * backend briefly (reusing the selected one) to read its capabilities. Closes every backend it creates.
     *
     * @param registry the providers to describe and select from
     */
    public static BackendsReport collect(Backends.Registry registry, BackendSelectionOption option,
                                         BackendOptions options) {
        List<ProviderStatus> statuses = registry.probeAll();
        Backends.Plan plan = registry.plan();
        Backend chosen = null;
        String error = null;
        try {
            chosen = registry.create(option.commandLineName(), options);
        } catch (BackpropException | IllegalArgumentException e) {
            error = e.getMessage();
        }
        Backend selected = chosen;
        try {
            List<ProviderReport> providers = statuses.stream().map(s -> describe(s, options, selected))
                    .collect(Collectors.toList());
            return new BackendsReport(Main.Version.version(), JvmFacts.current(), providers,
                    selection(registry, option, plan, selected, error));
        } finally {
            if (selected != null) {
                selected.close();
            }
        }
    }

    private static SelectionReport selection(Backends.Registry registry, BackendSelectionOption option,
                                             Backends.Plan plan, Backend selected, String error) {
        String requested = option.requestedName(registry);
        List<String> order = plan.candidates().stream().map(s -> s.name() + " (rank " + s.probe().rank() + ")")
                .collect(Collectors.toList());
        return new SelectionReport(requested == null ? "automatic" : "by name", requested,
                option.requestSource(registry), fallbackPolicy(), order, plan.passedOver(),
                selected == null ? null : selected.name(), error);
    }

    private static String fallbackPolicy() {
        try {
            return FallbackPolicy.fromSystemProperty().name().toLowerCase(java.util.Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return "invalid: " + System.getProperty("backprop.fallback");
        }
    }

    private static ProviderReport describe(ProviderStatus s, BackendOptions options, Backend selected) {
        List<String> devices = s.probe().devices().stream().map(DeviceInfo::describe).collect(Collectors.toList());
        CreatedReport created = null;
        if (s.probe().available()) {
            created = selected != null && selected.name().equals(s.name()) ? CreatedReport.of(selected)
                    : createBriefly(s, options);
        }
        return new ProviderReport(s.name(), s.probe().available(), s.probe().reason(), s.probe().rank(), devices,
                created);
    }

    private static CreatedReport createBriefly(ProviderStatus s, BackendOptions options) {
        // A provider may fail in create() although its probe passed (kernel build, smoke test, driver
        // mismatch); that is a finding to print, not a reason to stop describing the others.
        try (Backend b = s.provider().create(options)) {
            return CreatedReport.of(b);
        } catch (RuntimeException | LinkageError e) {
            return CreatedReport.failed(String.valueOf(e.getMessage() != null ? e.getMessage() : e));
        }
    }
}
