package dev.backprop.runtime;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.Probe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The backend registry: finds providers with {@link ServiceLoader}, probes them, and picks one.
 *
 * <p><b>By name</b> ({@link #get(String)}; otherwise the system property {@code backprop.backend}, otherwise the
 * environment variable {@code BACKPROP_BACKEND}): that backend, or a {@link BackendUnavailableException}
 * carrying its probe's reason. A name is never silently replaced.
 * <p><b>Automatic</b> ({@link #auto}): the available backend of highest {@link Probe#rank()} (a GPU, then
 * {@code cpu}, then OpenCL on a CPU device), under the {@link FallbackPolicy} in {@code backprop.fallback}.
 * The choice is logged with the reasons better candidates were passed over.
 */
public final class Backends {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());

    private Backends() {
    }

    /** Every provider on the class path, in name order. Never throws; broken providers are skipped and logged. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader<BackendProvider> loader = ServiceLoader.load(BackendProvider.class);
        var it = loader.iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                out.add(it.next());
            } catch (java.util.ServiceConfigurationError | LinkageError e) {
                LOG.warning("skipping a backend provider that failed to load: " + e);
            }
        }
        out.sort(Comparator.comparing(BackendProvider::name));
        return out;
    }

    /** Probes every provider (a probe that throws counts as unavailable with the error as its reason). */
    public static List<ProviderStatus> probeAll() {
        return providers().stream().map(p -> new ProviderStatus(p, safeProbe(p))).collect(Collectors.toList());
    }

    /** Names of the providers on the class path. */
    public static List<String> names() {
        return providers().stream().map(BackendProvider::name).collect(Collectors.toList());
    }

    static Probe safeProbe(BackendProvider p) {
        try {
            Probe probe = p.probe();
            return probe != null ? probe : Probe.unavailable("probe returned nothing");
        } catch (Throwable t) {
            return Probe.unavailable("probe failed: " + t);
        }
    }

    /** The backend name requested by configuration: {@code backprop.backend}, then {@code BACKPROP_BACKEND};
     *  null when neither is set (or set to {@code auto}). */
    public static String configuredName() {
        String v = System.getProperty("backprop.backend");
        if (v == null || v.isBlank()) {
            v = System.getenv("BACKPROP_BACKEND");
        }
        if (v == null || v.isBlank() || v.trim().equalsIgnoreCase("auto")) {
            return null;
        }
        return v.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * The backend to use: {@code name} when given (code or CLI), else the configured name, else automatic
     * selection. {@code null} or {@code "auto"} mean "not given".
     */
    public static Backend create(String name, BackendOptions options) {
        String n = name == null || name.isBlank() || name.equalsIgnoreCase("auto") ? configuredName()
                : name.trim().toLowerCase(Locale.ROOT);
        return n == null ? auto(options) : get(n, options);
    }

    /** {@link #create(String, BackendOptions)} with default options and no name from code. */
    public static Backend create() {
        return create(null, BackendOptions.defaults());
    }

    /** The backend called {@code name}, with default options. */
    public static Backend get(String name) {
        return get(name, BackendOptions.defaults());
    }

    /**
     * The backend called {@code name}.
     *
     * @throws BackendUnavailableException naming the known backends when none has that name, or carrying the
     *                                     probe's (or creation's) reason when it cannot run here
     */
    public static Backend get(String name, BackendOptions options) {
        List<ProviderStatus> all = probeAll();
        for (ProviderStatus s : all) {
            if (s.name().equalsIgnoreCase(name)) {
                if (!s.probe().available()) {
                    throw new BackendUnavailableException("backend '" + s.name() + "' is unavailable: "
                            + s.probe().reason());
                }
                return createOrExplain(s, options);
            }
        }
        throw new BackendUnavailableException("unknown backend '" + name + "'; known backends: "
                + all.stream().map(ProviderStatus::name).collect(Collectors.joining(", "))
                + (all.isEmpty() ? "(none: put a backend module such as backprop-backend-cpu on the class path)" : ""));
    }

    private static Backend createOrExplain(ProviderStatus s, BackendOptions options) {
        try {
            return s.provider().create(options);
        } catch (BackendUnavailableException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("backend '" + s.name() + "' failed to start: " + e, e);
        }
    }

    /** What automatic selection would pick, and why the others were passed over; creates nothing. */
    public record Plan(List<ProviderStatus> candidates, List<String> passedOver) {
        /** The first candidate, or null when nothing is available. */
        public ProviderStatus choice() {
            return candidates.isEmpty() ? null : candidates.get(0);
        }
    }

    /** Available providers by descending rank, plus the reasons for the unavailable ones. */
    public static Plan plan() {
        List<ProviderStatus> all = probeAll();
        List<ProviderStatus> candidates = all.stream().filter(s -> s.probe().available())
                .sorted(Comparator.comparingInt((ProviderStatus s) -> -s.probe().rank()).thenComparing(ProviderStatus::name))
                .collect(Collectors.toList());
        List<String> passed = all.stream().filter(s -> !s.probe().available())
                .map(s -> s.name() + ": " + s.probe().reason()).collect(Collectors.toList());
        return new Plan(candidates, passed);
    }

    /**
     * Automatic selection under {@link FallbackPolicy#fromSystemProperty()}.
     *
     * @throws BackendUnavailableException when nothing can run, or under {@code fail} when any provider on the
     *                                     class path is unavailable
     */
    public static Backend auto(BackendOptions options) {
        return auto(options, FallbackPolicy.fromSystemProperty());
    }

    /** Automatic selection under an explicit policy. */
    public static Backend auto(BackendOptions options, FallbackPolicy policy) {
        Plan plan = plan();
        List<String> passed = new ArrayList<>(plan.passedOver());
        if (policy == FallbackPolicy.FAIL && !passed.isEmpty()) {
            throw new BackendUnavailableException("backprop.fallback=fail and a backend on the class path is "
                    + "unavailable: " + String.join("; ", passed));
        }
        for (ProviderStatus s : plan.candidates()) {
            try {
                Backend b = createOrExplain(s, options);
                Level level = policy == FallbackPolicy.WARN && !passed.isEmpty() ? Level.WARNING : Level.INFO;
                LOG.log(level, "backend '" + s.name() + "' selected automatically" + (passed.isEmpty() ? ""
                        : "; passed over: " + String.join("; ", passed)));
                return b;
            } catch (BackendUnavailableException e) {
                if (policy == FallbackPolicy.FAIL) {
                    throw e;
                }
                passed.add(s.name() + ": " + e.getMessage());
            }
        }
        throw new BackendUnavailableException("no backend can run here"
                + (passed.isEmpty() ? " (no backend module on the class path; add backprop-backend-cpu)"
                : ": " + String.join("; ", passed)));
    }
}
