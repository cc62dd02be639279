package dev.backprop.io;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.loss.SquaredError;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.BatchNorm;
import dev.backprop.nn.Dense;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tied model through model files and checkpoints, as PyTorch and safetensors give the round trip. For
 * {@code m = nn.Sequential(lin, nn.Tanh(), lin)}, safetensors' {@code save_model(m, path)} drops every name of a
 * shared tensor but one, {@code keep_name = sorted(complete_names)[0]} ({@code _remove_duplicate_names} in
 * {@code safetensors/torch.py}), so the file holds {@code 0.weight} and {@code 0.bias}; and {@code load_model(m,
 * path)} loads it into a tied module with {@code load_state_dict(strict=False)}, treating the dropped names, which
 * come back missing, as fine. Backprop writes the same tensors and records the dropped names in
 * {@value ModelFile#TIED_KEY}, so it can rebuild the tie from the file alone.
 */
class TiedModelFileTest {
    private static final float[] W = {0.5f, -0.3f, 0.2f, 0.8f};
    private static final float[] B = {0.1f, -0.2f};
    private static final float[] X = {1.0f, 2.0f, -0.5f, 0.3f, 0.7f, -1.2f};
    private static final float[] Y = {0.2f, -0.1f, 0.0f, 0.5f, -0.3f, 0.4f};

    private final ReferenceBackend be = new ReferenceBackend();

    @AfterEach
    void close() {
        be.close();
    }

    private Dense lin(float scale) {
        return new Dense(2, 2, true, (name, shape, role, fanIn, fanOut) -> {
            float[] v = name.equals("weight") ? W.clone() : B.clone();
            for (int i = 0; i < v.length; i++) {
                v[i] *= scale;
            }
            return Tensor.of(be, v, shape);
        });
    }

    private Sequential tied(float scale) {
        Dense lin = lin(scale);
        return Sequential.of(lin, Activation.tanh(), lin);
    }

    private float[] forward(Layer m) {
        return m.forward(Variable.constant(Tensor.of(be, X.clone(), 3, 2))).value().toFloatArray();
    }

    @Test
    void aTiedModelIsSavedOnceUnderTheKeptNameWithItsTies(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tied.safetensors");
        try (Sequential m = tied(1)) {
            assertEquals(Map.of("2.bias", "0.bias", "2.weight", "0.weight"), ModelFile.ties(m));
            ModelFile.save(file, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(f.shapes().keySet()));
            assertEquals("{\"2.bias\":\"0.bias\",\"2.weight\":\"0.weight\"}", f.metadata().get(ModelFile.TIED_KEY));
        }
    }

    @Test
    void anUntiedModelFileHasNoTiedKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("untied.safetensors");
        try (Sequential m = Sequential.of(lin(1), Activation.tanh(), lin(2))) {
            assertTrue(ModelFile.ties(m).isEmpty());
            ModelFile.save(file, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(java.util.Set.of("format", ModelFile.VERSION_KEY, ModelFile.ARCHITECTURE_KEY),
                    f.metadata().keySet());
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(f.shapes().keySet()));
        }
    }

    @Test
    void loadingRebuildsOneLayerInBothPlaces(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tied.safetensors");
        float[] expected;
        try (Sequential m = tied(1)) {
            expected = forward(m);
            SavedModel.save(file, m, Task.REGRESSION, null, Map.of());
        }
        try (Sequential m = (Sequential) ModelFile.load(file, be)) {
            assertSame(m.layers().get(0), m.layers().get(2));
            assertEquals(Map.of("2.weight", "0.weight", "2.bias", "0.bias"), m.sharedParameters());
            assertArrayEquals(expected, forward(m));
        }
        try (SavedModel.Loaded loaded = SavedModel.load(file, be)) {
            Sequential m = (Sequential) loaded.model();
            assertSame(m.layers().get(0), m.layers().get(2));
            assertArrayEquals(expected, forward(m));
        }
    }

    /**
     * Layers 2 and 10 tied: Python's {@code sorted(["2.weight", "10.weight"])[0]} is {@code "10.weight"}, so the file
     * holds the tensor under the later layer's name, and loading puts it back in both places.
     */
    @Test
    void theKeptNameIsTheOneThatSortsFirst(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("eleven.safetensors");
        float[] expected;
        Dense lin = lin(1);
        List<Layer> layers = new ArrayList<>(List.of(Activation.tanh(), Activation.relu(), lin));
        for (int i = 3; i < 10; i++) {
            layers.add(Activation.tanh());
        }
        layers.add(lin);
        try (Sequential m = new Sequential(layers)) {
            assertEquals(Map.of("2.bias", "10.bias", "2.weight", "10.weight"), ModelFile.ties(m));
            expected = forward(m);
            ModelFile.save(file, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("10.weight", "10.bias"), List.copyOf(f.shapes().keySet()));
        }
        try (Sequential m = (Sequential) ModelFile.load(file, be)) {
            assertSame(m.layers().get(2), m.layers().get(10));
            assertEquals(List.of("2.weight", "2.bias"), List.copyOf(m.parameters().keySet()));
            assertArrayEquals(expected, forward(m));
        }
    }

    @Test
    void aNestedTieAndATiedBatchNormComeBackTied(@TempDir Path dir) throws IOException {
        Path nested = dir.resolve("nested.safetensors");
        Path norm = dir.resolve("norm.safetensors");
        Dense other = lin(1);
        try (Sequential m = Sequential.of(other, Sequential.of(other, Activation.tanh(), other))) {
            ModelFile.save(nested, m);
        }
        try (Sequential m = (Sequential) ModelFile.load(nested, be)) {
            Sequential inner = (Sequential) m.layers().get(1);
            assertSame(m.layers().get(0), inner.layers().get(0));
            assertSame(m.layers().get(0), inner.layers().get(2));
            assertEquals(List.of("0.weight", "0.bias"), List.copyOf(m.parameters().keySet()));
        }
        Path whole = dir.resolve("whole.safetensors");
        Sequential block = Sequential.of(lin(1), Activation.tanh());
        try (Sequential m = Sequential.of(block, Activation.relu(), block)) {
            assertEquals(Map.of("2.0.bias", "0.0.bias", "2.0.weight", "0.0.weight"), ModelFile.ties(m));
            ModelFile.save(whole, m);
        }
        try (Sequential m = (Sequential) ModelFile.load(whole, be)) {
            assertSame(m.layers().get(0), m.layers().get(2), "a Sequential used twice is rebuilt as one");
        }
        BatchNorm bn = new BatchNorm(2, false, (name, shape, role, fanIn, fanOut) ->
                Tensor.of(be, name.equals("weight") ? new float[] {1.5f, 0.5f} : new float[] {0.1f, 0.2f}, shape));
        try (Sequential m = Sequential.of(bn, lin(1), bn)) {
            m.forward(Variable.constant(Tensor.of(be, X.clone(), 3, 2)));
            assertEquals(2, m.counters().get("0.num_batches_tracked")[0], "one counter, stepped by both uses");
            ModelFile.save(norm, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(norm)) {
            assertFalse(f.shapes().containsKey("2.running_mean"));
            assertFalse(f.shapes().containsKey("2.num_batches_tracked"));
            assertEquals(2, f.readInt64Scalar("0.num_batches_tracked"));
        }
        try (Sequential m = (Sequential) ModelFile.load(norm, be)) {
            assertSame(m.layers().get(0), m.layers().get(2));
            assertEquals(2, m.counters().get("2.num_batches_tracked")[0]);
        }
    }

    @Test
    void loadIntoATiedModelTakesTheSameTiesOrEqualValuesAndRefusesOthers(@TempDir Path dir) throws IOException {
        Path tiedFile = dir.resolve("tied.safetensors");
        Path equal = dir.resolve("equal.safetensors");
        Path differs = dir.resolve("differs.safetensors");
        try (Sequential m = tied(2)) {
            ModelFile.save(tiedFile, m);
            // torch.save-style state_dict with every name, as safetensors.torch.save_file(m.state_dict()) would if
            // it allowed shared tensors: the tied names hold equal values.
            SafeTensorsFile.write(equal, ModelFile.allTensors(m), Map.of());
        }
        try (Sequential a = Sequential.of(lin(2), Activation.tanh(), lin(3))) {
            ModelFile.save(differs, a);
        }
        try (Sequential m = tied(1)) {
            ModelFile.loadInto(tiedFile, m);
            assertArrayEquals(new float[] {1f, -0.6f, 0.4f, 1.6f},
                    m.parameters().get("0.weight").value().toFloatArray());
            ModelFile.loadInto(equal, m);
            assertArrayEquals(new float[] {0.2f, -0.4f}, m.parameters().get("0.bias").value().toFloatArray());
        }
        try (Sequential m = tied(1)) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(differs, m));
            assertEquals(differs + ": the model ties '2.bias' to '0.bias', but the file holds them apart with "
                    + "different values: '2.bias'[0] is " + (double) (0.1f * 3) + ", '0.bias'[0] is "
                    + (double) (0.1f * 2), e.getMessage());
            assertArrayEquals(W, m.parameters().get("0.weight").value().toFloatArray(), "the model is unchanged");
        }
        try (Sequential untied = Sequential.of(lin(1), Activation.tanh(), lin(1))) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(tiedFile, untied));
            assertEquals(tiedFile + ": the file ties {2.bias=0.bias, 2.weight=0.weight} but the model ties nothing",
                    e.getMessage());
            assertArrayEquals(W, untied.parameters().get("2.weight").value().toFloatArray(), "the model is unchanged");
        }
    }

    /** A file may hold a tie under either name of its group (safetensors' {@code load_model} prefers the file's). */
    @Test
    void aFileKeepingTheOtherNameLoadsToo(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("other.safetensors");
        try (Sequential m = tied(2)) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("2.weight", m.parameters().get("0.weight").value());
            t.put("2.bias", m.parameters().get("0.bias").value());
            SafeTensorsFile.write(file, t, Map.of(ModelFile.TIED_KEY,
                    "{\"0.weight\":\"2.weight\",\"0.bias\":\"2.bias\"}"));
        }
        try (Sequential m = tied(1)) {
            ModelFile.loadInto(file, m);
            assertArrayEquals(new float[] {0.2f, -0.4f}, m.parameters().get("0.bias").value().toFloatArray());
        }
    }

    /**
     * A file as PyTorch's {@code safetensors.torch.save_model(m, path)} writes it for the tied module: the kept
     * tensors, and each dropped name as a metadata entry of its own ({@code if to_remove not in metadata:
     * metadata[to_remove] = kept_name}, then {@code del state_dict[to_remove]}), with no {@value ModelFile#TIED_KEY}.
     */
    @Test
    void aFileThatSafetensorsSaveModelWroteLoadsIntoATiedModel(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("torch.safetensors");
        try (Sequential m = tied(2)) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("2.bias", "0.bias");
            meta.put("2.weight", "0.weight");
            meta.put("format", "pt");
            SafeTensorsFile.write(file, ModelFile.tensorsOf(m), meta);
        }
        try (Sequential m = tied(1)) {
            ModelFile.loadInto(file, m);
            assertArrayEquals(new float[] {0.2f, -0.4f}, m.parameters().get("0.bias").value().toFloatArray());
        }
        try (Sequential untied = Sequential.of(lin(1), Activation.tanh(), lin(1))) {
            assertEquals(file + ": the file ties {2.bias=0.bias, 2.weight=0.weight} but the model ties nothing",
                    assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, untied)).getMessage());
        }
    }

    /** Hand-written files whose {@value ModelFile#TIED_KEY} is malformed or cannot be rebuilt: refused as corrupt. */
    @Test
    void malformedTiesAreRefusedBeforeAnythingIsBuilt(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.safetensors");
        String arch;
        try (Sequential m = tied(1)) {
            arch = ArchitectureJson.write(m.spec());
        }
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("[1]", "must be a JSON object of tied name to kept name, got [1]");
        cases.put("{\"2.weight\":1}", "ties '2.weight' to 1, not to a name");
        cases.put("{\"2.weight\":\"0.weight\",\"2.weight\":\"0.weight\"}", "is not valid JSON: duplicate key");
        cases.put("{\"5.weight\":\"0.weight\"}", "names '5.weight', which is not in the model's state");
        cases.put("{\"2.weight\":\"2.weight\"}", "ties '2.weight' to '2.weight', itself");
        cases.put("{\"2.weight\":\"2.bias\"}", "ties '2.weight' to '2.bias', but '2.weight' is [2, 2] and '2.bias' "
                + "is [2]");
        cases.put("{\"2.weight\":\"x\"}", "names 'x', which is not in the model's state");
        cases.put("{\"2.weight\":\"0.weight\",\"0.weight\":\"0.bias\"}", "ties '2.weight' to '0.weight', which is "
                + "tied to '0.bias' itself (a tie names the kept tensor)");
        cases.put("{\"0.bias\":\"2.bias\"}", "ties '0.bias' to '2.bias', but the file holds a tensor '0.bias' too");
        cases.put("{\"2.bias\":\"0.bias\"}", "makes '2.bias' and '0.bias' one tensor, which the architecture cannot "
                + "rebuild");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("0.weight", Tensor.of(be, W.clone(), 2, 2));
            t.put("0.bias", Tensor.of(be, B.clone(), 2));
            t.put("2.weight", Tensor.of(be, W.clone(), 2, 2));
            if (!c.getKey().contains("\"2.bias\":\"0.bias\"")) {
                t.put("2.bias", Tensor.of(be, B.clone(), 2));
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(ModelFile.ARCHITECTURE_KEY, arch);
            meta.put(ModelFile.TIED_KEY, c.getKey());
            SafeTensorsFile.write(file, t, meta);
            t.values().forEach(Tensor::close);
            long live = be.memoryStats().liveBuffers();
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(file, be),
                    c.getKey());
            assertTrue(e.getMessage().startsWith(file + ": metadata 'backprop.tied' " + c.getValue()),
                    c.getKey() + " gave: " + e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            assertEquals(live, be.memoryStats().liveBuffers(), "nothing allocated for " + c.getKey());
            if (!c.getValue().startsWith("makes")) {
                try (Sequential m = tied(1)) {
                    assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, m), c.getKey());
                    assertArrayEquals(W, m.parameters().get("0.weight").value().toFloatArray());
                }
            }
        }
    }

    /**
     * Four steps of a tied model equal two, a checkpoint, a restore into a fresh tied model (other weights, a fresh
     * optimizer) and two more, bit for bit: the parameters and the optimizer state (Adam's moments, SGD's momentum).
     */
    @Test
    void aCheckpointOfATiedModelResumesExactly(@TempDir Path dir) throws IOException {
        List<Function<Sequential, Optimizer>> optimizers = List.of(
                m -> Adam.builder(m.parameters()).lr(0.01).weightDecay(0.01).build(),
                m -> Sgd.builder(m.parameters()).lr(0.1).momentum(0.9).weightDecay(0.01).build());
        for (Function<Sequential, Optimizer> make : optimizers) {
            Path ckpt = dir.resolve("tied.ckpt");
            Map<String, float[]> straight;
            try (Sequential m = tied(1); Optimizer opt = make.apply(m)) {
                steps(m, opt, 4);
                straight = snapshot(m, opt);
            }
            try (Sequential m = tied(1); Optimizer opt = make.apply(m)) {
                steps(m, opt, 2);
                Checkpoint.save(ckpt, m, opt, null, Map.of("epoch", 2L));
            }
            try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
                assertFalse(f.shapes().containsKey("2.weight"));
                assertEquals("{\"2.bias\":\"0.bias\",\"2.weight\":\"0.weight\"}",
                        f.metadata().get(ModelFile.TIED_KEY));
            }
            try (Sequential m = tied(3); Optimizer opt = make.apply(m)) {
                assertEquals(Map.of("epoch", 2L), Checkpoint.restore(ckpt, m, opt, null));
                steps(m, opt, 2);
                Map<String, float[]> resumed = snapshot(m, opt);
                assertEquals(straight.keySet(), resumed.keySet());
                straight.forEach((k, v) -> assertArrayEquals(v, resumed.get(k), k));
            }
            try (Sequential untied = Sequential.of(lin(1), Activation.tanh(), lin(1));
                 Optimizer opt = make.apply(untied)) {
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> Checkpoint.restore(ckpt, untied, opt, null));
                assertTrue(e.getMessage().contains("the file ties {2.bias=0.bias, 2.weight=0.weight} but the model "
                        + "ties nothing"), e.getMessage());
                assertEquals(0, opt.stepCount());
            }
            Files.delete(ckpt);
        }
    }

    private void steps(Sequential m, Optimizer opt, int n) {
        for (int s = 0; s < n; s++) {
            m.zeroGrad();
            try (Tape tape = Tape.open()) {
                new SquaredError().compute(m.forward(Variable.constant(Tensor.of(be, X.clone(), 3, 2))),
                        Tensor.of(be, Y.clone(), 3, 2)).backward();
            }
            opt.step();
        }
    }

    private static Map<String, float[]> snapshot(Sequential m, Optimizer opt) {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.parameters().forEach((k, v) -> s.put(k, v.value().toFloatArray()));
        opt.state().forEach((k, v) -> s.put("optimizer." + k, v.toFloatArray()));
        s.put("step", new float[] {opt.stepCount()});
        return s;
    }

    @Test
    void aModelLoadedAsFloat64KeepsItsTies(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tied.safetensors");
        try (Sequential m = tied(1)) {
            ModelFile.save(file, m);
        }
        try (Sequential m = (Sequential) ModelFile.load(file, be, DType.FLOAT64)) {
            assertSame(m.layers().get(0), m.layers().get(2));
            assertEquals(DType.FLOAT64, m.parameters().get("0.weight").value().dtype());
        }
    }

    /**
     * A batch norm at 9,999 places (the sequential and its layers are the 10,000 layers a file may hold): 9,998
     * ties of each of its four floating names and of its counter, each checked against 9,999 counter names, then
     * rebuilt as one layer.
     */
    @Test
    void aLayerUsedTenThousandTimesComesBackAsOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("many.safetensors");
        int uses = 9_999;
        BatchNorm bn = new BatchNorm(2, false, (name, shape, role, fanIn, fanOut) ->
                Tensor.of(be, name.equals("weight") ? new float[] {1.5f, 0.5f} : new float[] {0.1f, 0.2f}, shape));
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < uses; i++) {
            layers.add(bn);
        }
        try (Sequential m = new Sequential(layers)) {
            assertEquals(5 * (uses - 1), ModelFile.ties(m).size());
            ModelFile.save(file, m);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(5, f.header().entries().size(), "the batch norm's state once: " + f.shapes().keySet());
        }
        try (Sequential m = (Sequential) ModelFile.load(file, be)) {
            assertSame(m.layers().get(0), m.layers().get(uses - 1));
            assertArrayEquals(new float[] {1.5f, 0.5f}, m.parameters().get("0.weight").value().toFloatArray());
        }
    }
}
