package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static dev.backprop.cli.BackendsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The top-level command: usage errors, help and version. */
class MainTest {
    @Test
    void noCommandIsAUsageError() {
        BackendsCommandTest.Run r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing command"), r.err());
    }

    @Test
    void unknownCommandIsAUsageError() {
        BackendsCommandTest.Run r = run("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("frobnicate"), r.err());
    }

    @Test
    void helpListsTheSubcommands() {
        BackendsCommandTest.Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("backends"), r.out());
    }

    @Test
    void versionNamesTheJava() {
        BackendsCommandTest.Run r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("backprop "), r.out());
        assertTrue(r.out().contains("Java " + Runtime.version()), r.out());
    }

    /**
     * The option names that train and predict list by hand, to refuse combinations, are options of those commands:
     * a renamed option must not leave its old name behind, silently ending the refusal.
     */
    @Test
    void handListedOptionNamesAreTheCommandsOptions() {
        CommandLine main = Main.commandLine(new Main());
        assertOptionsOf(main.getSubcommands().get("train").getCommandSpec(), TrainCommand.LOCAL_ONLY);
        assertOptionsOf(main.getSubcommands().get("predict").getCommandSpec(), PredictCommand.TEST_DATA_OPTIONS);
    }

    private static void assertOptionsOf(CommandSpec command, List<String> names) {
        for (String name : names) {
            assertTrue(command.findOption(name) != null, command.name() + " has no option " + name);
        }
    }

    /** A command that fails with what a bug reading a hostile file might throw, as Spark reports a rank's. */
    @Command(name = "boom")
    static final class Boom implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("read \u001b[2Jfrom a\rfile\r\n\tat remote.Rank.train(Rank.java:7)",
                    new IOException("rank 2: \u001b]8;;http://x\u0007link\u001b]8;;\u0007"));
        }
    }

    @Test
    void anInternalErrorIsOneClearLineThenAStackTraceAllEscaped() {
        CommandLine cl = Main.commandLine(new Main()).addSubcommand("boom", new Boom());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(Main.EXIT_INTERNAL, cl.execute("boom"));
        String text = err.toString();
        assertFalse(text.contains("\u001b") || text.contains("\u0007") || text.contains("\r"), text);
        List<String> lines = text.lines().toList();
        String message = "java.lang.IllegalStateException: read \\u001B[2Jfrom a\\u000Dfile";
        assertEquals("backprop: internal error in 'boom': " + message
                + "\\u000D\\u000A\\u0009at remote.Rank.train(Rank.java:7) (a bug: please report it with this output)",
                lines.get(0));
        assertEquals(message, lines.get(1));
        assertEquals("\tat remote.Rank.train(Rank.java:7)", lines.get(2), "a quoted trace keeps its lines");
        assertTrue(lines.get(3).startsWith("\tat dev.backprop.cli.MainTest$Boom.run(MainTest.java:"), text);
        assertTrue(lines.contains("Caused by: java.io.IOException: rank 2: \\u001B]8;;http://x\\u0007link"
                + "\\u001B]8;;\\u0007"), text);
    }
}
