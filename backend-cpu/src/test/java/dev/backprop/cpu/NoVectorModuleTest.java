package dev.backprop.cpu;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend on a JVM started without {@code --add-modules jdk.incubator.vector} (surefire's own JVM has it):
 * a child JVM runs {@link NoVectorModuleMain}, which must load, compute correctly on the scalar kernels and say
 * why the Vector API is off.
 */
class NoVectorModuleTest {
    @Test
    void runsOnScalarKernelsAndSaysWhy() throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", cp, NoVectorModuleMain.class.getName());
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        byte[] out = proc.getInputStream().readAllBytes();
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, proc.exitValue(), text);
        String reason = "off (module jdk.incubator.vector is not resolved in this JVM; start it with --add-modules "
                + "jdk.incubator.vector)";
        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("probe: " + reason), text);
        assertTrue(lines.contains("backend: " + reason), text);
        assertTrue(lines.contains("results: ok"), text);
    }
}
