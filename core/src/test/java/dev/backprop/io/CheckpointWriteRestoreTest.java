package dev.backprop.io;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.DType;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The write paths of model files and checkpoints (extra metadata written in the same single write), and a restore
 * that refuses bad counters before it changes anything.
 */
class CheckpointWriteRestoreTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Sequential mlp(long seed) {
        return Sequential.builder(backend, DType.FLOAT32).seed(seed).dense(3, 4).relu().dense(4, 2).build();
    }

    /** A model and an Adam optimizer that has taken one step, so its state is not all zeros. */
    private static void oneStep(Sequential m, Optimizer opt) {
        m.parameters().values().forEach(v -> Elementwise.fill(v.grad(), 0.25));
        opt.step();
    }

    @Test
    void extraMetadataIsWrittenAfterTheFormatsOwnInOneWrite() throws IOException {
        Path f = dir.resolve("m.safetensors");
        Set<String> created;
        try (Sequential m = mlp(1); WatchService watch = FileSystems.getDefault().newWatchService()) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("backprop.note", "hello");
            extra.put("backprop.more", "x");
            ModelFile.save(f, m, extra);
            created = createdNames(watch, f.getFileName().toString());
        }
        assertEquals(2, created.size(), "one temporary file, then the model file itself: " + created);
        try (SafeTensorsFile sf = SafeTensorsFile.open(f)) {
            Map<String, String> meta = sf.metadata();
            assertEquals("hello", meta.get("backprop.note"));
            assertEquals("x", meta.get("backprop.more"));
            assertTrue(meta.containsKey(ModelFile.ARCHITECTURE_KEY));
        }
    }

    /** The distinct names created in {@code dir} until {@code last} appears (and briefly after it). */
    private static Set<String> createdNames(WatchService watch, String last) throws IOException {
        Set<String> names = new LinkedHashSet<>();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!names.contains(last) && System.nanoTime() < end) {
                drain(watch.poll(1, TimeUnit.SECONDS), names);
            }
            drain(watch.poll(300, TimeUnit.MILLISECONDS), names);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return names;
    }

    private static void drain(WatchKey key, Set<String> names) {
        if (key == null) {
            return;
        }
        for (WatchEvent<?> e : key.pollEvents()) {
            if (e.context() instanceof Path p) {
                names.add(p.toString());
            }
        }
        key.reset();
    }

    @Test
    void anExtraKeyOfTheFormatIsRefusedAndNothingIsWritten() throws IOException {
        Path f = dir.resolve("m.safetensors");
        try (Sequential m = mlp(1); Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelFile.save(f, m, Map.of(ModelFile.VERSION_KEY, "2")));
            assertTrue(e.getMessage().contains("'" + ModelFile.VERSION_KEY + "' belongs to the model file format"),
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(f, m, opt, null, Map.of(),
                    Map.of(Checkpoint.PROGRESS_KEY, "{}")));
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no file and no temporary file");
        }
    }

    /**
     * The same counters give the same bytes in any iteration order: a {@code Map.of}'s order is salted per JVM run,
     * and two runs of one command must write identical checkpoints.
     */
    @Test
    void progressCountersAreWrittenInKeyOrderWhateverTheMapsOrder() throws IOException {
        Map<String, Long> forward = new LinkedHashMap<>();
        forward.put("epoch", 2L);
        forward.put("seed", 7L);
        forward.put("batch_size", 128L);
        Map<String, Long> backward = new LinkedHashMap<>();
        backward.put("batch_size", 128L);
        backward.put("seed", 7L);
        backward.put("epoch", 2L);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        try (Sequential m = mlp(1); Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            oneStep(m, opt);
            Checkpoint.save(a, m, opt, null, forward);
            Checkpoint.save(b, m, opt, null, backward);
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        try (SafeTensorsFile sf = SafeTensorsFile.open(a)) {
            assertEquals("{\"batch_size\":128,\"epoch\":2,\"seed\":7}", sf.metadata().get(Checkpoint.PROGRESS_KEY));
        }
    }

    /**
     * A checkpoint whose step count, learning rate or schedule epoch cannot be restored is refused, and the model's
     * weights, the optimizer's state and counters and the schedule are exactly what they were.
     */
    @Test
    void aRestoreRefusedForItsCountersChangesNothing() throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Sequential m = mlp(1); Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            StepLR schedule = new StepLR(opt, 1, 0.5);
            oneStep(m, opt);
            schedule.step();
            Checkpoint.save(good, m, opt, schedule, Map.of("epoch", 1L));
        }
        String[][] bad = {{Checkpoint.OPTIMIZER_KEY, "step", "-3", "'step' must be a whole number",
                "at least 0, got -3"},
                {Checkpoint.OPTIMIZER_KEY, "lr", "-0.5", "learning rate must be finite and >= 0", "got -0.5"},
                {Checkpoint.SCHEDULE_KEY, "epoch", "-1", "'epoch' must be a whole number", "at least 0, got -1"},
                // StepLR(0.01, step 1, gamma 0.5) gives 0.005 after epoch 1, as torch.optim.lr_scheduler.StepLR.
                {Checkpoint.OPTIMIZER_KEY, "lr", "0.3", "optimizer lr 0.3 is not the rate 0.005",
                        "step schedule gives after epoch 1"},
                {Checkpoint.SCHEDULE_KEY, "epoch", "3", "optimizer lr 0.005 is not the rate 0.00125",
                        "after epoch 3"}};
        for (String[] b : bad) {
            Path f = dir.resolve("bad-" + b[1] + "-" + b[2] + ".safetensors");
            rewriteCounter(good, f, b[0], b[1], b[2]);
            try (Sequential m = mlp(7); Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
                StepLR schedule = new StepLR(opt, 1, 0.5);
                oneStep(m, opt);
                schedule.step();
                Map<String, double[]> before = snapshot(m, opt);
                double lr = opt.learningRate();
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> Checkpoint.restore(f, m, opt, schedule));
                assertTrue(e.getMessage().contains(b[3]) && e.getMessage().contains(b[4]), e.getMessage());
                Map<String, double[]> after = snapshot(m, opt);
                assertEquals(before.keySet(), after.keySet());
                before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " after a refused restore"));
                assertEquals(1, opt.stepCount(), "step count");
                assertEquals(lr, opt.learningRate(), "learning rate");
                assertEquals(1, schedule.epoch(), "schedule epoch");
            }
        }
    }

    @Test
    void optimizerStateOfAnotherShapeOrDtypeIsRefusedAndChangesNothing() throws IOException {
        Path good = adamCheckpoint();
        String state = "optimizer.2.weight.exp_avg";
        String[] expected = {"tensor '" + state + "' is F32 [4, 2], expected F32 [2, 4]",
            "tensor '" + state + "' is F64 [2, 4], expected F32 [2, 4]"};
        for (int variant = 0; variant < 2; variant++) {
            int v = variant;
            Path f = withTensor(good, "bad-" + variant + ".safetensors", state, m -> {
                assertArrayEquals(new int[] {2, 4}, m.shape().dims(), "the state of the last layer's weight");
                return v == 0 ? Tensor.of(backend, m.toFloatArray(), 4, 2) : Tensor.of(backend, m.toDoubles(), 2, 4);
            });
            ModelFileException e = refusedChangingNothing(f);
            assertTrue(e.getMessage().endsWith(expected[variant]), e.getMessage());
        }
    }

    /**
     * A negative Adam second moment, which no step makes (it averages squared gradients) and which would turn the
     * first resumed step into NaN, is refused before anything changes; a zero one (a gradient never nonzero) loads.
     */
    @Test
    void aNegativeAdamSecondMomentIsRefusedAndChangesNothing() throws IOException {
        Path good = adamCheckpoint();
        String state = "optimizer.2.weight.exp_avg_sq";
        for (float value : new float[] {-1e-8f, 0f}) {
            Path f = withTensor(good, "moment-" + value + ".safetensors", state, m -> {
                float[] v = m.toFloatArray();
                v[5] = value;
                return Tensor.of(backend, v, 2, 4);
            });
            if (value == 0f) {
                try (Sequential model = mlp(7); Optimizer opt = Adam.adam(model.parameters(), 0.01)) {
                    oneStep(model, opt);
                    Checkpoint.restore(f, model, opt, null);
                    assertEquals(0f, opt.state().get("2.weight.exp_avg_sq").toFloatArray()[5]);
                }
                continue;
            }
            ModelFileException e = refusedChangingNothing(f);
            assertEquals(f + ": " + state + "[1, 1] is -1.0E-8: Adam's second moment, a moving average of "
                    + "squared gradients, cannot be negative", e.getMessage());
        }
    }

    /** A checkpoint of {@link #mlp} seed 1 and an Adam optimizer after one step, at epoch 1. */
    private Path adamCheckpoint() throws IOException {
        Path good = dir.resolve("good.safetensors");
        try (Sequential m = mlp(1); Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            oneStep(m, opt);
            Checkpoint.save(good, m, opt, null, Map.of("epoch", 1L));
        }
        return good;
    }

    /** A copy of {@code good} named {@code name} with tensor {@code state} replaced by {@code edit} of it. */
    private Path withTensor(Path good, String name, String state, UnaryOperator<Tensor> edit) throws IOException {
        Path f = dir.resolve(name);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafeTensorsFile in = SafeTensorsFile.open(good)) {
            meta = in.metadata();
            for (String t : in.shapes().keySet()) {
                tensors.put(t, in.read(t, backend, DType.FLOAT32));
            }
        }
        tensors.put(state, edit.apply(tensors.get(state)));
        SafeTensorsFile.write(f, tensors, meta);
        tensors.values().forEach(Tensor::close);
        return f;
    }

    /**
     * Restores {@code f} into a model and Adam optimizer that took one step, expecting a refusal that leaves their
     * values and step count as they were.
     */
    private ModelFileException refusedChangingNothing(Path f) {
        try (Sequential model = mlp(7); Optimizer opt = Adam.adam(model.parameters(), 0.01)) {
            oneStep(model, opt);
            Map<String, double[]> before = snapshot(model, opt);
            ModelFileException e = assertThrows(ModelFileException.class,
                    () -> Checkpoint.restore(f, model, opt, null));
            Map<String, double[]> after = snapshot(model, opt);
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " after a refused restore"));
            assertEquals(1, opt.stepCount(), "step count");
            return e;
        }
    }

    private static Map<String, double[]> snapshot(Sequential m, Optimizer opt) {
        Map<String, double[]> s = new LinkedHashMap<>();
        m.parameters().forEach((k, v) -> s.put(k, v.value().toDoubles()));
        opt.state().forEach((k, v) -> s.put("optimizer." + k, v.toDoubles()));
        assertFalse(opt.state().isEmpty(), "Adam has state");
        return s;
    }

    /** Copies checkpoint {@code from} to {@code to} with one counter of one metadata object replaced. */
    private void rewriteCounter(Path from, Path to, String key, String field, String value) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafeTensorsFile f = SafeTensorsFile.open(from)) {
            meta = new LinkedHashMap<>(f.metadata());
            for (String name : f.shapes().keySet()) {
                tensors.put(name, f.read(name, backend, DType.FLOAT32));
            }
        }
        JsonObject o = JsonParser.parseString(meta.get(key)).getAsJsonObject();
        o.add(field, JsonParser.parseString(value));
        meta.put(key, o.toString());
        try {
            SafeTensorsFile.write(to, tensors, meta);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }
}
