package dev.backprop.examples;

import dev.backprop.data.FashionMnist;
import dev.backprop.model.SavedModel;
import dev.backprop.testing.FashionMnistData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SaveLoadPredict} on 12,000 training images: the file it writes, and predictions mostly right. */
class SaveLoadPredictTest {
    @Test
    void savesLoadsAndPredicts(@TempDir Path dir) throws Exception {
        FashionMnistData.assume();
        Path file = dir.resolve("fashion.safetensors");
        String out = ExampleRun.run(SaveLoadPredict::main, file.toString(), "12000");
        assertEquals("classification", SavedModel.metadata(file).get(SavedModel.TASK_KEY));
        long lines = out.lines().filter(l -> l.startsWith("test image ")).count();
        assertEquals(16, lines, out);
        long right = out.lines().filter(l -> {
            String predicted = l.substring(15, 26).trim();
            return l.endsWith("(label: " + predicted + ")");
        }).count();
        assertTrue(right >= 10, right + " of 16 right:\n" + out);
        assertTrue(FashionMnist.CLASS_NAMES.stream().anyMatch(out::contains), out);
    }
}
