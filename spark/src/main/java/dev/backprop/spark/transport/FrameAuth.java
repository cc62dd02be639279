package dev.backprop.spark.transport;

import javax.crypto.Mac;

/**
 * One direction of one connection's frame authentication: an HMAC-SHA256 key of its own (derived in the
 * {@link Handshake} from the job's secret and both sides' nonces) and a count of the frames so far. Each frame's
 * header and payload get a tag over the count, so a frame replayed, reordered, dropped, or taken from another
 * connection or direction fails its check. Used by one thread at a time (the link's sender, or its receiver).
 */
final class FrameAuth {
    private static final byte HEADER = 'H';
    private static final byte PAYLOAD = 'P';
    private final Mac mac;
    private final byte[] counter = new byte[Long.BYTES];
    private long frames;

    FrameAuth(byte[] key) {
        this.mac = Crypto.mac(key);
    }

    /** Frames sealed or opened so far: the number of the next one. */
    long frames() {
        return frames;
    }

    /** The tag of the next frame's header. */
    byte[] headerTag(byte[] header) {
        return tag(HEADER, header);
    }

    /** Starts the next frame's payload tag: feed the payload to {@link #update}, then take {@link #payloadTag()}. */
    void startPayload() {
        start(PAYLOAD);
    }

    /** Adds {@code b[off..off+len)} of the payload. */
    void update(byte[] b, int off, int len) {
        mac.update(b, off, len);
    }

    /** The tag of the payload fed since {@link #startPayload()}. */
    byte[] payloadTag() {
        return mac.doFinal();
    }

    /** Whether {@code tag} is the next frame's header tag (constant time). */
    boolean headerMatches(byte[] header, byte[] tag) {
        return Crypto.equal(headerTag(header), tag);
    }

    /** Moves on to the next frame. */
    void next() {
        frames++;
    }

    private byte[] tag(byte part, byte[] data) {
        start(part);
        mac.update(data);
        return mac.doFinal();
    }

    private void start(byte part) {
        long n = frames;
        for (int i = Long.BYTES - 1; i >= 0; i--) {
            counter[i] = (byte) n;
            n >>>= 8;
        }
        mac.update(counter);
        mac.update(part);
    }
}
