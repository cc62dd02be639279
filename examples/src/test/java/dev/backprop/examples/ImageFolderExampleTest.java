package dev.backprop.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ImageFolderExample} on the stripes it writes: the CNN learns them, and the loaded model names the class. */
class ImageFolderExampleTest {
    @Test
    void learnsTheStripesItWritesAndPredictsAFile(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("stripes");
        String out = ExampleRun.run(ImageFolderExample::main, root.toString(), "5");
        try (var files = Files.list(root.resolve("vertical"))) {
            assertEquals(30, files.count());
        }
        assertEquals(5, out.lines().filter(l -> l.startsWith("epoch ")).count(), out);
        double accuracy = ExampleRun.number(out.substring(out.lastIndexOf("epoch 5:")), "test accuracy");
        assertTrue(accuracy >= 0.9, "test accuracy " + accuracy + " after 5 epochs:\n" + out);
        assertTrue(out.contains(root.resolve("horizontal").resolve("00.png") + ": horizontal (probability "), out);
        assertTrue(Files.size(dir.resolve("images-model.safetensors")) > 0);
    }
}
