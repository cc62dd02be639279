package dev.backprop.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.Dataset;
import dev.backprop.io.StrictJson;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The hold-out split {@code train} makes of a single {@code --csv} or {@code --images}: its seed and the number of
 * examples it split (all the file's rows or the folder's images, before {@code --train-limit} and
 * {@code --test-limit}), which a model and a checkpoint record as {@value ModelSession#HOLD_OUT_KEY}, JSON
 * {@code {"seed":7,"examples":300}}. The seed alone does not fix the split: {@code HoldOut.split} permutes all the
 * examples, so the same seed holds other ones out of a file with rows added or removed, reordered or replaced; the
 * count and the digest of the examples ({@link #digest}: {@code {"seed":7,"examples":300,"sha256":"..."}}) let
 * {@code eval}, {@code predict} and {@code train --resume} refuse such data instead of scoring examples the model was
 * trained on. A split recorded without a digest is checked by its count alone.
 *
 * @param seed     the seed of the split ({@code train}'s {@code --split-seed}, which defaults to {@code --seed})
 * @param examples how many examples were split, at least 1
 * @param sha256   the {@link #digest} of the examples split, 64 lowercase hex digits, or null when not recorded
 */
record HoldOutSplit(long seed, int examples, String sha256) {
    private static final Set<String> FIELDS = Set.of("seed", "examples", "sha256");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** How many hex digits of a digest a message shows: enough to tell two apart, short enough to read. */
    private static final int SHOWN = 12;
    /** The bytes hashed per gather of examples (at least one example), so the copy stays small beside the data. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** The value of {@value ModelSession#HOLD_OUT_KEY}, as {@link #parse} reads it. */
    String toJson() {
        return "{\"seed\":" + seed + ",\"examples\":" + examples + (sha256 == null ? "" : ",\"sha256\":\"" + sha256
                + "\"") + "}";
    }

    /**
     * The split of {@code all} with {@code seed}: its size and its {@link #digest}.
     */
    static HoldOutSplit of(long seed, Dataset all) {
        return new HoldOutSplit(seed, all.size(), digest(all));
    }

    /**
     * The SHA-256 of the examples as read, in order, as lowercase hex: the feature size and the number of label
     * values per example (1 for a class label, else the targets') as 32-bit little-endian integers, then for each
     * example its features and then its class index or targets, each value as IEEE 754 float32 bits, little-endian. It
     * hashes the values the reader parsed, not the file's bytes, so what does not change them leaves it alone: CRLF or
     * LF line ends, a trailing newline, a header line or its names, blanks and quotes around fields, how a number is
     * spelled ({@code 1}, {@code 1.0}, {@code 1e0}), {@code -0} for {@code 0}, images re-encoded without loss, and
     * the task a label column is read for (class 2 is target 2), so that a model asked about another task is refused
     * for what the task is, not for its data. Rows or images reordered, added, removed or changed in any value change
     * it, as they change which examples a seed holds out.
     *
     * <p>A class label is its index among the class names, which {@code eval} and {@code predict} read with the
     * model's, so they index as {@code train}'s did: a CSV's class names are numbered in sorted order
     * ({@code String.compareTo}), not in the order they come in, so the same file numbers them alike however its rows
     * run, while a class renamed so that it sorts elsewhere renumbers its rows and changes the digest; class numbers
     * are themselves. A label column elsewhere than last ({@code --label-column}) leaves the features in file order,
     * so {@code label,a,b} rows digest as the same rows written {@code a,b,label}. An image folder's classes and files
     * are taken in sorted order by code point, so the order a directory lists them in does not matter, but files
     * renamed so that they sort otherwise are the examples in other places; an image is its decoded pixels after
     * {@code --resize} and {@code --center-crop}, in the run's channels, so a PNG re-saved as BMP with the same
     * pixels keeps the digest, while a gray image re-saved as RGB can change the folder's channels, and with them the
     * examples. The CSV reader refuses {@code NaN} and infinities and images hold none; for a data set built in code,
     * every NaN (whatever its sign and payload) hashes as {@link Float#NaN}, and infinities as themselves.
     */
    static String digest(Dataset all) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);  // JCA's required algorithms
        }
        int fs = all.featureSize();
        boolean labels = all.hasLabels();
        int ts = labels ? 1 : all.targetSize();
        int per = fs + ts;
        int chunk = Math.max(1, CHUNK_BYTES / (per * Float.BYTES));
        ByteBuffer buf = ByteBuffer.allocate(Math.max(8, chunk * per * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(fs).putInt(ts);
        sha.update(buf.array(), 0, buf.position());
        int[] order = all.identityOrder();
        float[] features = new float[chunk * fs];
        int[] classes = labels ? new int[chunk] : null;
        float[] targets = labels ? null : new float[chunk * ts];
        for (int from = 0; from < order.length; from += chunk) {
            int to = Math.min(order.length, from + chunk);
            all.gatherFeatures(order, from, to, features);
            if (labels) {
                all.gatherLabels(order, from, to, classes);
            } else {
                all.gatherTargets(order, from, to, targets);
            }
            buf.clear();
            for (int i = 0; i < to - from; i++) {
                for (int j = 0; j < fs; j++) {
                    buf.putInt(bits(features[i * fs + j]));
                }
                if (labels) {
                    buf.putInt(bits(classes[i]));
                } else {
                    for (int j = 0; j < ts; j++) {
                        buf.putInt(bits(targets[i * ts + j]));
                    }
                }
            }
            sha.update(buf.array(), 0, buf.position());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The float's bits, with {@code -0} as {@code 0} and every NaN as the canonical one: the same value to a model. */
    private static int bits(float v) {
        return v == 0 ? 0 : Float.floatToIntBits(v);
    }

    /**
     * The split {@code value} records, read strictly ({@link StrictJson}: the file may come from anyone): a JSON object
     * with the fields {@code seed}, an integer literal in the range of {@code long} as {@code --seed} takes it,
     * {@code examples}, one from 1 to {@link Integer#MAX_VALUE}, and optionally {@code sha256}, the {@link #digest}
     * as a string of 64 lowercase hex digits.
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
                throw refused(file, "has a field other than seed, examples and sha256, " + new JsonPrimitive(field),
                        value);
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
        JsonElement sha = o.get("sha256");
        if (sha != null && !(sha.isJsonPrimitive() && sha.getAsJsonPrimitive().isString()
                && SHA256.matcher(sha.getAsString()).matches())) {
            throw refused(file, "has sha256 " + sha + ", not 64 lowercase hex digits", value);
        }
        return new HoldOutSplit(seed.longValue(), examples.intValue(), sha == null ? null : sha.getAsString());
    }

    /**
     * Refuses {@code made}, the split of the data given now with this split's seed, when it split another number of
     * examples than this one, which {@code file} records, or (when both have a digest) other examples: the same seed
     * then holds other examples out, some of which were trained on.
     *
     * @param data   how the message names the data ({@code --csv FILE}, {@code --images DIR})
     * @param unit   what the examples are called ({@code rows}, {@code images})
     * @param file   the model or checkpoint that records this split
     * @param remedy what the user can do instead, ending the message
     * @throws IllegalArgumentException naming both counts and the seed, or both digests' first hex digits
     */
    void checkSameExamples(HoldOutSplit made, String data, String unit, Object file, String remedy) {
        if (made.examples != examples) {
            throw new IllegalArgumentException(data + " has " + made.examples + " " + unit + ", but " + file
                    + " held its test " + unit + " out of " + examples + " with seed " + seed + ": seed " + made.seed
                    + " holds other " + unit + " out of " + made.examples + ", some of them trained on; " + remedy);
        }
        if (!sameData(made)) {
            throw new IllegalArgumentException(data + " has " + examples + " " + unit + ", as many as " + file
                    + " held its test " + unit + " out of, but not the same ones: their SHA-256 is "
                    + shown(made.sha256) + "..., the recorded one " + shown(sha256) + "... (" + unit + " reordered, "
                    + "replaced or changed), so seed " + seed + " would hold out " + unit + " it was trained on; "
                    + remedy);
        }
    }

    /**
     * Whether {@code made} is a split of the same data as this one: the same count and, when both record one, the
     * same digest.
     */
    boolean sameData(HoldOutSplit made) {
        return made.examples == examples && (sha256 == null || made.sha256 == null || sha256.equals(made.sha256));
    }

    /** This split without its digest: what a split recorded with none can vouch for. */
    HoldOutSplit withoutDigest() {
        return new HoldOutSplit(seed, examples, null);
    }

    /** The first hex digits of a digest, as messages show it. */
    static String shown(String sha256) {
        return sha256.substring(0, SHOWN);
    }

    private static BackpropException refused(Path file, String problem, String value) {
        return new BackpropException(file + ": metadata " + ModelSession.HOLD_OUT_KEY + " " + problem + ", so the "
                + "hold-out split it records cannot be made; it must be {\"seed\":N,\"examples\":COUNT} or "
                + "{\"seed\":N,\"examples\":COUNT,\"sha256\":\"HEX\"}: " + value);
    }
}
