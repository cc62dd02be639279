package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A receiver that fails, even with an {@code Error}, fails the waiting step at once with the reason: a rogue that
 * holds the secret announces a broadcast larger than the receiving JVM's heap (refused before allocating) or one that
 * does not fit what is free ({@code OutOfMemoryError} in the receiver thread). Runs {@link BroadcastHeapProbe} in a
 * JVM of its own with a 64 MB heap, so the allocation that fails is bounded and nothing else in the test JVM is hit.
 */
class ReceiverFailureTest {
    @Test
    void aBroadcastLargerThanTheHeapIsRefusedBeforeAllocating() throws Exception {
        String out = probe(Integer.toString(Integer.MAX_VALUE));
        assertTrue(out.startsWith("FAILED ") && out.contains("rank 1 announced BROADCAST #1 of 2147483647 bytes, more "
                + "than this JVM's heap can ever hold"), out);
        report("authenticated peer announces a 2 GB BROADCAST (64 MB heap)", out);
    }

    @Test
    void anOutOfMemoryErrorInTheReceiverFailsTheStepAtOnceWithItsName() throws Exception {
        String out = probe("heap");
        assertTrue(out.startsWith("FAILED ") && out.contains("rank 0: waiting for BROADCAST #1: receiving from rank 1")
                && out.contains("failed: java.lang.OutOfMemoryError"), out);
        report("authenticated peer announces a BROADCAST of the whole heap (64 MB heap)", out);
    }

    private static void report(String attack, String probeLine) {
        String[] f = probeLine.split(" ", 3);
        FrameAttackTest.report(attack, f[2], (long) (Double.parseDouble(f[1]) * 1e6));
    }

    private static String probe(String length) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                BroadcastHeapProbe.class.getName(), length)).redirectErrorStream(true).start();
        assertTrue(p.waitFor(150, TimeUnit.SECONDS), "the probe JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return out.lines().filter(l -> l.startsWith("FAILED") || l.startsWith("RECEIVED")).findFirst()
                .orElse("no result; the probe printed: " + out);
    }
}
