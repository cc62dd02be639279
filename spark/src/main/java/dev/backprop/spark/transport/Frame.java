package dev.backprop.spark.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One message between two ranks. On the wire: a 36-byte header (magic, kind, source rank, payload length,
 * sequence number, part, weight; big-endian), the header's HMAC tag, the payload, the payload's tag (see
 * {@link FrameAuth}). Float payloads are little-endian IEEE 754, so they cross the wire bit for bit.
 *
 * @param kind    what the message is for
 * @param source  the sending rank
 * @param seq     the collective's sequence number (0 for {@link Kind#HELLO} and {@link Kind#BYE})
 * @param part    which bucket of a bucketed all-reduce the frame carries (0 otherwise)
 * @param weight  the sender's weight in a {@link Kind#REDUCE}; 0 otherwise
 * @param payload the bytes after the header (not copied)
 */
record Frame(Kind kind, int source, long seq, int part, double weight, byte[] payload) {
    /** "BPRP": starts every frame header and every handshake hello and reply. */
    static final int MAGIC = 0x42505250;
    static final int HEADER_BYTES = 36;
    /** Bytes of payload written, read and tagged at a time. */
    private static final int SLICE = 1 << 16;

    /** The message kinds, in wire order. */
    enum Kind {
        /** The accepting rank's confirmation that the handshake succeeded: the connection's first frame. */
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

    /** Writes the frame sealed with {@code auth}: header, its tag, payload, its tag (the caller flushes). */
    void writeTo(OutputStream out, FrameAuth auth) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
        h.putInt(MAGIC).putInt(kind.ordinal()).putInt(source).putInt(payload.length).putLong(seq).putInt(part)
                .putDouble(weight);
        out.write(h.array());
        out.write(auth.headerTag(h.array()));
        // Slice by slice, so the wire carries one slice while the next is tagged, and the receiver's check (also
        // slice by slice) trails the last byte by one slice instead of the whole payload.
        auth.startPayload();
        for (int off = 0; off < payload.length; off += SLICE) {
            int n = Math.min(SLICE, payload.length - off);
            out.write(payload, off, n);
            auth.update(payload, off, n);
        }
        out.write(auth.payloadTag());
        auth.next();
    }

    /**
     * Reads the next frame sealed with {@code auth}. The header's tag is checked before anything else, and
     * {@code admission} sees the header before the payload is allocated.
     *
     * @throws EOFException      when the stream ends, before a header starts or inside a frame
     * @throws ProtocolException when a tag does not match (a forged, replayed, reordered or misdirected frame) or
     *                           {@code admission} refuses the header
     */
    static Frame readFrom(DataInputStream in, FrameAuth auth, Admission admission)
            throws IOException, InterruptedException {
        long n = auth.frames();
        byte[] header = new byte[HEADER_BYTES];
        if (in.read(header, 0, 1) < 0) {
            throw new EOFException("connection closed");
        }
        byte[] tag = new byte[Crypto.TAG_BYTES];
        try {
            in.readFully(header, 1, HEADER_BYTES - 1);
            in.readFully(tag);
        } catch (EOFException e) {
            throw new EOFException("connection closed inside the header of frame " + n);
        }
        if (!auth.headerMatches(header, tag)) {
            throw new ProtocolException("the header of frame " + n + " failed authentication (forged, replayed, "
                    + "reordered or from another connection)");
        }
        ByteBuffer h = ByteBuffer.wrap(header);
        int magic = h.getInt();
        int kind = h.getInt();
        int source = h.getInt();
        int length = h.getInt();
        long seq = h.getLong();
        int part = h.getInt();
        double weight = h.getDouble();
        if (magic != MAGIC || kind < 0 || kind >= Kind.values().length || length < 0) {
            throw new ProtocolException(String.format("frame %d is malformed (magic %08x, kind %d, length %d)", n,
                    magic, kind, length));
        }
        Kind k = Kind.values()[kind];
        admission.admit(k, seq, length);
        byte[] payload = new byte[length];
        auth.startPayload();
        try {
            for (int off = 0; off < length; off += SLICE) {
                int slice = Math.min(SLICE, length - off);
                in.readFully(payload, off, slice);
                auth.update(payload, off, slice);
            }
            in.readFully(tag);
        } catch (EOFException e) {
            throw new EOFException("connection closed inside frame " + n + " (" + k + " #" + seq + " of " + length
                    + " bytes)");
        }
        if (!Crypto.equal(auth.payloadTag(), tag)) {
            throw new ProtocolException("the payload of frame " + n + " (" + k + " #" + seq + ") failed "
                    + "authentication (altered, or from another connection)");
        }
        auth.next();
        return new Frame(k, source, seq, part, weight, payload);
    }

    /** What a receiver checks in an authenticated header before it allocates the payload. */
    interface Admission {
        /**
         * Returns when a payload of {@code length} bytes may follow for {@code kind} number {@code seq}; may wait
         * for this rank to reach that collective.
         *
         * @throws ProtocolException when no such frame can be legitimate here
         */
        void admit(Kind kind, long seq, int length) throws IOException, InterruptedException;
    }
}
