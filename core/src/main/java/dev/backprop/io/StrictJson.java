package dev.backprop.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;

/**
 * Parses untrusted JSON (a file header) with Gson's streaming reader in strict mode, rejecting what Gson's tree
 * parser would let through: duplicate keys (the later one would silently win), trailing content, and deep
 * nesting. Numbers are kept as exact {@link BigDecimal}s.
 */
final class StrictJson {
    /** Deeper nesting than any header needs; bounds the recursion on hostile input. */
    static final int MAX_DEPTH = 32;

    private StrictJson() {
    }

    /**
     * Parses one JSON value that makes up all of {@code text}.
     *
     * @throws IOException with Gson's description of the first syntax error, or a duplicate key
     */
    static JsonElement parse(String text) throws IOException {
        JsonReader r = new JsonReader(new StringReader(text));
        r.setStrictness(Strictness.STRICT);
        r.setNestingLimit(MAX_DEPTH);
        JsonElement e = read(r, 0);
        if (r.peek() != JsonToken.END_DOCUMENT) {
            throw new IOException("content after the JSON value at " + r.getPath());
        }
        return e;
    }

    private static JsonElement read(JsonReader r, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new IOException("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
        switch (r.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject o = new JsonObject();
                r.beginObject();
                while (r.hasNext()) {
                    String key = r.nextName();
                    if (o.has(key)) {
                        throw new IOException("duplicate key '" + key + "' at " + r.getPath());
                    }
                    o.add(key, read(r, depth + 1));
                }
                r.endObject();
                return o;
            }
            case BEGIN_ARRAY -> {
                JsonArray a = new JsonArray();
                r.beginArray();
                while (r.hasNext()) {
                    a.add(read(r, depth + 1));
                }
                r.endArray();
                return a;
            }
            case STRING -> {
                return new JsonPrimitive(r.nextString());
            }
            case NUMBER -> {
                // Exact, and it keeps the literal's scale, so 1.0 and 1e2 can be told from the integer 1 and 100.
                return new JsonPrimitive(new BigDecimal(r.nextString()));
            }
            case BOOLEAN -> {
                return new JsonPrimitive(r.nextBoolean());
            }
            case NULL -> {
                r.nextNull();
                return JsonNull.INSTANCE;
            }
            default -> throw new IOException("unexpected " + r.peek() + " at " + r.getPath());
        }
    }
}
