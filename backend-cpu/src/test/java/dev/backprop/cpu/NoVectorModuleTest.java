package dev.backprop.cpu;

import dev.backprop.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend on a JVM started without {@code --add-modules jdk.incubator.vector} (surefire's own JVM has it):
 * a child JVM runs {@link NoVectorModuleMain}, which must load, compute correctly on the scalar kernels, say why
 * the Vector API is off, and log the flag to add once, however many backends it creates.
 */
class NoVectorModuleTest {
    private static final String REASON = "module jdk.incubator.vector is not resolved in this JVM; start it with "
            + "--add-modules jdk.incubator.vector";

    @Test
    void runsOnScalarKernelsAndSaysWhy() throws Exception {
        String text = ChildJvm.run(NoVectorModuleMain.class, List.of(), List.of()).succeeded().get("output");
        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("probe: off (" + REASON + ")"), text);
        assertTrue(lines.contains("backend: off (" + REASON + ")"), text);
        assertTrue(lines.contains("results: ok"), text);
        assertTrue(lines.contains("backends created: 3"), text);
        String logged = "INFO: cpu: the Vector API is off, so the scalar kernels run (slower): " + REASON;
        assertEquals(1, lines.stream().filter(logged::equals).count(), text);
    }
}
