package dev.backprop.cli;

import org.junit.jupiter.api.Test;

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
}
