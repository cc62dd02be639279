package dev.backprop.contract.network;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.ClosedTensorException;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model files: PyTorch {@code state_dict} names and shapes in a well-formed safetensors layout, bit-exact round
 * trips through {@code load} (architecture from the metadata) and {@code loadInto}, files without an architecture
 * (as PyTorch writes them), dtype conversion, and atomic saving.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class ModelFileCases {
    private ModelFileCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        return Stream.of(
                DynamicTest.dynamicTest("layout: state_dict names, shapes, offsets, aligned data", () -> inDir(d ->
                        layout(be, d))),
                DynamicTest.dynamicTest("round trip through load and loadInto is bit-exact", () -> inDir(d ->
                        roundTrip(be, d, DType.FLOAT32))),
                DynamicTest.dynamicTest("FLOAT64 round trip and conversion to FLOAT32", () -> inDir(d ->
                        float64(be, d))),
                DynamicTest.dynamicTest("a file without architecture (as PyTorch writes it)", () -> inDir(d ->
                        withoutArchitecture(be, d))),
                DynamicTest.dynamicTest("saving is atomic", () -> inDir(d -> atomic(be, d))));
    }

    interface InDir {
        void run(Path dir) throws IOException;
    }

    /** Runs {@code body} in a fresh temporary directory, deleted afterwards. */
    static void inDir(InDir body) throws IOException {
        Path dir = Files.createTempDirectory("backprop-model-test");
        try {
            body.run(dir);
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    static Sequential model(Backend be, DType dt, long seed) {
        return Sequential.builder(be, dt).seed(seed).flatten().dense(6, 5).relu().dense(5, 4, false).tanh()
                .dense(4, 3).build();
    }

    private static void layout(Backend be, Path dir) throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Sequential m = model(be, DType.FLOAT32, 1)) {
            ModelFile.save(file, m);
        }
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim();
        JsonObject h = JsonParser.parseString(header).getAsJsonObject();
        assertEquals(List.of("__metadata__", "1.weight", "1.bias", "3.weight", "5.weight", "5.bias"),
                List.copyOf(h.keySet()), "tensor names follow nn.Sequential's state_dict (flatten at index 0)");
        assertEquals("[5,6]", h.getAsJsonObject("1.weight").get("shape").toString(), "weight is [out, in]");
        assertEquals("\"F32\"", h.getAsJsonObject("1.bias").get("dtype").toString());
        assertEquals("[0,120]", h.getAsJsonObject("1.weight").get("data_offsets").toString());
        JsonObject meta = h.getAsJsonObject("__metadata__");
        assertEquals("pt", meta.get("format").getAsString());
        assertTrue(meta.get(ModelFile.ARCHITECTURE_KEY).getAsString().contains("\"type\":\"relu\""),
                meta.toString());
        long data = (5 * 6 + 5 + 4 * 5 + 3 * 4 + 3) * 4L;
        assertEquals(8 + n + data, bytes.length, "file = length + header + data, nothing else");
    }

    private static void roundTrip(Backend be, Path dir, DType dt) throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Sequential original = model(be, dt, 2); Sequential other = model(be, dt, 3); Scope s = Scope.open()) {
            ModelFile.save(file, original);
            Tensor x = Net.tensor(be, dt, Net.uniform(4, 12, -1, 1), 2, 2, 3);
            double[] expected = original.forward(Variable.constant(x)).value().toDoubles();
            try (Layer loaded = ModelFile.load(file, be)) {
                assertEquals(original.spec(), loaded.spec(), "architecture from the metadata");
                assertSameParameters(original, loaded);
                Net.assertIdentical("loaded model's output", expected,
                        loaded.forward(Variable.constant(x)).value().toDoubles());
            }
            ModelFile.loadInto(file, other);
            assertSameParameters(original, other);
        }
    }

    static void assertSameParameters(Layer a, Layer b) {
        assertEquals(a.parameters().keySet(), b.parameters().keySet(), "parameter names");
        for (Map.Entry<String, Variable> e : a.parameters().entrySet()) {
            Variable o = b.parameters().get(e.getKey());
            assertEquals(e.getValue().dtype(), o.dtype(), e.getKey() + " dtype");
            assertEquals(e.getValue().shape(), o.shape(), e.getKey() + " shape");
            Net.assertIdentical(e.getKey(), e.getValue().value().toDoubles(), o.value().toDoubles());
        }
    }

    private static void float64(Backend be, Path dir) throws IOException {
        Net.assumeSupported(be, DType.FLOAT64);
        roundTrip(be, dir, DType.FLOAT64);
        Path file = dir.resolve("m64.safetensors");
        try (Sequential m = model(be, DType.FLOAT64, 5)) {
            ModelFile.save(file, m);
            try (Layer f32 = ModelFile.load(file, be, DType.FLOAT32)) {
                for (Map.Entry<String, Variable> e : m.parameters().entrySet()) {
                    Variable v = f32.parameters().get(e.getKey());
                    assertEquals(DType.FLOAT32, v.dtype());
                    double[] want = e.getValue().value().toDoubles();
                    for (int i = 0; i < want.length; i++) {
                        want[i] = (float) want[i];
                    }
                    Net.assertIdentical(e.getKey() + " as FLOAT32", want, v.value().toDoubles());
                }
            }
        }
    }

    private static void withoutArchitecture(Backend be, Path dir) throws IOException {
        Path file = dir.resolve("torch.safetensors");
        try (Sequential m = model(be, DType.FLOAT32, 6); Sequential target = model(be, DType.FLOAT32, 7)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            m.parameters().forEach((k, v) -> tensors.put(k, v.value()));
            SafeTensorsFile.write(file, tensors, Map.of("format", "pt"));
            ModelFile.loadInto(file, target);
            assertSameParameters(m, target);
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(file, be));
            assertTrue(e.getMessage().contains(ModelFile.ARCHITECTURE_KEY) && e.getMessage().contains("loadInto"),
                    e.getMessage());
        }
    }

    private static void atomic(Backend be, Path dir) throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Sequential a = model(be, DType.FLOAT32, 8); Sequential b = model(be, DType.FLOAT32, 9)) {
            ModelFile.save(file, a);
            byte[] first = Files.readAllBytes(file);
            ModelFile.save(file, b);  // replaces the file
            try (Layer loaded = ModelFile.load(file, be)) {
                assertSameParameters(b, loaded);
            }
            byte[] second = Files.readAllBytes(file);
            try (Sequential broken = model(be, DType.FLOAT32, 10)) {
                broken.parameters().get("5.bias").value().close();
                assertThrows(ClosedTensorException.class, () -> ModelFile.save(file, broken));
            }
            assertArrayEquals(second, Files.readAllBytes(file), "a failed save leaves the old file untouched");
            assertTrue(first.length == second.length, "same architecture, same size");
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
            }
        }
    }
}
