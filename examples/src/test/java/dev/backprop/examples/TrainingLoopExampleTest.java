package dev.backprop.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TrainingLoopExample}: the loop by hand learns, stops early on its validation loss after resuming from its
 * checkpoint, and ends with the weights {@code Trainer.fit} reaches with the same settings.
 */
class TrainingLoopExampleTest {
    @Test
    void theLoopByHandResumesStopsEarlyAndMatchesTrainer(@TempDir Path dir) throws Exception {
        Path checkpoint = dir.resolve("loop.checkpoint");
        String out = ExampleRun.run(TrainingLoopExample::main, "30", checkpoint.toString());
        assertTrue(out.contains("interrupted; resuming from " + checkpoint), out);
        assertTrue(out.contains("stopped early after epoch"), "the validation loss stops improving:\n" + out);
        assertTrue(Files.size(checkpoint) > 0);
        String last = out.substring(out.lastIndexOf("\nepoch "));
        double loss = ExampleRun.number(last, "validation loss");
        assertTrue(loss < 0.01, "validation loss " + loss + " (the noise alone gives 0.0025):\n" + out);
        assertTrue(out.contains("the loop by hand ends with Trainer's weights: true"), out);
    }
}
