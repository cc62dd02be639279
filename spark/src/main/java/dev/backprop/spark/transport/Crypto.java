package dev.backprop.spark.transport;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The transport's uses of the JDK's cryptography, in one place: HMAC-SHA256 ({@code javax.crypto.Mac}), a key
 * derivation built on it (NIST SP 800-108, counter mode), constant-time comparison and fresh random bytes.
 */
final class Crypto {
    /** Bytes of a key, a nonce and an HMAC-SHA256 tag. */
    static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 32;
    static final int TAG_BYTES = 32;
    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Crypto() {
    }

    /** {@code n} bytes from a {@link SecureRandom}. */
    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** An HMAC-SHA256 instance keyed with {@code key} (not thread-safe: one per user). */
    static Mac mac(byte[] key) {
        try {
            Mac m = Mac.getInstance(HMAC);
            m.init(new SecretKeySpec(key, HMAC));
            return m;
        } catch (GeneralSecurityException e) {
            // Every Java SE platform must provide HmacSHA256.
            throw new IllegalStateException("this JDK has no usable " + HMAC + ": " + e, e);
        }
    }

    /** HMAC-SHA256 of the concatenated {@code parts} under {@code key}. */
    static byte[] hmac(byte[] key, byte[]... parts) {
        Mac m = mac(key);
        for (byte[] p : parts) {
            m.update(p);
        }
        return m.doFinal();
    }

    /**
     * A 256-bit key for {@code label} and {@code context} from {@code key}: the KDF in counter mode of NIST SP
     * 800-108 with HMAC-SHA256 as its PRF, one block: {@code PRF(key, [1]_32 || label || 0x00 || context ||
     * [256]_32)}. Distinct labels give independent keys, so one secret serves every purpose.
     */
    static byte[] derive(byte[] key, String label, byte[] context) {
        byte[] l = label.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer input = ByteBuffer.allocate(4 + l.length + 1 + context.length + 4);
        input.putInt(1).put(l).put((byte) 0).put(context).putInt(KEY_BYTES * 8);
        return hmac(key, input.array());
    }

    /** Whether {@code a} and {@code b} hold the same bytes, in time that does not depend on where they differ. */
    static boolean equal(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    /** Lower-case hex of {@code b[0..n)}, for naming a job in messages (never for keys). */
    static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(n, b.length); i++) {
            s.append(String.format("%02x", b[i] & 0xff));
        }
        return s.toString();
    }
}
