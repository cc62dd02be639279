package dev.backprop.cli;

import dev.backprop.backend.BackpropException;
import dev.backprop.backend.MemoryStats;
import dev.backprop.data.DataFormatException;
import dev.backprop.runtime.Backends;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The {@code backprop} program: a picocli command whose subcommands each live in their own class.
 *
 * <p>Exit codes: 0 success, 1 a Backprop error (unavailable or unknown backend, bad setting, invalid file) printed
 * as one line on stderr, 2 a usage error (one line on stderr, ending with where the help is), 3 out of memory (one
 * line on stderr, saying how much heap the JVM had), 70 an unexpected failure (a first line saying what failed,
 * then its stack trace, with control characters escaped).
 */
@Command(name = "backprop",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Neural networks in Java on pluggable tensor backends (cuda, opencl, cpu).",
        subcommands = {BackendsCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class,
                ExportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code for an error Backprop detected and explained (for example an unknown backend name). */
    public static final int EXIT_ERROR = 1;
    /** Exit code for an {@link OutOfMemoryError}, in any thread, reported as one line. */
    public static final int EXIT_OUT_OF_MEMORY = 3;
    /** Exit code for an unexpected exception: a bug, reported with its stack trace. */
    public static final int EXIT_INTERNAL = 70;

    @Spec
    CommandSpec spec;

    private final Backends.Registry registry;

    /** A program over the backend providers on the class path. */
    public Main() {
        this(Backends.withProviders(Backends.providers()));
    }

    /** A program over the providers of {@code registry} (tests and embedding choose them explicitly). */
    public Main(Backends.Registry registry) {
        this.registry = registry;
    }

    /** The providers subcommands select from (reach it with {@code @ParentCommand Main}). */
    public Backends.Registry registry() {
        return registry;
    }

    /** Runs the program and exits the JVM with the command's exit code. */
    public static void main(String[] args) {
        configureLogging();
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (outOfMemory(e) != null) {
                // A worker thread ran out: the command cannot finish, and waiting for it would hang.
                Runtime.getRuntime().halt(reportOutOfMemory(err, outOfMemory(e)));
            } else if (previous != null) {
                previous.uncaughtException(thread, e);
            } else {
                thread.getThreadGroup().uncaughtException(thread, e);
            }
        });
        System.exit(execute(out, err, args));
    }

    /**
     * Runs the program without exiting the JVM (for tests and embedding).
     *
     * @param out  where a command's normal output goes
     * @param err  where errors and usage messages go
     * @param args the command line, e.g. {@code backends --json}
     * @return the exit code
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(new Main(), out, err, args);
    }

    /** {@link #execute(PrintWriter, PrintWriter, String...)} for a given program (for example one over chosen
     *  providers, see {@link #Main(Backends.Registry)}). */
    public static int execute(Main main, PrintWriter out, PrintWriter err, String... args) {
        try {
            CommandLine cl = commandLine(main);
            cl.setOut(out);
            cl.setErr(err);
            int code = cl.execute(args);
            out.flush();
            err.flush();
            return code;
        } catch (OutOfMemoryError e) {
            return reportOutOfMemory(err, e);
        }
    }

    /** The {@link OutOfMemoryError} that {@code e} is or was caused by, or null. */
    static OutOfMemoryError outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return oom;
            }
        }
        return null;
    }

    /** Prints one line about {@code e} and returns {@link #EXIT_OUT_OF_MEMORY}. */
    static int reportOutOfMemory(PrintWriter err, OutOfMemoryError e) {
        err.println("backprop: out of memory (" + e.getMessage() + ") with a Java heap of at most "
                + MemoryStats.human(Runtime.getRuntime().maxMemory()) + ": give the JVM more (BACKPROP_JAVA_OPTS="
                + "-Xmx8g) or use less data, a smaller model or a smaller batch");
        err.flush();
        return EXIT_OUT_OF_MEMORY;
    }

    /** The configured picocli command line for {@code main}, with Backprop's error handling. */
    public static CommandLine commandLine(Main main) {
        return new CommandLine(main).setExecutionExceptionHandler(Main::handleExecutionException)
                .setParameterExceptionHandler(Main::handleUsageError);
    }

    /**
     * One line for a usage error, ending with where the help is: the whole help after a typo buries the message
     * (picocli's default prints it all).
     */
    private static int handleUsageError(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        // It may quote an argument, and an argument may be a file name that the shell expanded: escaped as the
        // one-line errors are, so no escape sequence or right-to-left override of a name reaches the terminal.
        String message = DataFormatException.oneLine(e.getMessage().replaceAll("\\s*\\R\\s*", " ").trim());
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            message += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        err.println("backprop: " + message + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: try 'backprop backends'");
    }

    private static int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (outOfMemory(e) != null) {
            return reportOutOfMemory(err, outOfMemory(e));
        }
        if (e instanceof BackpropException || e instanceof IllegalArgumentException) {
            // An explained problem: the message says what is wrong and what to do; a stack trace adds nothing.
            // It may quote a file, a metadata value or a Spark rank's own message: escaped, so no line break or
            // terminal escape sequence of theirs reaches the terminal, and cut, so no megabyte value floods it.
            err.println("backprop: " + DataFormatException.oneLine(e.getMessage()));
            err.flush();
            return EXIT_ERROR;
        }
        // A bug: the first line says what failed, the stack trace below is for the report. Both may quote a file
        // or a Spark rank's message, so they are escaped as the one-line errors are.
        err.println("backprop: internal error in '" + cl.getCommandName() + "': "
                + DataFormatException.oneLine(String.valueOf(e)) + " (a bug: please report it with this output)");
        PrintWriter trace = new EscapedLines(err);
        e.printStackTrace(trace);
        trace.flush();
        err.flush();
        return EXIT_INTERNAL;
    }

    /**
     * Prints each line with {@link DataFormatException#oneLine}, keeping the tabs that indent a stack trace's frames
     * and the line breaks inside a message (Spark's quotes a failed rank's whole stack trace): a terminal escape
     * sequence or a carriage return in a message prints as text.
     */
    private static final class EscapedLines extends PrintWriter {
        EscapedLines(PrintWriter out) {
            super(out);
        }

        @Override
        public void println(Object x) {
            println(String.valueOf(x));
        }

        @Override
        public void println(String x) {
            for (String line : x.split("\r?\n", -1)) {
                int tabs = 0;
                while (tabs < line.length() && line.charAt(tabs) == '\t') {
                    tabs++;
                }
                super.println(line.substring(0, tabs) + DataFormatException.oneLine(line.substring(tabs)));
            }
        }
    }

    /**
     * One line per log record on stderr, unless the user configured java.util.logging: selection logs its
     * choice at INFO, and the JDK's default two-line format buries it.
     */
    static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") == null
                && System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "backprop: %4$s: %5$s%6$s%n");
        }
    }

    /** The version from the jar manifest ({@code Implementation-Version}), or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"backprop " + version(), "Java " + Runtime.version() + " ("
                    + System.getProperty("java.vendor") + ")"};
        }

        static String version() {
            String v = Main.class.getPackage().getImplementationVersion();
            return v != null ? v : "development";
        }
    }
}
