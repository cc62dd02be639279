package dev.backprop.model;

import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Class names must fit the model: one per output for classification, two or none for binary, none for regression;
 * and a network's output width is read the same way everywhere, through the layers after its last dense layer.
 */
class SavedModelClassNamesTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private String refusedSave(Sequential m, Task task, List<String> names) {
        Path file = dir.resolve("refused.safetensors");
        String message = assertThrows(IllegalArgumentException.class,
                () -> SavedModel.save(file, m, task, names, Map.of())).getMessage();
        assertFalse(Files.exists(file), "nothing is written");
        return message;
    }

    /** Both loads refuse {@code file} with {@code expected}; the one into {@code target} leaves it unchanged. */
    private void assertRefused(Path file, String expected, Sequential target) {
        assertEquals(expected, assertThrows(ModelFileException.class,
                () -> SavedModel.load(file, backend)).getMessage());
        float[] before = target.parameters().get("0.weight").value().toFloatArray();
        assertEquals(expected, assertThrows(ModelFileException.class,
                () -> SavedModel.load(file, target, false)).getMessage());
        assertArrayEquals(before, target.parameters().get("0.weight").value().toFloatArray());
    }

    @Test
    void aSaveRefusesClassNamesThatDoNotFitTheModel() throws IOException {
        try (Sequential three = ModelFixtures.mlp(backend, 4, 5, 3, 1);
             Sequential one = ModelFixtures.mlp(backend, 4, 5, 1, 1)) {
            assertEquals("2 class names for a network with 3 outputs (classification takes one per output)",
                    refusedSave(three, Task.CLASSIFICATION, List.of("a", "b")));
            assertEquals("4 class names for a network with 3 outputs (classification takes one per output)",
                    refusedSave(three, Task.CLASSIFICATION, List.of("a", "b", "c", "d")));
            assertEquals("3 class names for task binary (it takes 2, class 0 then class 1, or none)",
                    refusedSave(one, Task.BINARY, List.of("a", "b", "c")));
            assertEquals("1 class names for task binary (it takes 2, class 0 then class 1, or none)",
                    refusedSave(one, Task.BINARY, List.of("yes")));
            assertEquals("3 class names for task regression (it takes none)",
                    refusedSave(three, Task.REGRESSION, List.of("a", "b", "c")));
            SavedModel.save(dir.resolve("ok.safetensors"), three, Task.CLASSIFICATION, List.of("a", "b", "c"),
                    Map.of());
            SavedModel.save(dir.resolve("binary.safetensors"), one, Task.BINARY, null, Map.of());
        }
    }

    @Test
    void aFileWithClassNamesThatDoNotFitItsModelIsRefusedAndLeavesTheModelUnchanged() throws IOException {
        Path file = dir.resolve("old.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 4, 5, 3, 1);
             Sequential target = ModelFixtures.mlp(backend, 4, 5, 3, 2)) {
            // What a writer that did not check the count could have left: metadata() itself has no model to check.
            ModelFile.save(file, m, SavedModel.metadata(Task.CLASSIFICATION, List.of("a", "b"), Map.of()));
            String expected = file + ": metadata backprop.class_names holds 2 class names for a network with 3 "
                    + "outputs (classification takes one per output); drop the entry or save the model again with "
                    + "fitting names";
            assertRefused(file, expected, target);
        }
    }

    /** Its parameters give the channels, not the width: that takes the image size, which the file records. */
    @Test
    void aNetworkEndingInAConvolutionHasItsClassNamesCheckedAgainstItsRecordedInputShape() throws IOException {
        try (Sequential conv = Sequential.builder(backend, DType.FLOAT32).seed(1).conv2d(Conv2d.options(1, 3, 6))
                .flatten().build();
             Sequential target = Sequential.builder(backend, DType.FLOAT32).seed(2).conv2d(Conv2d.options(1, 3, 6))
                     .flatten().build()) {
            Map<String, String> shape = Map.of(SavedModel.INPUT_SHAPE_KEY, "1,6,6");  // 3 channels of 1x1
            Path file = dir.resolve("refused.safetensors");
            assertEquals("2 class names for a network with 3 outputs (classification takes one per output)",
                    assertThrows(IllegalArgumentException.class, () -> SavedModel.save(file, conv,
                            Task.CLASSIFICATION, List.of("a", "b"), shape)).getMessage());
            assertFalse(Files.exists(file));
            SavedModel.save(dir.resolve("ok.safetensors"), conv, Task.CLASSIFICATION, List.of("a", "b", "c"), shape);
            SavedModel.save(dir.resolve("unknown.safetensors"), conv, Task.CLASSIFICATION, List.of("a", "b"),
                    Map.of());  // no input shape recorded: the width is not known, so any count is taken

            Path old = dir.resolve("old.safetensors");
            ModelFile.save(old, conv, SavedModel.metadata(Task.CLASSIFICATION, List.of("a", "b"), shape));
            assertRefused(old, old + ": metadata backprop.class_names holds 2 class names for a network with 3 "
                    + "outputs (classification takes one per output); drop the entry or save the model again with "
                    + "fitting names", target);
        }
    }

    @Test
    void aBinaryModelWhoseLastDenseGivesSeveralOutputsIsRefusedWhateverFollowsIt() {
        for (int ending = 0; ending < 3; ending++) {
            Sequential.Builder b = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(4, 3);
            b = ending == 0 ? b.relu() : ending == 1 ? b.flatten() : b.dropout(0.5);
            try (Sequential m = b.build()) {
                assertEquals("task binary takes one output per example (the logit of class 1), but the network's "
                        + "last layer gives 3; use task classification for 3 classes", refusedSave(m, Task.BINARY,
                        null));
            }
        }
    }

    @Test
    void aFileWhoseTaskDoesNotFitItsNetworkIsRefusedAndLeavesTheModelUnchanged() throws IOException {
        Path file = dir.resolve("binary.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 4, 5, 3, 1);
             Sequential target = ModelFixtures.mlp(backend, 4, 5, 3, 2)) {
            ModelFile.save(file, m, SavedModel.metadata(Task.BINARY, null, Map.of()));
            String expected = file + ": metadata backprop.task: task binary takes one output per example (the logit "
                    + "of class 1), but the network's last layer gives 3; use task classification for 3 classes";
            assertRefused(file, expected, target);
        }
    }

    @Test
    void aFileWithoutATaskIsBinaryOnlyForOneOutput() throws IOException {
        Path file = dir.resolve("conv.safetensors");
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).conv2d(Conv2d.options(1, 1, 3))
                .flatten().build()) {
            ModelFile.save(file, m);  // one channel of H x W outputs: its last bias has one element
        }
        try (SavedModel.Loaded l = SavedModel.load(file, backend)) {
            assertEquals(Task.CLASSIFICATION, l.task());
        }
    }

    @Test
    void aFileOfAnotherNetworkIsRefusedForItsArchitectureBeforeItsClassNames() throws IOException {
        Path file = dir.resolve("three.safetensors");
        try (Sequential three = ModelFixtures.mlp(backend, 4, 5, 3, 1);
             Sequential two = ModelFixtures.mlp(backend, 4, 5, 2, 2)) {
            SavedModel.save(file, three, Task.CLASSIFICATION, List.of("a", "b", "c"), Map.of());
            String message = assertThrows(ModelFileException.class,
                    () -> SavedModel.load(file, two, false)).getMessage();
            assertTrue(message.startsWith(file + ": the file's architecture "), message);
            ModelFile.save(file, three, SavedModel.metadata(Task.BINARY, null, Map.of()));
            message = assertThrows(ModelFileException.class, () -> SavedModel.load(file, two, false)).getMessage();
            assertTrue(message.startsWith(file + ": the file's architecture "), message);
        }
    }

    @Test
    void aFileWithoutATaskWhoseInferredTaskDoesNotFitSaysTheTaskWasInferred() throws IOException {
        Path file = dir.resolve("sigmoid.safetensors");
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(4, 1).sigmoid().build()) {
            ModelFile.save(file, m);
        }
        String message = assertThrows(ModelFileException.class, () -> SavedModel.load(file, backend)).getMessage();
        assertTrue(message.startsWith(file + ": no backprop.task in the metadata, so the task is inferred as binary "
                + "(one output), which does not fit the network: task binary applies the sigmoid"), message);
        assertTrue(message.endsWith("; or save the model with SavedModel.save and its task"), message);
    }

    @Test
    void anEmptyListOfClassNamesIsNoneForBinaryAndRegression() throws IOException {
        try (Sequential one = ModelFixtures.mlp(backend, 4, 5, 1, 1)) {
            for (Task task : List.of(Task.BINARY, Task.REGRESSION)) {
                Path file = dir.resolve(task.id() + ".safetensors");
                SavedModel.save(file, one, task, List.of(), Map.of());
                try (SavedModel.Loaded l = SavedModel.load(file, backend)) {
                    assertEquals(task, l.task());
                    assertEquals(List.of(), l.classNames());
                }
            }
        }
    }
}
