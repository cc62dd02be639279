package dev.backprop.io;

import dev.backprop.model.SavedModel;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.backend.DType;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.backprop.testing.FileBytes.B;
import static dev.backprop.testing.FileBytes.W;
import static dev.backprop.testing.FileBytes.doubles;
import static dev.backprop.testing.FileBytes.file;
import static dev.backprop.testing.FileBytes.floats;
import static dev.backprop.testing.FileBytes.meta;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model files whose numbers or metadata would load into silently wrong results: non-finite weights (refused with
 * the tensor named, or loaded with a warning when asked), lenient metadata (class names, the layout version,
 * checkpoint counters), and messages that must stay on one line whatever the file holds.
 */
class StrictModelReadingTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("m.safetensors");
        Files.write(p, bytes);
        return p;
    }

    private Path model(float... weightsThenBias) throws IOException {
        return write(file("{" + meta() + "," + W + "," + B + "}", floats(weightsThenBias)));
    }

    private String refused(Path p) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(p, backend).close());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void nonFiniteWeightsAreRefusedWithTheTensorAndIndexNamed() throws IOException {
        long live = backend.memoryStats().liveBuffers();
        String m = refused(model(1, 2, 3, Float.NaN, 5, 6, 7, 8, 9));
        assertTrue(m.contains("tensor '0.weight' holds 1 non-finite value (the first, NaN, at [1, 1])"), m);
        m = refused(model(1, 2, 3, 4, 5, 6, 7, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY));
        assertTrue(m.contains("tensor '0.bias' holds 2 non-finite values (the first, -Infinity, at [1])"), m);
        assertEquals(live, backend.memoryStats().liveBuffers(), "the weight read before the bad bias is freed");
        try (Sequential into = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(2, 3).build()) {
            float[] before = into.parameters().get("0.weight").value().toFloatArray();
            assertThrows(ModelFileException.class, () -> ModelFile.loadInto(dir.resolve("m.safetensors"), into));
            assertArrayEquals(before, into.parameters().get("0.weight").value().toFloatArray());
        }
    }

    @Test
    void float64ValuesPastFloat32AreRefusedWhenLoadedAsFloat32() throws IOException {
        String w64 = W.replace("F32", "F64").replace("[0,24]", "[0,48]");
        String b64 = B.replace("F32", "F64").replace("[24,36]", "[48,72]");
        Path p = write(file("{" + meta() + "," + w64 + "," + b64 + "}", doubles(1, 2, 3, 4, 1e300, 6, 7, 8, 9)));
        try (Layer l = ModelFile.load(p, backend, DType.FLOAT64)) {
            assertEquals(1e300, l.parameters().get("0.weight").value().toDoubleArray()[4]);
        }
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(p, backend,
                DType.FLOAT32));
        assertTrue(e.getMessage().contains("'0.weight' holds 1 non-finite value (the first, Infinity, at [2, 0])"),
                e.getMessage());
    }

    @Test
    void nonFiniteWeightsLoadWithAWarningWhenAsked() throws IOException {
        Path p = model(1, 2, 3, Float.NaN, 5, 6, 7, 8, 9);
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(StateValues.class.getName());
        log.addHandler(h);
        // The warning names the file: a name with an escape sequence or a right-to-left override prints as text.
        Path hostile = dir.resolve("m\u001b[2J\u202e.safetensors");
        Files.copy(p, hostile);
        try (SavedModel.Loaded l = SavedModel.load(p, backend, true);
             SavedModel.Loaded named = SavedModel.load(hostile, backend, true)) {
            assertTrue(Float.isNaN(l.model().parameters().get("0.weight").value().toFloatArray()[3]));
            assertTrue(Float.isNaN(named.model().parameters().get("0.weight").value().toFloatArray()[3]));
        } finally {
            log.removeHandler(h);
        }
        assertEquals(2, records.size());
        assertTrue(records.get(0).getMessage().contains("'0.weight' holds 1 non-finite value"));
        assertTrue(records.get(1).getMessage().startsWith(dir.resolve("m\\u001B[2J\\u202E.safetensors")
                + ": tensor '0.weight' holds 1 non-finite value"), records.get(1).getMessage());
        assertThrows(ModelFileException.class, () -> SavedModel.load(p, backend).close());
    }

    @Test
    void classNamesMustBeStrictJsonStringsWithoutControlCharacters() throws IOException {
        for (String names : List.of("['a','b','c']", "[\"a\",\"b\",]", "[\"a\" \"b\"]", "[a,b,c]",
                "[\"a\",\"b\"] x", "[\"a\",1]", "{\"0\":\"a\"}", "[\"a\\nb\",\"c\"]", "[\"\\u001b[31mred\"]")) {
            Path p = write(file("{" + meta("backprop.class_names", names) + "," + W + "," + B + "}",
                    floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
            ModelFileException e = assertThrows(ModelFileException.class, () -> SavedModel.load(p, backend).close(),
                    names);
            assertTrue(e.getMessage().contains("backprop.class_names"), e.getMessage());
            assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\u001b"), e.getMessage());
        }
        Path ok = write(file("{" + meta("backprop.class_names", "[\"a\",\"b\",\"c\"]") + "," + W + "," + B + "}",
                floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
        try (SavedModel.Loaded l = SavedModel.load(ok, backend)) {
            assertEquals(List.of("a", "b", "c"), l.classNames());
        }
    }

    @Test
    void layoutVersionMustBeTheOneThisCodeReads() throws IOException {
        for (String v : List.of("2", "1.0", " 1", "01", "")) {
            String header = "{" + meta().replace("\"backprop.version\":\"1\"", "\"backprop.version\":\"" + v + "\"")
                    + "," + W + "," + B + "}";
            String m = refused(write(file(header, floats(1, 2, 3, 4, 5, 6, 7, 8, 9))));
            assertTrue(m.contains("backprop.version is '" + v + "', this Backprop reads version 1"), m);
        }
    }

    @Test
    void checkpointCountersMustBeIntegerLiterals() throws IOException {
        Path p = dir.resolve("c.safetensors");
        try (Sequential m = Sequential.builder(backend, DType.FLOAT32).seed(1).dense(2, 3).build();
             Optimizer opt = Adam.adam(m.parameters(), 0.01)) {
            Checkpoint.save(p, m, opt, null, Map.of("epochs", 3L));
            byte[] good = Files.readAllBytes(p);
            Checkpoint.restore(p, m, opt, null);
            for (String[] edit : new String[][] {{"\"step\":0", "\"step\":0e0"}, {"\"step\":0", "\"step\":-1"},
                    {"\"epochs\":3", "\"epochs\":3.0"}, {"\"epochs\":3", "\"epochs\":3E0"}}) {
                Files.write(p, replaceSameLength(good, edit[0], edit[1]));
                ModelFileException e = assertThrows(ModelFileException.class,
                        () -> Checkpoint.restore(p, m, opt, null), edit[1]);
                assertTrue(e.getMessage().contains("digits only"), e.getMessage());
            }
        }
    }

    /** {@code bytes} with one JSON-escaped occurrence of {@code from} replaced, the header padding absorbing it. */
    private static byte[] replaceSameLength(byte[] bytes, String from, String to) {
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        String f = from.replace("\"", "\\\""), t = to.replace("\"", "\\\"");
        assertTrue(s.contains(f), from);
        int pad = t.length() - f.length();
        int end = (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong() + 8;
        String header = s.substring(8, end).replace(f, t);
        String trimmed = header.stripTrailing();
        assertTrue(header.length() - trimmed.length() >= pad, "room in the padding for " + to);
        header = trimmed + " ".repeat(header.length() - trimmed.length() - pad);
        return (s.substring(0, 8) + header + s.substring(end)).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void messagesStayOnOneLineWhateverTheFileHolds() throws IOException {
        String x = "\"a\\nb\\u2028c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[36,40]}";
        String m = refused(write(file("{" + meta() + "," + W + "," + B + "," + x + "}", new byte[40])));
        assertTrue(m.contains("unexpected tensor 'a\\u000Ab\\u2028c'"), m);
        m = refused(write(file("{" + meta() + ",\"x\":01}", new byte[0])));
        assertTrue(m.contains("not valid JSON: malformed JSON at line 1 column"), m);
        assertFalse(m.contains("Troubleshooting") || m.contains("LENIENT"), m);
        m = refused(write(file("{" + meta() + ",\"x\":\"" + "y".repeat(100_000) + "\"}", new byte[0])));
        assertTrue(m.length() < 1100, "a quoted field is cut: " + m.length());
    }
}
