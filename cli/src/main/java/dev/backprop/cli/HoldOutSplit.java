package dev.backprop.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.backprop.backend.BackpropException;
import dev.backprop.io.StrictJson;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Set;

/**
 * The hold-out split {@code train} makes of a single {@code --csv} or {@code --images}: its seed and the number of
 * examples it split (all the file's rows or the folder's images, before {@code --train-limit} and
 * {@code --test-limit}), which a model and a checkpoint record as {@value ModelSession#HOLD_OUT_KEY}, JSON
 * {@code {"seed":7,"examples":300}}. The seed alone does not fix the split: {@code HoldOut.split} permutes all the
 * examples, so the same seed holds other ones out of a file with rows added or removed; the count lets {@code eval}
 * and {@code predict} refuse such data instead of scoring examples the model was trained on.
 *
 * @param seed     the seed of the split ({@code train}'s {@code --seed})
 * @param examples how many examples were split, at least 1
 */
record HoldOutSplit(long seed, int examples) {
    private static final Set<String> FIELDS = Set.of("seed", "examples");

    /** The value of {@value ModelSession#HOLD_OUT_KEY}, as {@link #parse} reads it. */
    String toJson() {
        return "{\"seed\":" + seed + ",\"examples\":" + examples + "}";
    }

    /**
     * The split {@code value} records, read strictly ({@link StrictJson}: the file may come from anyone): a JSON object
     * with exactly the fields {@code seed}, an integer literal in the range of {@code long} as {@code --seed} takes
     * it, and {@code examples}, one from 1 to {@link Integer#MAX_VALUE}.
     *
     * @param file the model file, for the message
     * @throws BackpropException naming the file, the key, what is wrong and the value when it is anything else
     */
    static HoldOutSplit parse(Path file, String value) {
        JsonElement e;
        try {
            e = StrictJson.parse(value);
        } catch (IOException x) {
            throw refused(file, "is not JSON (" + x.getMessage() + ")", value);
        }
        if (!e.isJsonObject()) {
            throw refused(file, "is not a JSON object", value);
        }
        JsonObject o = e.getAsJsonObject();
        for (String field : o.keySet()) {
            if (!FIELDS.contains(field)) {
                throw refused(file, "has a field other than seed and examples, " + new JsonPrimitive(field), value);
            }
        }
        BigInteger seed = StrictJson.integer(o.get("seed"));
        if (seed == null || seed.bitLength() > Long.SIZE - 1) {
            throw refused(file, o.has("seed") ? "has seed " + o.get("seed") + ", not an integer from " + Long.MIN_VALUE
                    + " to " + Long.MAX_VALUE : "has no seed", value);
        }
        BigInteger examples = StrictJson.integer(o.get("examples"));
        if (examples == null || examples.signum() <= 0 || examples.bitLength() > Integer.SIZE - 1) {
            throw refused(file, o.has("examples") ? "has examples " + o.get("examples") + ", not a count from 1 to "
                    + Integer.MAX_VALUE : "has no examples", value);
        }
        return new HoldOutSplit(seed.longValue(), examples.intValue());
    }

    /**
     * Refuses {@code made}, the split of the data given now with this split's seed, when it split another number of
     * examples than this one, which {@code file} records: the same seed then holds other examples out, some of which
     * were trained on.
     *
     * @param data   how the message names the data ({@code --csv FILE}, {@code --images DIR})
     * @param unit   what the examples are called ({@code rows}, {@code images})
     * @param file   the model or checkpoint that records this split
     * @param remedy what the user can do instead, ending the message
     * @throws IllegalArgumentException naming both counts and the seed
     */
    void checkSameExamples(HoldOutSplit made, String data, String unit, Object file, String remedy) {
        if (made.examples != examples) {
            throw new IllegalArgumentException(data + " has " + made.examples + " " + unit + ", but " + file
                    + " held its test " + unit + " out of " + examples + " with seed " + seed + ": seed " + made.seed
                    + " holds other " + unit + " out of " + made.examples + ", some of them trained on; " + remedy);
        }
    }

    private static BackpropException refused(Path file, String problem, String value) {
        return new BackpropException(file + ": metadata " + ModelSession.HOLD_OUT_KEY + " " + problem + ", so the "
                + "hold-out split it records cannot be made; it must be {\"seed\":N,\"examples\":COUNT}: " + value);
    }
}
