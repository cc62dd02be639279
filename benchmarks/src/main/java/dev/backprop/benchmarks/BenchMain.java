package dev.backprop.benchmarks;

import dev.backprop.runtime.Backends;
import dev.backprop.runtime.ProviderStatus;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The entry point of {@code benchmarks.jar}: JMH's own command line (every JMH option works), plus two
 * defaults that JMH cannot know. Unless {@code -p impl=...} / {@code -p backend=...} is given, the backend
 * parameters are set to the backends whose probe passes here (and {@code impl} also gets {@code openblas}), so
 * an unavailable backend is skipped with its reason printed instead of failing its benchmarks. And the forked
 * JVMs get the Vector API module, native access, and a JavaCPP cache under {@code target/}.
 */
public final class BenchMain {
    /** The {@code impl} value that selects the OpenBLAS reference. */
    public static final String OPENBLAS = "openblas";
    private static final String CACHE_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private BenchMain() {
    }

    /** Runs JMH; see the class comment. */
    public static void main(String[] args) throws CommandLineOptionException, RunnerException, IOException {
        CommandLineOptions cmd = new CommandLineOptions(args);
        if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
                || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cmd).jvmArgsAppend(forkArgs(cmd));
        List<String> available = availableBackends();
        if (!cmd.getParameter("impl").hasValue()) {
            List<String> impls = new ArrayList<>(available);
            impls.add(OPENBLAS);
            options.param("impl", impls.toArray(new String[0]));
        }
        if (!cmd.getParameter("backend").hasValue()) {
            if (available.isEmpty()) {
                System.out.println("# no backend can run here: the backend benchmarks are skipped");
                options.exclude("UnaryBenchmark|ReductionBenchmark");
            } else {
                options.param("backend", available.toArray(new String[0]));
            }
        }
        new Runner(options.build()).run();
    }

    /** Names of the backends whose probe passes, printing why the others are skipped. */
    static List<String> availableBackends() {
        List<ProviderStatus> all = Backends.probeAll();
        for (ProviderStatus s : all) {
            System.out.println("# backend " + s.name() + ": " + (s.probe().available() ? "benchmarked ("
                    + s.probe().reason() + ")" : "skipped: " + s.probe().reason()));
        }
        return all.stream().filter(s -> s.probe().available()).map(ProviderStatus::name)
                .collect(Collectors.toList());
    }

    private static String[] forkArgs(CommandLineOptions cmd) {
        List<String> args = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                // JMH 1.37 calls sun.misc.Unsafe; JDK 25 warns unless allowed, JDK 17 needs the Ignore flag.
                "-XX:+IgnoreUnrecognizedVMOptions", "--sun-misc-unsafe-memory-access=allow",
                "-D" + CACHE_PROPERTY + "=" + javacppCacheDir()));
        if (cmd.getJvmArgsAppend().hasValue()) {
            Collection<String> extra = cmd.getJvmArgsAppend().get();
            args.addAll(extra);
        }
        return args.toArray(new String[0]);
    }

    /** The JavaCPP cache (about 100 MB of unpacked natives): the host's setting, else beside the jar. */
    private static String javacppCacheDir() {
        String set = System.getProperty(CACHE_PROPERTY);
        if (set != null && !set.isBlank()) {
            return set;
        }
        try {
            Path code = Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.toAbsolutePath().getParent().resolve("javacpp-cache").toString();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("target", "javacpp-cache").toAbsolutePath().toString();
        }
    }
}
