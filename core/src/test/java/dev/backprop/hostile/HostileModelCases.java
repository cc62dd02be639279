package dev.backprop.hostile;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;
import dev.backprop.testing.FileBytes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.backprop.testing.FileBytes.B;
import static dev.backprop.testing.FileBytes.W;
import static dev.backprop.testing.FileBytes.file;
import static dev.backprop.testing.FileBytes.floats;
import static dev.backprop.testing.FileBytes.quote;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile model files, checkpoints and model metadata, each derived from a valid file by one systematic change
 * that makes it invalid: every truncation, every length prefix near the true one, each header field replaced by
 * wrong values, each header byte made invalid UTF-8, NaN and infinities in each element, hostile architectures,
 * versions, class names and tasks, and checkpoint fields of the wrong kind.
 */
final class HostileModelCases {
    private static final List<String> FIELD_VALUES = List.of("null", "true", "\"x\"", "-1", "1.5", "1e2", "24e0",
            "[]", "[1]", "[1,2,3]", "{}", "\"F16\"", "\"F32 \"", "99999999999999999999", "[-1,2]", "[3,2.0]",
            "[2147483648,1]", "[0,1e999]", "[6]", "[2,3]", "\"F64\"", "\"I32\"", "[0,36]", "[24,36]", "[1,25]");
    private static final List<String> ARCHITECTURES = List.of("", "{", "[]", "null", "1", "\"sequential\"",
            "{\"type\":\"sequential\"}", "{\"type\":\"sequential\",\"layers\":{}}",
            "{\"type\":\"sequential\",\"layers\":[]}", "{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":1}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"conv9\"}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":2}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":0,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":-2,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2e0,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2.0,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":65536,\"out\":65536,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2147483648,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":3,\"out\":2,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":0}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":1,\"x\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":1},"
                    + "{\"type\":\"dense\",\"in\":3,\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"relu\",\"in\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"relu\",\"layers\":[]}]}",
            "{\"type\":\"sequential\",\"type\":\"sequential\",\"layers\":[]}",
            "{\"type\":1,\"layers\":[]}", "{\"layers\":[]}",
            "{\"type\":\"sequential\",\"layers\":[" + "{\"type\":\"sequential\",\"layers\":[".repeat(40)
                    + "]}".repeat(40) + "]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":" + "9".repeat(80)
                    + ",\"out\":3,\"bias\":1}]}",
            "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,\"bias\":1}]} x",
            "{'type':'sequential','layers':[]}", "{\"type\":\"sequential\",\"layers\":[],}");

    private HostileModelCases() {
    }

    static void modelFiles(List<HostileCase> out, Backend be) {
        HostileCase.Call call = p -> {
            try {
                ModelFile.load(p, be).close();
                return;  // accepted: the case counts as a silent success
            } catch (ModelFileException e) {
                HostileCase.checkOneLine(e);
            }
            try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build()) {
                ModelFile.loadInto(p, m);
            }
        };
        String reader = "safetensors model file";
        byte[] base = FileBytes.baseModel();
        for (int n = 0; n < base.length; n++) {
            out.add(new HostileCase(reader, "truncated to " + n + " bytes", Arrays.copyOf(base, n), call));
        }
        String header = FileBytes.header(W, B);
        int len = header.getBytes(StandardCharsets.UTF_8).length;
        for (long prefix : new long[] {0, 1, 2, len - 9, len - 5, len - 3, len - 2, len - 1, len + 1, len + 2, len + 3,
            len + 8, len + 36, len + 37, base.length, 1L << 31, 1L << 32, 100_000_000, (8L << 20) + 1, -1,
            Long.MAX_VALUE, Long.MIN_VALUE}) {
            byte[] b = base.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, prefix);
            out.add(new HostileCase(reader, "length prefix " + prefix, b, call));
        }
        for (String entry : List.of(W, B)) {
            for (String field : List.of("dtype", "shape", "data_offsets")) {
                String current = value(entry, field);
                for (String v : FIELD_VALUES) {
                    if (!v.equals(current)) {
                        String changed = entry.replace("\"" + field + "\":" + current, "\"" + field + "\":" + v);
                        String h = entry.equals(W) ? FileBytes.header(changed, B) : FileBytes.header(W, changed);
                        out.add(new HostileCase(reader, field + " of " + entry.substring(1, entry.indexOf('"', 1))
                                + " = " + v, file(h, floats(1, 2, 3, 4, 5, 6, 7, 8, 9)), call));
                    }
                }
            }
        }
        for (int i = 8; i < 8 + len; i += 1) {
            byte[] b = base.clone();
            b[i] = (byte) 0xFF;
            out.add(new HostileCase(reader, "header byte " + (i - 8) + " = 0xFF", b, call));
        }
        for (int i = 0; i < 9; i++) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] v = {1, 2, 3, 4, 5, 6, 7, 8, 9};
                v[i] = bad;
                out.add(new HostileCase(reader, bad + " at element " + i, file(header, floats(v)), call));
            }
        }
        structure(out, reader, call);
    }

    private static void structure(List<HostileCase> out, String reader, HostileCase.Call call) {
        byte[] data = floats(1, 2, 3, 4, 5, 6, 7, 8, 9);
        Map<String, String> headers = Map.ofEntries(
                Map.entry("duplicate tensor", FileBytes.header(W, B, W)),
                Map.entry("trailing content", FileBytes.header(W, B) + "x"),
                Map.entry("byte-order mark", "\uFEFF" + FileBytes.header(W, B)),
                Map.entry("padding with NUL bytes", FileBytes.header(W, B) + "\u0000\u0000"),
                Map.entry("NUL in a name", FileBytes.header(W.replace("0.weight", "0.wei\u0000ght"), B)),
                Map.entry("escaped NUL in a name", FileBytes.header(W.replace("0.weight", "0.wei\\u0000ght"), B)),
                Map.entry("unpaired surrogate", FileBytes.header(W.replace("0.weight", "0.\\ud800weight"), B)),
                Map.entry("empty name", FileBytes.header(W.replace("0.weight", ""), B)),
                Map.entry("metadata not an object", "{\"__metadata__\":[]," + W + "," + B + "}"),
                Map.entry("metadata value a number", "{\"__metadata__\":{\"x\":1}," + W + "," + B + "}"),
                Map.entry("header an array", "[" + W + "]"),
                Map.entry("NaN literal", FileBytes.header(W, B.replace("[3]", "[NaN]"))),
                Map.entry("nesting bomb", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}"),
                Map.entry("leading zero", FileBytes.header(W, B.replace("[24,36]", "[024,36]"))),
                Map.entry("extra field", FileBytes.header(W, B.replace("}", ",\"x\":1}"))));
        headers.forEach((name, h) -> out.add(new HostileCase(reader, name, file(h, data), call)));
    }

    /** The JSON text of {@code field}'s value in a tensor entry. */
    private static String value(String entry, String field) {
        int start = entry.indexOf("\"" + field + "\":") + field.length() + 3;
        int end = entry.charAt(start) == '[' ? entry.indexOf(']', start) + 1 : entry.indexOf(',', start);
        return entry.substring(start, end < start ? entry.indexOf('}', start) : end);
    }

    static void metadata(List<HostileCase> out, Backend be) {
        HostileCase.Call call = p -> SavedModel.load(p, be).close();
        String reader = "model metadata";
        byte[] data = floats(1, 2, 3, 4, 5, 6, 7, 8, 9);
        String arch = quote(FileBytes.ARCH);
        for (String a : ARCHITECTURES) {
            String h = FileBytes.header(W, B).replace(arch, quote(a));
            out.add(new HostileCase(reader, "architecture " + a, file(h, data), call));
        }
        for (String v : List.of("2", "0", "01", "1.0", "1e0", " 1", "1 ", "", "v1", "１")) {
            String h = FileBytes.header(W, B).replace("\"backprop.version\":\"1\"", "\"backprop.version\":" + quote(v));
            out.add(new HostileCase(reader, "version " + v, file(h, data), call));
        }
        for (String names : List.of("", "[", "['a','b','c']", "[\"a\",\"b\",]", "[a,b,c]", "{\"0\":\"a\"}", "[1,2,3]",
                "[null]", "[[\"a\"]]", "\"a,b,c\"", "[\"a\\nb\"]", "[\"\\u001b[2J\"]", "[\"a\"] x", "[\"\\x41\"]",
                "[\"a\",\"a\"" + ",\"b\"".repeat(3) + "]x")) {
            out.add(new HostileCase(reader, "class names " + names, file("{" + FileBytes.meta("backprop.class_names",
                    names) + "," + W + "," + B + "}", data), call));
        }
        for (String task : List.of("", "Classification", "classification ", "multiclass", "regression\n", "0")) {
            out.add(new HostileCase(reader, "task " + task, file("{" + FileBytes.meta("backprop.task", task) + ","
                    + W + "," + B + "}", data), call));
        }
    }

    static void checkpoints(List<HostileCase> out, Backend be, Path dir) throws IOException {
        Path p = dir.resolve("base-checkpoint");
        try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build();
             Optimizer adam = Adam.adam(m.parameters(), 0.01)) {
            Checkpoint.save(p, m, adam, new StepLR(adam, 2, 0.5), Map.of("epochs", 1L));
        }
        byte[] base = Files.readAllBytes(p);
        HostileCase.Call call = f -> {
            try (Sequential m = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build();
                 Optimizer adam = Adam.adam(m.parameters(), 0.01)) {
                Checkpoint.restore(f, m, adam, new StepLR(adam, 2, 0.5));
            }
        };
        String reader = "checkpoint";
        for (int n = 0; n < base.length; n += 3) {
            out.add(new HostileCase(reader, "truncated to " + n + " bytes", Arrays.copyOf(base, n), call));
        }
        String text = new String(base, StandardCharsets.ISO_8859_1);
        // Plain JSON here; in the header the metadata values are JSON strings, so their quotes are escaped.
        String[][] edits = {{"\"step\":0", "\"step\":-1"}, {"\"step\":0", "\"step\":0e0"},
            {"\"step\":0", "\"step\":.5"}, {"\"step\":0", "\"step\":\"0\""}, {"\"step\":0", "\"step\":null"},
            {"\"epoch\":0", "\"epoch\":-1"}, {"\"epoch\":0", "\"epoch\":1e9"},
            {"\"epoch\":0", "\"epoch\":9999999999"}, {"\"epochs\":1", "\"epochs\":1.0"},
            {"\"epochs\":1", "\"epochs\":[1]"}, {"\"lr\":0.01", "\"lr\":\"x\""}, {"\"lr\":0.01", "\"lr\":[]"},
            {"\"lr\":0.01", "\"lr\":1e999"}, {"\"type\":\"adam\"", "\"type\":\"sgd\""},
            {"\"type\":\"step\"", "\"type\":\"cos\""}, {"\"beta1\":0.9", "\"beta1\":0.8"},
            {"backprop.optimizer", "backprop.optimizeR"}, {"backprop.schedule", "backprop.scheduLE"},
            {"backprop.progress", "backprop.progresS"}, {"optimizer.", "optimizeR."}};
        for (String[] e : edits) {
            String from = e[0].replace("\"", "\\\""), to = e[1].replace("\"", "\\\"");
            assertTrue(text.contains(from), "the checkpoint's header holds " + e[0]);
            out.add(new HostileCase(reader, e[0] + " -> " + e[1], padded(base, from, to), call));
        }
        int dataStart = 8 + (int) ByteBuffer.wrap(base, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        for (int i = dataStart; i + 4 <= base.length; i += 4) {
            byte[] b = base.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(i, Float.NaN);
            out.add(new HostileCase(reader, "NaN at data byte " + (i - dataStart), b, call));
        }
    }

    /** {@code base} with {@code from} replaced in its header, the header's length prefix updated. */
    private static byte[] padded(byte[] base, String from, String to) {
        int end = 8 + (int) ByteBuffer.wrap(base, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(base, 8, end - 8, StandardCharsets.UTF_8).replace(from, to);
        return file(header, Arrays.copyOfRange(base, end, base.length));
    }
}
