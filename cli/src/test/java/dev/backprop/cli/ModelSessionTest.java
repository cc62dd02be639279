package dev.backprop.cli;

import dev.backprop.backend.BackpropException;
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

    /**
     * The recorded positive class is untrusted: read as the checkpoint's counters are (a JSON integer literal, here
     * in its one canonical form), a Fashion-MNIST class in [0, 10). {@code Integer.parseInt} would take the sign,
     * the Arabic-Indic digit and the leading zero.
     */
    @Test
    void theRecordedPositiveClassIsDigitsOnlyAndAClass() {
        Path file = dir.resolve("m.safetensors");
        assertEquals(0, ModelSession.positiveClass(file, "0"));
        assertEquals(9, ModelSession.positiveClass(file, "9"));
        for (String bad : new String[] {"+3", "\u0663", "03", "-1", "-0", "10", "2147483648", " 3", "3 ", "3.0", "3e0",
                "\"3\"", ""}) {
            BackpropException e = assertThrows(BackpropException.class, () -> ModelSession.positiveClass(file, bad),
                    bad);
            assertEquals(file + ": metadata backprop.positive_class is not a class number in [0, 10) written with "
                    + "digits only: " + bad, e.getMessage());
        }
    }
}
