package dev.backprop.model;

import dev.backprop.backend.DType;
import dev.backprop.data.ImageTransform;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SavedModelTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void roundTripKeepsWeightsTaskClassNamesAndFacts() throws IOException {
        Path f = dir.resolve("m.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 4, 3, 1, 1)) {
            SavedModel.save(f, m, Task.BINARY, List.of("no", "yes"), Map.of("backprop.note", "hello"));
            try (SavedModel.Loaded l = SavedModel.load(f, backend)) {
                assertEquals(Task.BINARY, l.task());
                assertEquals(List.of("no", "yes"), l.classNames());
                assertEquals("hello", l.metadata().get("backprop.note"));
                assertEquals(m.spec(), l.model().spec());
                ModelFixtures.assertSameParameters(m, (Sequential) l.model());
            }
        }
        try (Sequential m2 = ModelFixtures.mlp(backend, 4, 3, 1, 99)) {
            ModelFile.loadInto(f, m2);
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void checkpointsKeepTheOptimizerStateForCheckpointRestore() throws IOException {
        Path f = dir.resolve("ck.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 3, 4, 2, 2);
             Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            m.parameters().values().forEach(v -> dev.backprop.tensor.Elementwise.fill(v.grad(), 0.5));
            opt.step();
            Checkpoint.save(f, m, opt, null, Map.of("epoch", 3L), SavedModel.metadata(Task.REGRESSION, null,
                    Map.of()));
            try (Sequential fresh = ModelFixtures.mlp(backend, 3, 4, 2, 77);
                 Optimizer opt2 = Adam.adam(fresh.parameters(), 0.01)) {
                Map<String, Long> p = Checkpoint.restore(f, fresh, opt2, null);
                assertEquals(3L, p.get("epoch"));
                assertEquals(1, opt2.stepCount());
                ModelFixtures.assertSameParameters(m, fresh);
                for (Map.Entry<String, Tensor> e : opt.state().entrySet()) {
                    assertArrayEquals(e.getValue().toFloatArray(), opt2.state().get(e.getKey()).toFloatArray());
                }
            }
            try (SavedModel.Loaded l = SavedModel.load(f, backend)) {
                assertEquals(Task.REGRESSION, l.task());
                assertNull(l.classNames());
            }
        }
    }

    @Test
    void aPlainModelFileGetsItsTaskFromTheOutputWidth() throws IOException {
        Path wide = dir.resolve("wide.safetensors");
        Path one = dir.resolve("one.safetensors");
        try (Sequential a = ModelFixtures.mlp(backend, 3, 4, 5, 1);
             Sequential b = ModelFixtures.mlp(backend, 3, 4, 1, 1)) {
            ModelFile.save(wide, a);
            ModelFile.save(one, b);
        }
        try (SavedModel.Loaded l = SavedModel.load(wide, backend)) {
            assertEquals(Task.CLASSIFICATION, l.task());
        }
        try (SavedModel.Loaded l = SavedModel.load(one, backend)) {
            assertEquals(Task.BINARY, l.task());
        }
    }

    @Test
    void aBinaryModelThatEndsWithASigmoidIsNotSaved() {
        Path file = dir.resolve("sigmoid.safetensors");
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).dense(3, 4).relu().dense(4, 1).sigmoid()
                .build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SavedModel.save(file, m, Task.BINARY, null, Map.of()));
            assertTrue(e.getMessage().contains("drop the last sigmoid"), e.getMessage());
        }
        assertFalse(Files.exists(file));
    }

    @Test
    void badTaskMetadataIsAClearError() throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 2, 2, 2, 1)) {
            ModelFile.save(good, m);
            Map<String, String> meta = new LinkedHashMap<>(SavedModel.metadata(good));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            m.parameters().forEach((k, v) -> tensors.put(k, v.value()));
            Path badTask = dir.resolve("task.safetensors");
            meta.put(SavedModel.TASK_KEY, "ranking");
            SafeTensorsFile.write(badTask, tensors, meta);
            ModelFileException e = assertThrows(ModelFileException.class, () -> SavedModel.load(badTask, backend));
            assertTrue(e.getMessage().contains("ranking"), e.getMessage());
            Path badNames = dir.resolve("names.safetensors");
            meta.put(SavedModel.TASK_KEY, "classification");
            meta.put(SavedModel.CLASS_NAMES_KEY, "{\"a\": 1}");
            SafeTensorsFile.write(badNames, tensors, meta);
            e = assertThrows(ModelFileException.class, () -> SavedModel.load(badNames, backend));
            assertTrue(e.getMessage().contains(SavedModel.CLASS_NAMES_KEY), e.getMessage());
            Path override = dir.resolve("override.safetensors");
            meta.put(SavedModel.CLASS_NAMES_KEY, "[\"cat\", \"god\\u202e\"]");
            SafeTensorsFile.write(override, tensors, meta);
            assertEquals(override + ": metadata backprop.class_names: class name 'god\\u202E' holds U+202E, a "
                    + "bidirectional control character", assertThrows(ModelFileException.class,
                    () -> SavedModel.load(override, backend)).getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> {
            try (Sequential m = ModelFixtures.mlp(backend, 2, 2, 2, 1)) {
                SavedModel.save(dir.resolve("x.safetensors"), m, Task.CLASSIFICATION, null,
                        Map.of(ModelFile.ARCHITECTURE_KEY, "{}"));
            }
        }, "format keys cannot be overwritten");
        Path unreadable = dir.resolve("escape.safetensors");
        try (Sequential m = ModelFixtures.mlp(backend, 2, 2, 2, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SavedModel.save(
                    unreadable, m, Task.CLASSIFICATION, List.of("cat", "\u001b[2Jdog"), Map.of()));
            assertEquals("class name '\\u001B[2Jdog' holds U+001B, a control character, which a model file refuses",
                    e.getMessage());
        }
        assertFalse(Files.exists(unreadable), "no file a load would refuse is written");
    }

    @Test
    void theInputShapeIsRecordedAsItsDimensionsAfterTheBatch() {
        Map<String, String> facts = new LinkedHashMap<>();
        SavedModel.putInputShape(facts, 1, 28, 28);
        assertEquals(Map.of(SavedModel.INPUT_SHAPE_KEY, "1,28,28"), facts);
        SavedModel.putInputShape(facts, 784);
        assertEquals("784", facts.get("backprop.input_shape"));
        assertEquals("backprop.input_shape [1, 0, 28]: give at least one dimension, all >= 1", assertThrows(
                IllegalArgumentException.class, () -> SavedModel.putInputShape(facts, 1, 0, 28)).getMessage());
        assertEquals("backprop.input_shape []: give at least one dimension, all >= 1", assertThrows(
                IllegalArgumentException.class, () -> SavedModel.putInputShape(facts)).getMessage());
        assertEquals("784", facts.get(SavedModel.INPUT_SHAPE_KEY), "a refused shape changes nothing");
        SavedModel.putShape(facts, "backprop.image_shape", 3, 32, 32);
        assertEquals("3,32,32", facts.get("backprop.image_shape"));
        assertEquals("backprop.image_shape [3, -1]: give at least one dimension, all >= 1", assertThrows(
                IllegalArgumentException.class, () -> SavedModel.putShape(facts, "backprop.image_shape", 3, -1))
                .getMessage());
    }

    @Test
    void theImageTransformIsRecordedAndReadBackFromALoadedModel() throws IOException {
        Path f = dir.resolve("m.safetensors");
        ImageTransform t = ImageTransform.resize(72).centerCrop(64, 64);
        Map<String, String> facts = new LinkedHashMap<>();
        SavedModel.putImageTransform(facts, ImageTransform.NONE);
        assertEquals(Map.of(), facts, "no transform, no key");
        SavedModel.putImageTransform(facts, t);
        assertEquals(Map.of("backprop.image_transform", "resize=72,center_crop=64x64"), facts);
        try (Sequential m = ModelFixtures.mlp(backend, 4, 3, 1, 1)) {
            SavedModel.save(f, m, Task.BINARY, null, facts);
            try (SavedModel.Loaded l = SavedModel.load(f, backend)) {
                assertEquals(t, SavedModel.recordedImageTransform(l.metadata()));
            }
        }
        assertEquals(ImageTransform.NONE, SavedModel.recordedImageTransform(Map.of()));
        assertEquals("metadata backprop.image_transform: resize size must be N or HxW (for example 224 or 224x224), "
                + "got '\\u001B'", assertThrows(
                IllegalArgumentException.class, () -> SavedModel.recordedImageTransform(
                        Map.of(SavedModel.IMAGE_TRANSFORM_KEY, "resize=\u001B"))).getMessage());
    }

    /** One reader of recorded and given shapes: what {@link SavedModel#putShape} writes, spaces allowed around. */
    @Test
    void shapesAreReadAsTheyAreWritten() {
        Map<String, String> m = new java.util.HashMap<>();
        SavedModel.putInputShape(m, 3, 64, 48);
        assertArrayEquals(new int[] {3, 64, 48}, SavedModel.parseShape(m.get(SavedModel.INPUT_SHAPE_KEY)));
        assertArrayEquals(new int[] {3, 64, 48}, SavedModel.recordedInputShape(m));
        assertArrayEquals(new int[] {1, 28, 28}, SavedModel.parseShape(" 1, 28 ,28"));
        for (String bad : new String[] {"", "1,,28", "0", "1,-28", "+5", "1,28,x", "\u0665", "9999999999"}) {
            assertEquals("input shape '" + bad + "' must be positive integers like 1,28,28",
                    assertThrows(IllegalArgumentException.class, () -> SavedModel.parseShape(bad)).getMessage(), bad);
            assertNull(SavedModel.recordedInputShape(Map.of(SavedModel.INPUT_SHAPE_KEY, bad)), bad);
        }
    }
}
