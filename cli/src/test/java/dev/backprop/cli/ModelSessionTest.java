package dev.backprop.cli;

import dev.backprop.backend.DType;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ModelSession}'s load: what it refuses, and that a refused load leaves no model behind on the backend. */
class ModelSessionTest {
    @TempDir
    Path dir;

    @Test
    void architectureOptionsThatCannotDescribeTheFileCloseTheModelLoadedFromIt() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (ReferenceBackend backend = new ReferenceBackend()) {
            try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(4, 3).build()) {
                SavedModel.save(file, m, Task.CLASSIFICATION, null, Map.of());
            }
            assertEquals(0, backend.memoryStats().liveBuffers());
            ArchitectureOptions arch = new ArchitectureOptions();
            arch.layers = "4-9-2";  // the file's network gives 3 outputs: the options cannot name it
            String message = assertThrows(IllegalArgumentException.class,
                    () -> ModelSession.load(file, backend, false, arch)).getMessage();
            assertTrue(message.startsWith("--layers 4-9-2: "), message);
            assertEquals(0, backend.memoryStats().liveBuffers(), "the model read from the file is closed");
        }
    }
}
