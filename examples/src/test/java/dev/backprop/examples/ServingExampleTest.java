package dev.backprop.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ServingExample}: the binary classifier learns the circle, its probability at the centre is high, and the
 * loaded model answers requests from several threads exactly as from one, leaving nothing allocated.
 */
class ServingExampleTest {
    @Test
    void servesTheLoadedModelFromSeveralThreads(@TempDir Path dir) throws Exception {
        String out = ExampleRun.run(ServingExample::main, "20", "100", dir.resolve("circle.safetensors").toString());
        double accuracy = ExampleRun.number(out, "test accuracy");
        assertTrue(accuracy >= 0.9, "test accuracy " + accuracy + ":\n" + out);
        assertTrue(ExampleRun.number(out, "P(inside | 0, 0) =") > 0.9, out);
        assertTrue(out.contains("4 threads x 100 requests, predictions that differ from one thread's: 0"), out);
        Matcher live = Pattern.compile("live buffers before the requests: (\\d+), after: (\\d+)").matcher(out);
        assertTrue(live.find(), out);
        assertEquals(live.group(1), live.group(2), "the requests leave nothing allocated:\n" + out);
        assertTrue(out.contains("live buffers after closing the model: 0"), out);
    }
}
