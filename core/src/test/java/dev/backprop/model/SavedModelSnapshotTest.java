package dev.backprop.model;

import dev.backprop.io.SwapAfterOpen;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A model file replaced while it is loaded (a training run writing the path a service loads): the load gives the
 * file it opened, metadata, architecture and weights together, never one file's metadata with another's weights.
 */
class SavedModelSnapshotTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void aLoadReadsTheFileItOpenedWhenAnotherReplacesItMeanwhile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        Path next = dir.resolve("next.safetensors");
        try (Sequential first = ModelFixtures.mlp(backend, 4, 3, 3, 1);
             Sequential second = ModelFixtures.mlp(backend, 4, 5, 1, 2)) {
            SavedModel.save(file, first, Task.CLASSIFICATION, List.of("a", "b", "c"), Map.of());
            SavedModel.save(next, second, Task.REGRESSION, null, Map.of());
            SwapAfterOpen swap = SwapAfterOpen.of(file, next);
            try (SavedModel.Loaded l = SavedModel.load(swap.path(), backend)) {
                assertEquals(first.spec(), l.model().spec(), "the network of the file whose metadata was read");
                ModelFixtures.assertSameParameters(first, (Sequential) l.model());
                assertEquals(Task.CLASSIFICATION, l.task());
                assertEquals(List.of("a", "b", "c"), l.classNames());
            }
            assertEquals(1, swap.opens());
            try (SavedModel.Loaded l = SavedModel.load(file, backend)) {
                assertEquals(second.spec(), l.model().spec(), "the replacement is in place for the next load");
            }
        }
    }

    @Test
    void aLoadIntoAModelReadsTheFileItOpenedWhenAnotherReplacesItMeanwhile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        Path next = dir.resolve("next.safetensors");
        try (Sequential first = ModelFixtures.mlp(backend, 4, 3, 3, 1);
             Sequential second = ModelFixtures.mlp(backend, 4, 3, 3, 2);
             Sequential target = ModelFixtures.mlp(backend, 4, 3, 3, 3)) {
            SavedModel.save(file, first, Task.CLASSIFICATION, List.of("a", "b", "c"), Map.of());
            SavedModel.save(next, second, Task.CLASSIFICATION, List.of("x", "y", "z"), Map.of());
            SwapAfterOpen swap = SwapAfterOpen.of(file, next);
            SavedModel.Loaded l = SavedModel.load(swap.path(), target, false);
            ModelFixtures.assertSameParameters(first, target);
            assertEquals(List.of("a", "b", "c"), l.classNames());
            assertEquals(1, swap.opens());
        }
    }
}
