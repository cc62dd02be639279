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
import java.math.BigInteger;

/**
 * Parses untrusted JSON (a file header, a metadata value) with Gson's streaming reader in strict mode, which
 * already refuses leading zeros, {@code NaN}, unescaped control characters, unpaired surrogates and bad escapes,
 * and rejects what Gson's tree parser would still let through: duplicate keys (the later one would silently win),
 * trailing content, deep nesting and number literals long enough to make their exact conversion slow. Integer
 * literals ({@code 802816}) become {@link BigInteger}s and all others ({@code 802816e0}, {@code 0.1}) exact
 * {@link BigDecimal}s, so a field that must be a count can refuse the second kind, as the safetensors reference
 * reader does. Gson stays the parser (it is already the header's writer): a second JSON library would add nothing
 * that these few checks do not.
 */
public final class StrictJson {
    /** Deeper nesting than any header needs; bounds the recursion on hostile input. */
    public static final int MAX_DEPTH = 32;
    /** Longer than any number Backprop writes (a double needs at most 24 characters). */
    public static final int MAX_NUMBER_LENGTH = 64;

    private StrictJson() {
    }

    /**
     * Parses one JSON value that makes up all of {@code text}.
     *
     * @throws IOException with a one-line description of the first syntax error, or a duplicate key
     */
    public static JsonElement parse(String text) throws IOException {
        JsonReader r = new JsonReader(new StringReader(text));
        r.setStrictness(Strictness.STRICT);
        r.setNestingLimit(MAX_DEPTH);
        try {
            JsonElement e = read(r, 0);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new IOException("content after the JSON value at " + r.getPath());
            }
            return e;
        } catch (IOException e) {  // Gson's syntax errors (and its EOFException for an empty text)
            throw new IOException(oneLine(e.getMessage()), e);
        }
    }

    /** The exact value of a JSON number, or null when {@code e} is not a number. */
    public static BigDecimal decimal(JsonElement e) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            return null;
        }
        Number n = e.getAsJsonPrimitive().getAsNumber();
        return n instanceof BigInteger i ? new BigDecimal(i) : (BigDecimal) n;
    }

    /**
     * The value of an integer literal (an optional minus and digits: no fraction, no exponent), or null when
     * {@code e} is anything else, {@code 1.0} and {@code 1e2} included.
     */
    public static BigInteger integer(JsonElement e) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            return null;
        }
        return e.getAsJsonPrimitive().getAsNumber() instanceof BigInteger i ? i : null;
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
                return number(r);
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

    private static JsonPrimitive number(JsonReader r) throws IOException {
        String path = r.getPath();
        String literal = r.nextString();  // strict mode has checked it against JSON's number grammar
        if (literal.length() > MAX_NUMBER_LENGTH) {
            throw new IOException("a number of " + literal.length() + " characters at " + path + " (at most "
                    + MAX_NUMBER_LENGTH + ")");
        }
        boolean integer = literal.indexOf('.') < 0 && literal.indexOf('e') < 0 && literal.indexOf('E') < 0;
        // Exact: the decimal form keeps the literal's scale, so 1.0 can still be told from 1 where it matters.
        try {
            return integer ? new JsonPrimitive(new BigInteger(literal)) : new JsonPrimitive(new BigDecimal(literal));
        } catch (NumberFormatException e) {
            throw new IOException("the number " + literal + " at " + path + " is out of range", e);
        }
    }

    /** Gson's messages add a line pointing to its troubleshooting page and advice to parse leniently: drop both. */
    private static String oneLine(String message) {
        String first = message == null ? "malformed JSON" : message.lines().findFirst().orElse("malformed JSON");
        String advice = "Use JsonReader.setStrictness(Strictness.LENIENT) to accept ";
        return first.startsWith(advice) ? first.substring(advice.length()) : first;
    }
}
