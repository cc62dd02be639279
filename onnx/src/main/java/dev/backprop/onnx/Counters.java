package dev.backprop.onnx;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.backprop.io.ModelFileException;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A network's counters ({@link dev.backprop.nn.Layer#counters()}: a batch norm's {@code num_batches_tracked}) in an
 * ONNX file. ONNX has no place for them (inference does not use them), so Backprop's exports keep them in the
 * metadata property {@value #KEY}, a JSON object by {@code state_dict} name; a file without it (PyTorch's exports)
 * gives 0, what PyTorch's fresh layer holds. With the fixed momentum of Backprop's batch norm the count changes no
 * output; it only records how many training batches the running statistics have seen.
 */
final class Counters {
    /** The metadata property: {@code {"1.num_batches_tracked": 938}}. */
    static final String KEY = "backprop.counters";
    private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private Counters() {
    }

    /** The property's value for {@code counters}, or null when there are none. */
    static String write(Map<String, long[]> counters) {
        if (counters.isEmpty()) {
            return null;
        }
        JsonObject o = new JsonObject();
        counters.forEach((name, value) -> o.addProperty(name, value[0]));
        return o.toString();
    }

    /**
     * The value of each of {@code names}: from {@code json} (the property, null when absent), which must then give
     * exactly these names, each a whole number at least 0; else 0.
     *
     * @throws ModelFileException naming the file and the problem
     */
    static Map<String, Long> read(String file, String json, List<String> names) throws ModelFileException {
        Map<String, Long> out = new LinkedHashMap<>();
        if (json == null) {
            names.forEach(n -> out.put(n, 0L));
            return out;
        }
        String where = file + ": metadata " + KEY;
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new ModelFileException(where + " must be a JSON object of counts by name");
            }
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ModelFileException(where + " is not valid JSON: " + OnnxReader.oneLine(e.getMessage()), e);
        }
        if (!new TreeSet<>(o.keySet()).equals(new TreeSet<>(names))) {
            List<String> given = o.keySet().stream().sorted().map(OnnxReader::quote).toList();
            throw new ModelFileException(where + " names " + given + ", the network's counters are "
                    + new TreeSet<>(names));
        }
        for (String name : names) {
            JsonElement v = o.get(name);
            Long count = null;
            if (v.isJsonPrimitive() && ((JsonPrimitive) v).isNumber()) {
                try {
                    BigDecimal d = v.getAsBigDecimal();
                    // Bounds first: longValueExact of 1e999999999 would build the whole number.
                    if (d.signum() >= 0 && d.compareTo(MAX) <= 0) {
                        count = d.longValueExact();
                    }
                } catch (ArithmeticException | NumberFormatException e) {
                    // a fraction, or not a number after all: refused below
                }
            }
            if (count == null) {
                throw new ModelFileException(where + ": counter '" + name + "' is " + OnnxReader.quote(v.toString())
                        + ", a count must be a whole number >= 0");
            }
            out.put(name, count);
        }
        return out;
    }
}
