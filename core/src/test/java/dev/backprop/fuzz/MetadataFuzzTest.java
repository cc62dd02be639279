package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.backprop.model.SavedModel;
import dev.backprop.testing.FileBytes;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Fuzzes the metadata a model file carries, with valid tensors around it: the input's lines are the
 * architecture JSON, the class names JSON, the task, the layout version and the ties, each put into a well-formed
 * header as a string, then {@code SavedModel.load} reads the file (which parses all five).
 */
class MetadataFuzzTest {
    private static final String[] KEYS = {"backprop.architecture", "backprop.class_names", "backprop.task",
        "backprop.version", "backprop.tied"};

    @FuzzTest
    void metadata(byte[] data) throws Exception {
        Path p = file(data);
        FuzzSupport.read(() -> SavedModel.load(p, FuzzSupport.BACKEND).close());
    }

    /** The model file that carries {@code data}'s lines as metadata. */
    static Path file(byte[] data) throws java.io.IOException {
        String[] lines = new String(data, StandardCharsets.UTF_8).split("\n", KEYS.length);
        JsonObject meta = new JsonObject();
        for (int i = 0; i < lines.length; i++) {
            meta.addProperty(KEYS[i], lines[i]);
        }
        JsonObject header = new JsonObject();
        header.add("__metadata__", meta);
        header.add("0.weight", entry(new int[] {3, 2}, 0, 24));
        header.add("0.bias", entry(new int[] {3}, 24, 36));
        return FuzzSupport.write("metadata.safetensors", FileBytes.file(header.toString(),
                FileBytes.floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
    }

    private static JsonObject entry(int[] shape, long begin, long end) {
        JsonObject o = new JsonObject();
        o.addProperty("dtype", "F32");
        JsonArray s = new JsonArray();
        for (int d : shape) {
            s.add(d);
        }
        o.add("shape", s);
        JsonArray off = new JsonArray();
        off.add(begin);
        off.add(end);
        o.add("data_offsets", off);
        return o;
    }
}
