package dev.backprop.spark.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One message between two ranks: a 36-byte header (magic, kind, source rank, payload length, sequence number,
 * part, weight; big-endian) followed by the payload. Float payloads are little-endian IEEE 754, so they cross
 * the wire bit for bit.
 *
 * @param kind    what the message is for
 * @param source  the sending rank
 * @param seq     the collective's sequence number (the job token for {@link Kind#HELLO})
 * @param part    which bucket of a bucketed all-reduce the frame carries (0 otherwise)
 * @param weight  the sender's weight in a {@link Kind#REDUCE}; 0 otherwise
 * @param payload the bytes after the header (not copied)
 */
record Frame(Kind kind, int source, long seq, int part, double weight, byte[] payload) {
    /** "BPRP": rejects a connection from something that is not a Backprop rank. */
    static final int MAGIC = 0x42505250;
    static final int HEADER_BYTES = 36;

    /** The message kinds, in wire order. */
    enum Kind {
        /** Connection handshake: source rank and job token. */
        HELLO,
        /** A chunk of a rank's vector sent to the chunk's owner, with the sender's weight. */
        REDUCE,
        /** An owner's reduced chunk sent to every other rank. */
        GATHER,
        /** Bytes from the root rank to every other rank. */
        BROADCAST,
        /** The sender closes its transport on purpose (finished or failed on its own). */
        BYE
    }

    /** A frame of part 0. */
    Frame(Kind kind, int source, long seq, double weight, byte[] payload) {
        this(kind, source, seq, 0, weight, payload);
    }

    /** A frame whose payload is {@code floats[from..from+count)}, little-endian. */
    static Frame ofFloats(Kind kind, int source, long seq, int part, double weight, float[] floats, int from,
                          int count) {
        byte[] bytes = new byte[Math.multiplyExact(count, Float.BYTES)];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(floats, from, count);
        return new Frame(kind, source, seq, part, weight, bytes);
    }

    /** The number of floats in the payload. */
    int floatCount() {
        return payload.length / Float.BYTES;
    }

    /** Copies the float payload into {@code dst[at..]}. */
    void floatsInto(float[] dst, int at) {
        ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, at, floatCount());
    }

    /** Writes header and payload (the caller flushes). */
    void writeTo(OutputStream out) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
        h.putInt(MAGIC).putInt(kind.ordinal()).putInt(source).putInt(payload.length).putLong(seq).putInt(part)
                .putDouble(weight);
        out.write(h.array());
        out.write(payload);
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException when the stream ends before a header starts (the peer closed the connection)
     * @throws IOException  for a truncated frame or a header that is not a Backprop header
     */
    static Frame readFrom(DataInputStream in, int maxPayload) throws IOException {
        byte[] header = new byte[HEADER_BYTES];
        int first = in.read(header, 0, 1);
        if (first < 0) {
            throw new EOFException("connection closed");
        }
        in.readFully(header, 1, HEADER_BYTES - 1);
        ByteBuffer h = ByteBuffer.wrap(header);
        int magic = h.getInt();
        int kind = h.getInt();
        int source = h.getInt();
        int length = h.getInt();
        if (magic != MAGIC || kind < 0 || kind >= Kind.values().length) {
            throw new IOException(String.format("not a Backprop frame (magic %08x, kind %d)", magic, kind));
        }
        if (length < 0 || length > maxPayload) {
            throw new IOException("frame payload of " + length + " bytes is outside [0, " + maxPayload + "]");
        }
        long seq = h.getLong();
        int part = h.getInt();
        double weight = h.getDouble();
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new Frame(Kind.values()[kind], source, seq, part, weight, payload);
    }
}
