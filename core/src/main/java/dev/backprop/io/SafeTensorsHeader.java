package dev.backprop.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of a safetensors file: an 8-byte little-endian length {@code N}, {@code N} bytes of UTF-8
 * JSON mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the
 * data that follows the header) plus an optional {@code "__metadata__"} map of strings, then the raw
 * little-endian data. {@link #read} checks everything the format promises before anything is allocated:
 * lengths against the file, strict JSON, types and ranges of every field, byte counts against shapes, and that
 * the tensors tile the data exactly (no overlap, no gap, nothing after).
 */
final class SafeTensorsHeader {
    /**
     * The longest header read: 8 MiB, room for about 80,000 tensor entries, where a Backprop checkpoint needs 8
     * per dense layer and its metadata a few kB (the reference implementation allows 100 MB, which takes over
     * 512 MB of heap to parse).
     */
    public static final long MAX_HEADER_BYTES = 8L << 20;
    /** Heap bytes that parsing one header byte may take at worst: the bytes, the text, Gson's copies of a string. */
    private static final long PARSE_BYTES_PER_HEADER_BYTE = 8;
    /** Key of the metadata map in the header. */
    public static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final Set<String> OTHER_DTYPES = Set.of("BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32",
            "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");

    /**
     * One tensor of the file.
     *
     * @param begin first data byte (relative to {@link #dataStart()})
     * @param end   one past the last data byte
     */
    public record Entry(String name, SafeTensorsType dtype, int[] shape, long elements, long begin, long end) {
    }

    private final String file;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafeTensorsHeader(String file, Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {
        this.file = file;
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.dataStart = dataStart;
    }

    /** The tensors by name, in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** File offset of the first data byte. */
    public long dataStart() {
        return dataStart;
    }

    /** The file name used in messages. */
    public String file() {
        return file;
    }

    /**
     * Reads and validates the header of an open file.
     *
     * @param name a name for messages (usually the path)
     * @throws ModelFileException naming the problem
     */
    public static SafeTensorsHeader read(FileChannel ch, String name) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new ModelFileException(name + ": " + size + " bytes is too short for a safetensors file (it starts "
                    + "with an 8-byte header length)");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0, name, "the header length");
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new ModelFileException(name + ": header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file)");
        }
        if (n > size - 8) {
            throw new ModelFileException(name + ": header length " + n + " runs past the end of the file (" + size
                    + " bytes): the file is truncated or corrupt");
        }
        if (n < 2) {
            throw new ModelFileException(name + ": header length " + n + " cannot hold a JSON object");
        }
        String shortfall = dev.backprop.data.HeapBudget.shortfall(PARSE_BYTES_PER_HEADER_BYTE * n);
        if (shortfall != null) {
            throw new ModelFileException(name + ": parsing the " + n + "-byte header " + shortfall);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, name, "the header");
        return parse(name, hb.array(), size - 8 - n, 8 + n);
    }

    static SafeTensorsHeader parse(String name, byte[] bytes, long dataLength, long dataStart) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFileException(name + ": the header is not valid UTF-8", e);
        }
        if (text.charAt(0) != '{') {
            throw new ModelFileException(name + ": the header must start with '{', found "
                    + describeChar(text.charAt(0)));
        }
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == ' ') {
            end--;  // the format pads the header with spaces to an alignment
        }
        JsonElement root;
        try {
            root = StrictJson.parse(text.substring(0, end));
        } catch (IOException | RuntimeException e) {
            throw new ModelFileException(name + ": the header is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()) {
            throw new ModelFileException(name + ": the header must be a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                readMetadata(name, e.getValue(), metadata);
            } else {
                entries.put(e.getKey(), entry(name, e.getKey(), e.getValue(), dataLength));
            }
        }
        checkTiling(name, entries.values(), dataLength);
        return new SafeTensorsHeader(name, entries, metadata, dataStart);
    }

    private static void readMetadata(String file, JsonElement m, Map<String, String> out) throws ModelFileException {
        if (m.isJsonNull()) {
            return;
        }
        if (!m.isJsonObject()) {
            throw new ModelFileException(file + ": " + METADATA_KEY + " must be an object of strings");
        }
        for (Map.Entry<String, JsonElement> e : m.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelFileException(file + ": metadata '" + e.getKey() + "' must be a string, got " + v);
            }
            out.put(e.getKey(), v.getAsString());
        }
    }

    private static Entry entry(String file, String name, JsonElement v, long dataLength) throws ModelFileException {
        String where = file + ": tensor '" + name + "'";
        if (name.isEmpty()) {
            throw new ModelFileException(file + ": a tensor has an empty name");
        }
        if (!v.isJsonObject()) {
            throw new ModelFileException(where + ": expected an object with dtype, shape and data_offsets, got " + v);
        }
        JsonObject o = v.getAsJsonObject();
        if (!o.keySet().equals(ENTRY_FIELDS)) {
            throw new ModelFileException(where + ": expected exactly the fields " + ENTRY_FIELDS + ", got "
                    + o.keySet());
        }
        SafeTensorsType dtype = dtype(where, o.get("dtype"));
        JsonElement shapeJson = o.get("shape");
        if (!shapeJson.isJsonArray()) {
            throw new ModelFileException(where + ": shape must be an array of sizes, got " + shapeJson);
        }
        JsonArray sa = shapeJson.getAsJsonArray();
        int[] shape = new int[sa.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (int) integer(where, "shape[" + i + "]", sa.get(i), Integer.MAX_VALUE);
            elements = saturatingProduct(elements, shape[i]);
        }
        if (elements > Integer.MAX_VALUE) {
            throw new ModelFileException(where + ": shape " + sa + " has more elements than a tensor can hold");
        }
        JsonElement offJson = o.get("data_offsets");
        if (!offJson.isJsonArray() || offJson.getAsJsonArray().size() != 2) {
            throw new ModelFileException(where + ": data_offsets must be [begin, end], got " + offJson);
        }
        long begin = integer(where, "data_offsets[0]", offJson.getAsJsonArray().get(0), Long.MAX_VALUE);
        long end = integer(where, "data_offsets[1]", offJson.getAsJsonArray().get(1), Long.MAX_VALUE);
        if (begin > end) {
            throw new ModelFileException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataLength) {
            throw new ModelFileException(where + ": data_offsets [" + begin + ", " + end + "] run past the "
                    + dataLength + " data bytes of the file (truncated or corrupt)");
        }
        long need = elements * dtype.byteSize();
        if (end - begin != need) {
            throw new ModelFileException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but " + dtype.safetensorsName() + " " + sa + " needs " + need);
        }
        return new Entry(name, dtype, shape, elements, begin, end);
    }

    /** {@code a·b}, or {@code Long.MAX_VALUE} past {@code Integer.MAX_VALUE} (a later zero still gives zero). */
    private static long saturatingProduct(long a, int b) {
        if (b == 0) {
            return 0;
        }
        return a > Integer.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
    }

    private static SafeTensorsType dtype(String where, JsonElement d) throws ModelFileException {
        if (!d.isJsonPrimitive() || !d.getAsJsonPrimitive().isString()) {
            throw new ModelFileException(where + ": dtype must be a string, got " + d);
        }
        String s = d.getAsString();
        for (SafeTensorsType t : SafeTensorsType.values()) {
            if (t.safetensorsName().equals(s)) {
                return t;
            }
        }
        if (OTHER_DTYPES.contains(s)) {
            throw new ModelFileException(where + ": dtype " + s
                    + " is not supported (Backprop reads F32, F64, I32 and I64)");
        }
        throw new ModelFileException(where + ": unknown dtype '" + s + "'");
    }

    private static long integer(String where, String field, JsonElement v, long max) throws ModelFileException {
        BigInteger b = StrictJson.integer(v);
        if (b == null) {
            throw new ModelFileException(where + ": " + field + " must be a whole number written with digits only, "
                    + "got " + v);
        }
        if (b.signum() < 0 || b.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new ModelFileException(where + ": " + field + " = " + b + " is outside [0, " + max + "]");
        }
        return b.longValueExact();
    }

    /** The tensors must cover the data bytes exactly once, in some order. */
    private static void checkTiling(String file, java.util.Collection<Entry> all, long dataLength)
            throws ModelFileException {
        List<Entry> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.begin() < pos) {
                throw new ModelFileException(file + ": tensors '" + prev.name() + "' [" + prev.begin() + ", "
                        + prev.end() + ") and '" + e.name() + "' [" + e.begin() + ", " + e.end() + ") overlap");
            }
            if (e.begin() > pos) {
                throw new ModelFileException(file + ": data bytes [" + pos + ", " + e.begin() + ") belong to no "
                        + "tensor (before '" + e.name() + "')");
            }
            if (e.end() > e.begin()) {
                pos = e.end();
                prev = e;
            }
        }
        if (pos != dataLength) {
            throw new ModelFileException(file + ": " + (dataLength - pos) + " bytes after the last tensor's data "
                    + "(the file has " + dataLength + " data bytes; the tensors cover " + pos + ")");
        }
    }

    static void readFully(FileChannel ch, ByteBuffer buf, long position, String file, String what)
            throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) {
                throw new ModelFileException(file + ": the file ended while reading " + what
                        + " (it changed while being read?)");
            }
            p += r;
        }
    }

    private static String describeChar(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }
}
