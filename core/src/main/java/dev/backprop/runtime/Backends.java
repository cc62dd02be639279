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
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
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
 *
 * <p>The static methods use the providers on the class path. {@link #withProviders} gives the same logic over
 * an explicit list (a {@link Registry}), for tests and for applications that wire backends by hand.
 */
public final class Backends {
    private static final Logger LOG = Logger.getLogger(Backends.class.getName());
    private static final Registry CLASS_PATH = new Registry(Backends::loadProviders, System::getenv);

    private Backends() {
    }

    /**
     * A registry over exactly {@code providers} (no {@link ServiceLoader}); configuration is read as usual.
     *
     * @param providers the providers to choose from
     * @return the registry
     */
    public static Registry withProviders(List<BackendProvider> providers) {
        List<BackendProvider> copy = List.copyOf(providers);
        return new Registry(() -> copy, System::getenv);
    }

    /**
     * {@return every provider on the class path, in name order} Never throws; broken providers are skipped and logged.
     */
    public static List<BackendProvider> providers() {
        return CLASS_PATH.providers();
    }

    private static List<BackendProvider> loadProviders() {
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
        return out;
    }

    /**
     * Probes every provider (a probe that throws counts as unavailable with the error as its reason).
     *
     * @return each provider with its probe's answer, in name order
     */
    public static List<ProviderStatus> probeAll() {
        return CLASS_PATH.probeAll();
    }

    /** {@return names of the providers on the class path} */
    public static List<String> names() {
        return CLASS_PATH.names();
    }

    static Probe safeProbe(BackendProvider p) {
        try {
            Probe probe = p.probe();
            return probe != null ? probe : Probe.unavailable("probe returned nothing");
        } catch (Throwable t) {
            return Probe.unavailable("probe failed: " + t);
        }
    }

    /**
     * {@return the backend name requested by configuration: {@code backprop.backend}, then {@code BACKPROP_BACKEND};
     * null when neither is set (or set to {@code auto})}
     */
    public static String configuredName() {
        return CLASS_PATH.configuredName();
    }

    /**
     * The backend to use: {@code name} when given (code or CLI), else the configured name, else automatic
     * selection. {@code null} or {@code "auto"} mean "not given".
     *
     * @param name    a backend's name, or null or {@code auto}
     * @param options settings for the backend ({@link BackendOptions#defaults()}: system properties only)
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException as {@link #get(String, BackendOptions)} and {@link #auto(BackendOptions)}
     */
    public static Backend create(String name, BackendOptions options) {
        return CLASS_PATH.create(name, options);
    }

    /**
     * {@link #create(String, BackendOptions)} with default options and no name from code.
     *
     * @return the configured backend, or the automatic choice; close it when done
     * @throws BackendUnavailableException as {@link #create(String, BackendOptions)}
     */
    public static Backend create() {
        return create(null, BackendOptions.defaults());
    }

    /**
     * The backend called {@code name}, with default options.
     *
     * @param name the backend's name: {@code cpu}, {@code opencl}, {@code cuda}
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException as {@link #get(String, BackendOptions)}
     */
    public static Backend get(String name) {
        return get(name, BackendOptions.defaults());
    }

    /**
     * The backend called {@code name}.
     *
     * @param name    the backend's name: {@code cpu}, {@code opencl}, {@code cuda}
     * @param options settings for the backend
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException naming the known backends when none has that name, or carrying the
     *                                     probe's (or creation's) reason when it cannot run here
     */
    public static Backend get(String name, BackendOptions options) {
        return CLASS_PATH.get(name, options);
    }

    /**
     * Checks that a backend called {@code name} is on the class path, as {@link #get} would first, without probing
     * or creating it: for a name that other machines will open (the ranks of a Spark run).
     *
     * @param name the backend's name
     * @throws BackendUnavailableException naming the known backends when none has that name
     */
    public static void checkKnown(String name) {
        CLASS_PATH.checkKnown(name);
    }

    /**
     * What automatic selection would pick, and why the others were passed over; creates nothing.
     *
     * @param candidates the available providers, best first
     * @param passedOver each unavailable provider with its reason ({@code name: reason})
     */
    public record Plan(List<ProviderStatus> candidates, List<String> passedOver) {
        /** {@return the first candidate, or null when nothing is available} */
        public ProviderStatus choice() {
            return candidates.isEmpty() ? null : candidates.get(0);
        }
    }

    /** {@return available providers by descending rank, plus the reasons for the unavailable ones} */
    public static Plan plan() {
        return CLASS_PATH.plan();
    }

    /**
     * Automatic selection under {@link FallbackPolicy#fromSystemProperty()}.
     *
     * @param options settings for the backend chosen
     * @return the available backend of highest rank, open; close it when done
     * @throws BackendUnavailableException when nothing can run, or under {@code fail} when any provider on the
     *                                     class path is unavailable
     */
    public static Backend auto(BackendOptions options) {
        return CLASS_PATH.auto(options);
    }

    /**
     * Automatic selection under an explicit policy.
     *
     * @param options settings for the backend chosen
     * @param policy  what an unavailable backend on the class path leads to
     * @return the available backend of highest rank, open; close it when done
     * @throws BackendUnavailableException when nothing can run, or under {@code FAIL} when any provider on the
     *                                     class path is unavailable
     */
    public static Backend auto(BackendOptions options, FallbackPolicy policy) {
        return CLASS_PATH.auto(options, policy);
    }

    /**
     * Selection over one source of providers: the class path for the static methods of {@link Backends}, or
     * an explicit list from {@link Backends#withProviders}. Each method means exactly what the static method
     * of the same name documents.
     */
    public static final class Registry {
        private final Supplier<List<BackendProvider>> source;
        private final UnaryOperator<String> environment;

        /** {@code environment} looks up environment variables (replaceable so tests need not set real ones). */
        Registry(Supplier<List<BackendProvider>> source, UnaryOperator<String> environment) {
            this.source = source;
            this.environment = environment;
        }

        /** This registry reading environment variables from {@code environment} instead of the process. */
        Registry withEnvironment(UnaryOperator<String> environment) {
            return new Registry(source, environment);
        }

        /** {@return the providers, in name order} */
        public List<BackendProvider> providers() {
            List<BackendProvider> out = new ArrayList<>(source.get());
            out.sort(Comparator.comparing(BackendProvider::name));
            return out;
        }

        /**
         * Probes these providers, as {@link Backends#probeAll()}.
         *
         * @return each provider with its probe's answer, in name order
         */
        public List<ProviderStatus> probeAll() {
            return providers().stream().map(p -> new ProviderStatus(p, safeProbe(p))).collect(Collectors.toList());
        }

        /** {@return the providers' names, as {@link Backends#names()}} */
        public List<String> names() {
            return providers().stream().map(BackendProvider::name).collect(Collectors.toList());
        }

        /** {@return the configured name, as {@link Backends#configuredName()}} */
        public String configuredName() {
            String v = System.getProperty("backprop.backend");
            if (v == null || v.isBlank()) {
                v = environment.apply("BACKPROP_BACKEND");
            }
            if (v == null || v.isBlank() || v.trim().equalsIgnoreCase("auto")) {
                return null;
            }
            return v.trim().toLowerCase(Locale.ROOT);
        }

        /**
         * As {@link Backends#create(String, BackendOptions)}.
         *
         * @param name    a backend's name, or null or {@code auto}
         * @param options settings for the backend
         * @return the backend, open
         */
        public Backend create(String name, BackendOptions options) {
            String n = name == null || name.isBlank() || name.equalsIgnoreCase("auto") ? configuredName()
                    : name.trim().toLowerCase(Locale.ROOT);
            return n == null ? auto(options) : get(n, options);
        }

        /**
         * As {@link Backends#get(String, BackendOptions)}.
         *
         * @param name    the backend's name
         * @param options settings for the backend
         * @return the backend, open
         */
        public Backend get(String name, BackendOptions options) {
            // Only the named provider is probed: probing the others costs time (driver loading) and touches
            // native libraries the caller did not ask for.
            List<BackendProvider> all = providers();
            for (BackendProvider p : all) {
                if (p.name().equalsIgnoreCase(name)) {
                    ProviderStatus s = new ProviderStatus(p, safeProbe(p));
                    if (!s.probe().available()) {
                        throw new BackendUnavailableException("backend '" + s.name() + "' is unavailable: "
                                + s.probe().reason());
                    }
                    return createOrExplain(s, options);
                }
            }
            throw unknown(name, all);
        }

        /**
         * As {@link Backends#checkKnown}.
         *
         * @param name the backend's name
         */
        public void checkKnown(String name) {
            List<BackendProvider> all = providers();
            if (all.stream().noneMatch(p -> p.name().equalsIgnoreCase(name))) {
                throw unknown(name, all);
            }
        }

        private static BackendUnavailableException unknown(String name, List<BackendProvider> all) {
            return new BackendUnavailableException("unknown backend '" + name + "'; known backends: "
                    + (all.isEmpty() ? "none (put a backend module such as backprop-backend-cpu on the class path)"
                    : all.stream().map(BackendProvider::name).collect(Collectors.joining(", "))));
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

        /** {@return the selection plan, as {@link Backends#plan()}} */
        public Plan plan() {
            List<ProviderStatus> all = probeAll();
            List<ProviderStatus> candidates = all.stream().filter(s -> s.probe().available())
                    .sorted(Comparator.comparingInt((ProviderStatus s) -> -s.probe().rank())
                            .thenComparing(ProviderStatus::name))
                    .collect(Collectors.toList());
            List<String> passed = all.stream().filter(s -> !s.probe().available())
                    .map(s -> s.name() + ": " + s.probe().reason()).collect(Collectors.toList());
            return new Plan(candidates, passed);
        }

        /**
         * As {@link Backends#auto(BackendOptions)}.
         *
         * @param options settings for the backend chosen
         * @return the backend, open
         */
        public Backend auto(BackendOptions options) {
            return auto(options, FallbackPolicy.fromSystemProperty());
        }

        /**
         * As {@link Backends#auto(BackendOptions, FallbackPolicy)}.
         *
         * @param options settings for the backend chosen
         * @param policy  what an unavailable backend on the class path leads to
         * @return the backend, open
         */
        public Backend auto(BackendOptions options, FallbackPolicy policy) {
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
}
