package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;

import static dev.backprop.cli.BackendsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
