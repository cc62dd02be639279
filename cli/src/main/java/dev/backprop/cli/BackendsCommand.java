package dev.backprop.cli;

import com.google.gson.GsonBuilder;
import dev.backprop.backend.BackendOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code backprop backends}: every backend provider on the class path, available or not, with its devices,
 * reasons, rank and (for available ones) the capabilities of a briefly created backend, then what selection
 * picks. Exits with {@link Main#EXIT_ERROR} when selection fails (an unknown or unavailable name, or nothing
 * that can run), after printing the report.
 */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = {"Lists every backend provider found, available or not, and what selection picks.",
                "Selection: --backend, then -Dbackprop.backend, then $BACKPROP_BACKEND, then automatic by rank "
                        + "(GPU > cpu > OpenCL on a CPU). -Dbackprop.fallback=allow|warn|fail."})
public final class BackendsCommand implements Callable<Integer> {
    private static final String INDENT = "           ";

    @Spec
    CommandSpec spec;

    @ParentCommand
    Main main;

    @Mixin
    BackendSelectionOption selection;

    @Option(names = "--json", description = "Print the report as JSON (the same facts as the text form).")
    boolean json;

    @Override
    public Integer call() {
        BackendsReport report = BackendsReport.collect(main.registry(), selection, BackendOptions.defaults());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create()
                    .toJson(report));
        } else {
            printText(report, out);
        }
        out.flush();
        String error = report.selection().error();
        if (error != null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("backprop: " + error);
            err.flush();
            return Main.EXIT_ERROR;
        }
        return 0;
    }

    static void printText(BackendsReport r, PrintWriter out) {
        BackendsReport.JvmFacts jvm = r.jvm();
        out.printf("Backprop %s on Java %s (%s), %d cores, max heap %.1f GiB%n", r.version(), jvm.javaVersion(),
                jvm.vendor(), jvm.cores(), jvm.maxHeapBytes() / (1024.0 * 1024 * 1024));
        out.println("Vector API: " + jvm.vectorNote());
        out.println();
        out.println("Backends on the class path (" + r.providers().size() + "):");
        if (r.providers().isEmpty()) {
            out.println("  none: put a backend module such as backprop-backend-cpu on the class path");
        }
        for (BackendsReport.ProviderReport p : r.providers()) {
            printProvider(p, out);
        }
        out.println();
        printSelection(r.selection(), out);
    }

    private static void printProvider(BackendsReport.ProviderReport p, PrintWriter out) {
        out.printf("  %-8s %s%n", p.name(), p.available() ? "available, rank " + p.rank() : "UNAVAILABLE");
        out.println(INDENT + (p.available() ? "probe:   " : "reason:  ") + p.reason());
        for (String d : p.devices()) {
            out.println(INDENT + "device:  " + d);
        }
        BackendsReport.CreatedReport c = p.created();
        if (c == null) {
            return;
        }
        if (!c.ok()) {
            out.println(INDENT + "create:  FAILED: " + c.error());
            return;
        }
        out.println(INDENT + "created: " + c.device() + "; float64=" + yesNo(c.float64()) + ", thread-safe="
                + yesNo(c.threadSafe()));
        for (Map.Entry<String, String> e : c.capabilities().entrySet()) {
            out.println(INDENT + "         " + e.getKey() + " = " + e.getValue());
        }
    }

    private static void printSelection(BackendsReport.SelectionReport s, PrintWriter out) {
        if (s.requested() != null) {
            out.println("Selection: by name '" + s.requested() + "' (from " + s.source() + ")");
        } else {
            out.println("Selection: automatic, backprop.fallback=" + s.fallback());
        }
        out.println("  ranking:     " + orNone(s.automaticOrder(), " > "));
        out.println("  passed over: " + orNone(s.passedOver(), "; "));
        if (s.error() != null) {
            out.println("  FAILED:      " + s.error());
        } else {
            out.println("  picks:       " + s.chosen());
        }
    }

    private static String orNone(List<String> items, String separator) {
        return items.isEmpty() ? "none" : String.join(separator, items);
    }

    private static String yesNo(Boolean b) {
        return Boolean.TRUE.equals(b) ? "yes" : "no";
    }
}
