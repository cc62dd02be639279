package dev.backprop.random;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the counter-based generator
 * of Random123, cuRAND and PyTorch's CUDA dropout: a keyed bijection of a 128-bit counter, so the bits at any position
 * of a stream are computed directly from (key, counter) with no state. That is what lets every backend draw a dropout
 * mask in parallel and still produce the same bits: a kernel computes element {@code i}'s draw from the seed and
 * {@code offset + i / 4} alone, in any order, on any device.
 *
 * <h2>Streams</h2>
 * A stream is a 64-bit seed (the key: low word {@code k0}, high word {@code k1}) and a 64-bit block counter (the
 * counter's words 0 and 1; words 2 and 3 are 0). Block {@code b} gives four 32-bit words; element {@code i} of a draw
 * that starts at block {@code offset} is word {@code i % 4} of block {@code offset + i / 4}. A draw of {@code n}
 * elements consumes {@link #blocks(long) blocks(n)} blocks, so the next draw starts there and never reuses bits.
 *
 * <h2>Uniforms and masks</h2>
 * {@link #uniform(int)} maps a word to a float in {@code [0, 1)} with 24 random bits ({@code (w >>> 8) · 2^-24},
 * exact in float32). Dropout compares in integers, {@code (w >>> 8) >= threshold(p)}, so no backend's float
 * rounding can flip a decision.
 */
public final class Philox {
    static final int M0 = 0xD2511F53;
    static final int M1 = 0xCD9E8D57;
    static final int W0 = 0x9E3779B9;
    static final int W1 = 0xBB67AE85;
    /** Rounds of the 4x32-10 variant. */
    public static final int ROUNDS = 10;

    private Philox() {
    }

    /**
     * One Philox4x32-10 block: the 128-bit counter {@code ctr} (4 words, little-endian word order) encrypted under the
     * 64-bit key {@code (k0, k1)}, written to {@code out} (4 words; may be {@code ctr}).
     */
    public static void block(int[] ctr, int k0, int k1, int[] out) {
        int c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
        for (int r = 0; r < ROUNDS; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * Word {@code i % 4} of block {@code offset + i / 4} of the stream keyed by {@code seed} (see the class comment).
     */
    public static int word(long seed, long offset, long i) {
        long b = offset + i / 4;
        int[] w = {(int) b, (int) (b >>> 32), 0, 0};
        block(w, (int) seed, (int) (seed >>> 32), w);
        return w[(int) (i % 4)];
    }

    /** Fills {@code out[0..n)} with the words of a draw of {@code n} elements starting at block {@code offset}. */
    public static void words(long seed, long offset, int[] out, int n) {
        int[] w = new int[4];
        for (int i = 0; i < n; i += 4) {
            long b = offset + i / 4;
            w[0] = (int) b;
            w[1] = (int) (b >>> 32);
            w[2] = 0;
            w[3] = 0;
            block(w, (int) seed, (int) (seed >>> 32), w);
            for (int j = 0; j < 4 && i + j < n; j++) {
                out[i + j] = w[j];
            }
        }
    }

    /** Blocks a draw of {@code n} elements consumes: {@code ceil(n / 4)}. */
    public static long blocks(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("a draw needs n >= 0 elements, got " + n);
        }
        return (n + 3) / 4;
    }

    /** A word as a float in {@code [0, 1)}: its top 24 bits times {@code 2^-24} (exact in float32). */
    public static float uniform(int word) {
        return (word >>> 8) * 0x1p-24f;
    }

    /**
     * The integer threshold for dropping with probability {@code p}: an element is kept when {@code (word >>> 8) >=
     * threshold(p)}, i.e. with probability {@code 1 - threshold/2^24}, within {@code 2^-25} of {@code 1 - p}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= p < 1}
     */
    public static int threshold(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        return (int) Math.round(p * 0x1p24);
    }
}
