package dev.backprop.io;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.DType;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model's whole {@code state_dict} in files: batch norm buffers beside the parameters, {@code num_batches_tracked}
 * as a strict I64 scalar (PyTorch's layout), a plain PyTorch file loaded into a built model, and a checkpoint's
 * training state (dropout streams), each refused when malformed before anything changes.
 */
class StateDictFileTest {
    private final ReferenceBackend be = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        be.close();
    }

    /** dense(4, 3), BatchNorm1d(3), dropout(0.5): parameters, buffers, a counter and a dropout stream. */
    private Sequential model(long seed) {
        return Sequential.builder(be, DType.FLOAT32).seed(seed).dense(4, 3).batchNorm1d(3).dropout(0.5).build();
    }

    private static void set(Tensor t, float... v) {
        t.backend().upload(v, 0, t.buffer(), t.offset(), v.length);
    }

    private static JsonObject header(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return JsonParser.parseString(new String(b, 8, (int) n, StandardCharsets.UTF_8).trim()).getAsJsonObject();
    }

    @Test
    void buffersAndCountersAreSavedUnderPyTorchsNamesAndLoadBack() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Sequential m = model(1)) {
            set(m.buffers().get("1.running_mean"), 0.5f, -0.25f, 2f);
            set(m.buffers().get("1.running_var"), 3f, 0.75f, 1.5f);
            m.counters().get("1.num_batches_tracked")[0] = 41;
            ModelFile.save(file, m);
            JsonObject h = header(file);
            assertEquals(List.of("__metadata__", "1.num_batches_tracked", "0.weight", "0.bias", "1.weight", "1.bias",
                    "1.running_mean", "1.running_var"), List.copyOf(h.keySet()));
            JsonObject counter = h.getAsJsonObject("1.num_batches_tracked");
            assertEquals("\"I64\"", counter.get("dtype").toString());
            assertEquals("[]", counter.get("shape").toString(), "a 0-dim tensor, as PyTorch stores it");
            assertEquals("[0,8]", counter.get("data_offsets").toString(), "8-byte values first: aligned");
            assertEquals("\"F32\"", h.getAsJsonObject("1.running_var").get("dtype").toString());
            assertTrue(h.keySet().stream().noneMatch(k -> k.contains("dropout")),
                    "a model file keeps no training state");
            try (Layer loaded = ModelFile.load(file, be); Sequential other = model(2)) {
                assertSameState(m, loaded);
                ModelFile.loadInto(file, other);
                assertSameState(m, other);
            }
        }
    }

    /** The load into a built model checks the file once: the check changes nothing, the fit it returns loads. */
    @Test
    void aCheckedFitChangesNothingUntilItIsLoaded() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Sequential m = model(1); Sequential target = model(2); Sequential untouched = model(2)) {
            m.counters().get("1.num_batches_tracked")[0] = 41;
            ModelFile.save(file, m);
            try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
                ModelFile.Fit fit = ModelFile.checkFits(f, target);
                assertSameState(untouched, target);
                fit.load();
            }
            assertSameState(m, target);
        }
    }

    private static void assertSameState(Layer a, Layer b) {
        assertEquals(a.buffers().keySet(), b.buffers().keySet());
        a.buffers().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), b.buffers().get(k).toFloatArray(), k));
        a.parameters().forEach((k, v) -> assertArrayEquals(v.value().toFloatArray(),
                b.parameters().get(k).value().toFloatArray(), k));
        assertEquals(a.counters().keySet(), b.counters().keySet());
        a.counters().forEach((k, v) -> assertEquals(v[0], b.counters().get(k)[0], k));
    }

    /** BatchNorm1d(3)'s state_dict as PyTorch's safetensors writer lays it out, with only {@code format: pt}. */
    private static byte[] pytorchBatchNorm(String counterEntry, byte[] counterBytes) {
        return pytorchBatchNorm(counterEntry, counterBytes, 0.1f, 0.2f, 0.3f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f);
    }

    /** As {@link #pytorchBatchNorm(String, byte[])} with these values of bias, running_mean, running_var, weight. */
    private static byte[] pytorchBatchNorm(String counterEntry, byte[] counterBytes, float... values) {
        String f32 = "\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":";
        int c = counterBytes.length;
        String header = "{\"__metadata__\":{\"format\":\"pt\"}," + counterEntry
                + ",\"0.bias\":{" + f32 + "[" + c + "," + (c + 12) + "]}"
                + ",\"0.running_mean\":{" + f32 + "[" + (c + 12) + "," + (c + 24) + "]}"
                + ",\"0.running_var\":{" + f32 + "[" + (c + 24) + "," + (c + 36) + "]}"
                + ",\"0.weight\":{" + f32 + "[" + (c + 36) + "," + (c + 48) + "]}}";
        byte[] floats = FileBytes.floats(values);
        byte[] data = Arrays.copyOf(counterBytes, c + floats.length);
        System.arraycopy(floats, 0, data, c, floats.length);
        return FileBytes.file(header, data);
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static String counter(String dtype, String shape, int bytes) {
        return "\"0.num_batches_tracked\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[0,"
                + bytes + "]}";
    }

    @Test
    void aPlainPyTorchStateDictLoadsIntoTheModelItsCallerBuilds() throws IOException {
        Path file = dir.resolve("torch.safetensors");
        Files.write(file, pytorchBatchNorm(counter("I64", "[]", 8), longBytes(7)));
        try (Sequential bn = Sequential.builder(be, DType.FLOAT32).batchNorm1d(3).build()) {
            ModelFile.loadInto(file, bn);
            assertArrayEquals(new float[] {7, 8, 9}, bn.parameters().get("0.weight").value().toFloatArray());
            assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, bn.parameters().get("0.bias").value().toFloatArray());
            assertArrayEquals(new float[] {1, 2, 3}, bn.buffers().get("0.running_mean").toFloatArray());
            assertArrayEquals(new float[] {4, 5, 6}, bn.buffers().get("0.running_var").toFloatArray());
            assertEquals(7, bn.counters().get("0.num_batches_tracked")[0]);
        }
        try (Sequential wider = Sequential.builder(be, DType.FLOAT32).batchNorm1d(4).build()) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, wider));
            assertTrue(e.getMessage().endsWith("tensor '0.weight' has shape [3], expected [4]"), e.getMessage());
        }
        try (Sequential dense = Sequential.builder(be, DType.FLOAT32).dense(3, 3).build()) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, dense));
            assertTrue(e.getMessage().endsWith("tensor '0.weight' has shape [3], expected [3, 3]"), e.getMessage());
        }
        try (Sequential two = Sequential.builder(be, DType.FLOAT32).batchNorm1d(3).batchNorm1d(3).build()) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, two));
            assertTrue(e.getMessage().endsWith("missing tensor '1.weight' (expected [3])"), e.getMessage());
        }
    }

    @Test
    void aCounterMustBeANonNegativeI64ScalarAndARefusalChangesNothing() throws IOException {
        Map<String, byte[]> bad = Map.of(
                "is I32 [], expected an I64 scalar (shape [])", pytorchBatchNorm(counter("I32", "[]", 4),
                        new byte[] {7, 0, 0, 0}),
                "is F64 [], expected an I64 scalar (shape [])", pytorchBatchNorm(counter("F64", "[]", 8),
                        longBytes(Double.doubleToLongBits(7))),
                "is I64 [1], expected an I64 scalar (shape [])", pytorchBatchNorm(counter("I64", "[1]", 8),
                        longBytes(7)),
                "counter '0.num_batches_tracked' is -3, a count must be >= 0", pytorchBatchNorm(counter("I64", "[]",
                        8), longBytes(-3)),
                "missing tensor '0.num_batches_tracked' (expected an I64 scalar)", pytorchBatchNorm(
                        counter("I64", "[]", 8).replace("0.num_batches_tracked", "0.num_batches"), longBytes(7)));
        for (Map.Entry<String, byte[]> c : bad.entrySet()) {
            Path file = dir.resolve("bad.safetensors");
            Files.write(file, c.getValue());
            try (Sequential bn = Sequential.builder(be, DType.FLOAT32).batchNorm1d(3).build()) {
                bn.counters().get("0.num_batches_tracked")[0] = 2;
                ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, bn),
                        c.getKey());
                assertTrue(e.getMessage().contains(c.getKey()), e.getMessage());
                assertArrayEquals(new float[] {1, 1, 1}, bn.parameters().get("0.weight").value().toFloatArray());
                assertArrayEquals(new float[] {0, 0, 0}, bn.buffers().get("0.running_mean").toFloatArray());
                assertEquals(2, bn.counters().get("0.num_batches_tracked")[0], "refused: the counter is unchanged");
            }
        }
        Path file = dir.resolve("i64-weight.safetensors");
        Files.write(file, FileBytes.file("{\"0.weight\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                longBytes(1)));
        try (Sequential d = Sequential.builder(be, DType.FLOAT32).dense(1, 1, false).build()) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, d));
            assertTrue(e.getMessage().endsWith("tensor '0.weight' is I64, expected F32 or F64"), e.getMessage());
        }
    }

    /** The two ways {@link #damage} breaks a batch norm's statistics, and the refusal each gets. */
    private static final Map<String, String> DAMAGED = Map.of(
            "var", "1.running_var[1] is -0.25: a variance cannot be negative",
            "count", "counter '1.num_batches_tracked' is -3, a count must be >= 0");

    /** Gives {@link #model}'s batch norm a negative running variance ({@code var}) or count ({@code count}). */
    private static void damage(Sequential m, String how) {
        set(m.buffers().get("1.running_var"), 3f, how.equals("var") ? -0.25f : 0.75f, 1.5f);
        m.counters().get("1.num_batches_tracked")[0] = how.equals("count") ? -3 : 41;
    }

    @Test
    void aNegativeRunningVarianceOrCountInAModelFileIsRefusedEvenWithNonFiniteAllowed() throws IOException {
        for (Map.Entry<String, String> c : DAMAGED.entrySet()) {
            Path file = dir.resolve(c.getKey() + ".safetensors");
            try (Sequential m = model(1)) {
                damage(m, c.getKey());
                ModelFile.save(file, m);
            }
            long live = be.memoryStats().liveBuffers();
            for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> ModelFile.load(file, be, dtype, true).close());
                assertEquals(file + ": " + c.getValue(), e.getMessage());
            }
            assertEquals(live, be.memoryStats().liveBuffers(), "what was read before the refusal is freed");
        }
    }

    @Test
    void aPlainPyTorchStateDictWithANegativeRunningVarianceChangesNothing() throws IOException {
        Path file = dir.resolve("torch.safetensors");
        Files.write(file, pytorchBatchNorm(counter("I64", "[]", 8), longBytes(7), 0.1f, 0.2f, 0.3f, 1f, 2f, 3f,
                4f, 5f, -6f, 7f, 8f, 9f));
        try (Sequential bn = Sequential.builder(be, DType.FLOAT32).batchNorm1d(3).build()) {
            for (boolean allowNonFinite : new boolean[] {false, true}) {
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> ModelFile.loadInto(file, bn, allowNonFinite));
                assertEquals(file + ": 0.running_var[2] is -6.0: a variance cannot be negative", e.getMessage());
            }
            assertArrayEquals(new float[] {1, 1, 1}, bn.parameters().get("0.weight").value().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.parameters().get("0.bias").value().toFloatArray());
            assertArrayEquals(new float[] {0, 0, 0}, bn.buffers().get("0.running_mean").toFloatArray());
            assertArrayEquals(new float[] {1, 1, 1}, bn.buffers().get("0.running_var").toFloatArray());
            assertEquals(0, bn.counters().get("0.num_batches_tracked")[0]);
        }
    }

    @Test
    void aCheckpointWithANegativeRunningVarianceOrCountIsRefusedBeforeResuming() throws IOException {
        for (Map.Entry<String, String> c : DAMAGED.entrySet()) {
            Path file = dir.resolve(c.getKey() + "-ck.safetensors");
            try (Sequential m = model(3); Adam opt = Adam.adam(m.parameters(), 0.01)) {
                damage(m, c.getKey());
                set(m.buffers().get("1.running_mean"), 0.5f, -0.25f, 2f);
                Checkpoint.save(file, m, opt, null, Map.of("epoch", 1L));
            }
            try (Sequential fresh = model(4); Adam freshOpt = Adam.adam(fresh.parameters(), 0.01)) {
                float[] before = fresh.parameters().get("0.weight").value().toFloatArray();
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> Checkpoint.restore(file, fresh, freshOpt, null));
                assertEquals(file + ": " + c.getValue(), e.getMessage());
                assertArrayEquals(before, fresh.parameters().get("0.weight").value().toFloatArray());
                assertArrayEquals(new float[] {0, 0, 0}, fresh.buffers().get("1.running_mean").toFloatArray());
                assertArrayEquals(new float[] {1, 1, 1}, fresh.buffers().get("1.running_var").toFloatArray());
                assertEquals(0, fresh.counters().get("1.num_batches_tracked")[0]);
            }
        }
    }

    @Test
    void aCheckpointCarriesTheDropoutStreamAndRefusesABadOneBeforeChangingAnything() throws IOException {
        Path file = dir.resolve("ck.safetensors");
        try (Sequential m = model(3); Adam opt = Adam.adam(m.parameters(), 0.01)) {
            set(m.buffers().get("1.running_mean"), 0.5f, -0.25f, 2f);
            m.counters().get("1.num_batches_tracked")[0] = 41;
            m.trainingState().get("2.dropout_offset")[0] = 12_345;
            Checkpoint.save(file, m, opt, null, Map.of("epoch", 1L));
            assertEquals("{\"2.dropout_seed\":" + m.trainingState().get("2.dropout_seed")[0]
                            + ",\"2.dropout_offset\":12345}",
                    header(file).getAsJsonObject("__metadata__").get(Checkpoint.TRAINING_STATE_KEY).getAsString());
            try (Sequential fresh = model(4); Adam freshOpt = Adam.adam(fresh.parameters(), 0.01)) {
                Checkpoint.restore(file, fresh, freshOpt, null);
                assertSameState(m, fresh);
                assertEquals(m.trainingState().get("2.dropout_seed")[0],
                        fresh.trainingState().get("2.dropout_seed")[0]);
                assertEquals(12_345, fresh.trainingState().get("2.dropout_offset")[0]);
            }
            String seed = Long.toString(m.trainingState().get("2.dropout_seed")[0]);
            Map<String, String> bad = Map.of(
                    "{\"2.dropout_seed\":" + seed + "}", "has [2.dropout_seed], the model keeps [2.dropout_seed, "
                            + "2.dropout_offset]",
                    "{\"2.dropout_seed\":" + seed + ",\"2.dropout_offset\":-1}", "'2.dropout_offset' must be a whole "
                            + "number written with digits only, in the range of a 64-bit integer, at least 0, got -1",
                    "{\"2.dropout_seed\":1.5,\"2.dropout_offset\":3}", "'2.dropout_seed' must be a whole number",
                    "{\"2.dropout_seed\":9223372036854775808,\"2.dropout_offset\":3}", "in the range of a 64-bit",
                    "[1,2]", "metadata 'backprop.training_state' must be a JSON object");
            for (Map.Entry<String, String> c : bad.entrySet()) {
                Path tampered = dir.resolve("tampered.safetensors");
                Files.write(tampered, withMetadata(file, Checkpoint.TRAINING_STATE_KEY, c.getKey()));
                try (Sequential fresh = model(4); Adam freshOpt = Adam.adam(fresh.parameters(), 0.01)) {
                    float[] before = fresh.parameters().get("0.weight").value().toFloatArray();
                    ModelFileException e = assertThrows(ModelFileException.class,
                            () -> Checkpoint.restore(tampered, fresh, freshOpt, null), c.getKey());
                    assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
                    assertArrayEquals(before, fresh.parameters().get("0.weight").value().toFloatArray());
                    assertEquals(0, fresh.counters().get("1.num_batches_tracked")[0]);
                    assertEquals(0, fresh.trainingState().get("2.dropout_offset")[0]);
                    assertArrayEquals(new float[] {0, 0, 0}, fresh.buffers().get("1.running_mean").toFloatArray());
                }
            }
        }
    }

    @Test
    void imageLayerArchitecturesAreParsedAsStrictlyAsTheRest() throws IOException {
        Path file = dir.resolve("cnn.safetensors");
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).conv2d(Conv2d.options(1, 2, 3).padding(1))
                .relu().maxPool2d(2)
                .dropout(0.25).flatten().dense(8, 2).build()) {
            ModelFile.save(file, m);
            try (Layer back = ModelFile.load(file, be)) {
                assertEquals(m.spec(), back.spec());
            }
        }
        String arch;
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            arch = f.metadata().get(ModelFile.ARCHITECTURE_KEY);
        }
        Map<String, String> bad = Map.of(
                arch.replace("\"stride_h\":1", "\"stride_h\":0"), "layer 0: Conv2d: stride must be two values >= 1, "
                        + "got [0, 1]",
                arch.replace("\"dilation_w\":1,", ""), "layer 0: 'conv2d' takes arguments [in, out, kernel_h",
                arch.replace("\"p_ppm\":250000", "\"p_ppm\":1000001"), "layer 3: dropout needs p_ppm in [0, 1000000]",
                arch.replace("\"p_ppm\":250000", "\"p_ppm\":0.25"), "argument 'p_ppm' must be an integer written "
                        + "with digits only",
                arch.replace("\"type\":\"maxpool2d\",\"kernel_h\":2", "\"type\":\"maxpool2d\",\"kernel_h\":0"),
                        "layer 2: Pool2d: kernel must be two values >= 1");
        for (Map.Entry<String, String> c : bad.entrySet()) {
            Path tampered = dir.resolve("tampered.safetensors");
            Files.write(tampered, withMetadata(file, ModelFile.ARCHITECTURE_KEY, c.getKey()));
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(tampered, be),
                    c.getKey());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
    }

    /** The file with metadata entry {@code key} set to {@code value} (the data unchanged). */
    private static byte[] withMetadata(Path file, String key, String value) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(b, 8, n, StandardCharsets.UTF_8).trim()).getAsJsonObject();
        h.getAsJsonObject("__metadata__").addProperty(key, value);
        return FileBytes.file(h.toString(), Arrays.copyOfRange(b, 8 + n, b.length));
    }
}
