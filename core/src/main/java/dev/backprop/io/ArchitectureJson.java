package dev.backprop.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.backprop.nn.LayerSpec;
import dev.backprop.nn.Layers;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The architecture stored in a model file's metadata: a {@link LayerSpec} as JSON,
 * {@code {"type":"sequential","layers":[{"type":"dense","in":784,"out":128,"bias":1},{"type":"relu"},...]}}.
 */
final class ArchitectureJson {
    /**
     * More layers than a network Backprop builds has, as for an ONNX graph's nodes: bounds the layers, and the work
     * and activations per example, that a few megabytes of header can ask for.
     */
    static final int MAX_LAYERS = 10_000;

    private ArchitectureJson() {
    }

    static String write(LayerSpec spec) {
        return toJson(spec).toString();
    }

    private static JsonObject toJson(LayerSpec spec) {
        JsonObject o = new JsonObject();
        o.addProperty("type", spec.type());
        spec.args().forEach(o::addProperty);
        if (spec.type().equals("sequential")) {
            JsonArray a = new JsonArray();
            spec.layers().forEach(l -> a.add(toJson(l)));
            o.add("layers", a);
        }
        return o;
    }

    /**
     * Parses and validates an architecture.
     *
     * @throws ModelFileException naming the problem
     */
    static LayerSpec read(String file, String json) throws ModelFileException {
        LayerSpec spec;
        try {
            spec = fromJson(StrictJson.parse(json), "model");
        } catch (IOException e) {
            throw new ModelFileException(file + ": architecture metadata is not valid JSON: " + e.getMessage(), e);
        }
        long layers = layers(spec);
        if (layers > MAX_LAYERS) {
            throw new ModelFileException(file + ": architecture metadata: " + layers + " layers; Backprop reads at "
                    + "most " + MAX_LAYERS);
        }
        try {
            Layers.validate(spec);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file + ": architecture metadata: " + e.getMessage(), e);
        }
        return spec;
    }

    /** The layers of {@code spec}, containers included. */
    private static long layers(LayerSpec spec) {
        long n = 1;
        for (LayerSpec l : spec.layers()) {
            n += layers(l);
        }
        return n;
    }

    private static LayerSpec fromJson(JsonElement e, String where) throws IOException {
        if (!e.isJsonObject()) {
            throw new IOException(where + " must be an object, got " + e);
        }
        JsonObject o = e.getAsJsonObject();
        JsonElement type = o.get("type");
        if (type == null || !type.isJsonPrimitive() || !type.getAsJsonPrimitive().isString()) {
            throw new IOException(where + " needs a string 'type'");
        }
        Map<String, Integer> args = new LinkedHashMap<>();
        List<LayerSpec> layers = new ArrayList<>();
        for (Map.Entry<String, JsonElement> f : o.entrySet()) {
            String k = f.getKey();
            JsonElement v = f.getValue();
            if (k.equals("type")) {
                continue;
            }
            if (k.equals("layers")) {
                if (!v.isJsonArray()) {
                    throw new IOException(where + ": 'layers' must be an array");
                }
                for (int i = 0; i < v.getAsJsonArray().size(); i++) {
                    layers.add(fromJson(v.getAsJsonArray().get(i), where.equals("model") ? "layer " + i
                            : where + "." + i));
                }
            } else {
                BigInteger b = StrictJson.integer(v);
                if (b == null || b.abs().compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
                    throw new IOException(where + ": argument '" + k + "' must be an integer written with digits "
                            + "only, got " + v);
                }
                args.put(k, b.intValueExact());
            }
        }
        return new LayerSpec(type.getAsString(), args, layers);
    }
}
