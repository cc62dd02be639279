package dev.backprop.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * Builds the bytes of model and data files by hand, for tests that need files no writer would produce: a
 * safetensors file around a given header text, IDX files, gzip. The base model is a dense layer 2 → 3:
 * {@code 0.weight} F32 {@code [3, 2]} (24 bytes) then {@code 0.bias} F32 {@code [3]} (12 bytes).
 */
public final class FileBytes {
    /** The base model's architecture metadata. */
    public static final String ARCH = "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,"
            + "\"bias\":1}]}";
    /** The base model's weight entry. */
    public static final String W = "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}";
    /** The base model's bias entry. */
    public static final String B = "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}";

    private FileBytes() {
    }

    /** The {@code __metadata__} entry with the base architecture, layout version 1 and {@code extra} entries. */
    public static String meta(String... extra) {
        StringBuilder b = new StringBuilder("\"__metadata__\":{\"format\":\"pt\",\"backprop.version\":\"1\","
                + "\"backprop.architecture\":" + quote(ARCH));
        for (int i = 0; i + 1 < extra.length; i += 2) {
            b.append(',').append(quote(extra[i])).append(':').append(quote(extra[i + 1]));
        }
        return b.append('}').toString();
    }

    /** A header object of the base metadata and {@code entries}. */
    public static String header(String... entries) {
        return "{" + meta() + "," + String.join(",", entries) + "}";
    }

    /** The base model's file: weight 1..6, bias 7..9 as float32. */
    public static byte[] baseModel() {
        return file(header(W, B), floats(1, 2, 3, 4, 5, 6, 7, 8, 9));
    }

    /** A JSON string literal. */
    public static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A safetensors file: the length of {@code header}, the header, the data. */
    public static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return concat(lengthPrefix(h.length), h, data);
    }

    /** A safetensors file whose length prefix says {@code length}, whatever the header holds. */
    public static byte[] withLength(long length, String header, byte[] data) {
        return concat(lengthPrefix(length), header.getBytes(StandardCharsets.UTF_8), data);
    }

    /** Eight little-endian bytes. */
    public static byte[] lengthPrefix(long n) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
    }

    /** Little-endian float32 data. */
    public static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    /** Little-endian float64 data. */
    public static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            b.putDouble(x);
        }
        return b.array();
    }

    /** An unsigned-byte IDX file. */
    public static byte[] idx(int[] dims, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0);
        b.write(0);
        b.write(8);
        b.write(dims.length);
        for (int d : dims) {
            b.write(d >>> 24);
            b.write(d >>> 16);
            b.write(d >>> 8);
            b.write(d);
        }
        b.writeBytes(data);
        return b.toByteArray();
    }

    /** {@code raw}, gzipped. */
    public static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(b)) {
            o.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /** The parts one after the other. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
