package dev.backprop.random;

import java.util.Random;

/**
 * A random generator that reproduces PyTorch's CPU generator (1.x, {@code torch.manual_seed}/
 * {@code torch.Generator().manual_seed}): a 32-bit Mersenne Twister (MT19937) seeded like
 * {@code std::mt19937(seed)}, with PyTorch's recipes for {@code uniform_} on float32 and for
 * {@code randperm}. With it, seed 0 gives exactly the initial weights of {@code torch.manual_seed(0);
 * nn.Linear(...)} and the batch order of {@code torch.randperm(n, generator=Generator().manual_seed(0))}, so a
 * Backprop run and the PyTorch reference can be compared step by step.
 *
 * <p>It extends {@link Random} (through {@link #next(int)}) so code that only needs "a seeded generator" can take
 * it; the torch-exact draws are {@link #uniformFloat} and {@link #randperm}. Not thread-safe.
 */
public final class TorchGenerator extends Random {
    private static final long serialVersionUID = 1L;
    private static final int N = 624;
    private static final int M = 397;

    /** The Mersenne Twister's state: 624 words. */
    private int[] mt;
    /** The next word of {@link #mt} to temper and return. */
    private int index;

    /**
     * A generator in the state {@code torch.manual_seed(seed)} leaves.
     *
     * @param seed the seed (its low 64 bits; torch takes a uint64)
     */
    public TorchGenerator(long seed) {
        super(0);
        mt = new int[N];
        reseed(seed);
    }

    private void reseed(long seed) {
        // std::mt19937 seeding with the seed's low 32 bits, as at::mt19937 does.
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    @Override
    public synchronized void setSeed(long seed) {
        // Random's constructor calls this before mt exists; afterwards it reseeds the twister.
        if (mt != null) {
            reseed(seed);
        }
    }

    /** {@return the next 32-bit output of MT19937 (PyTorch's {@code generator->random()}), as an unsigned value} */
    public long nextUint32() {
        if (index >= N) {
            twist();
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xFFFFFFFFL;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
            int v = mt[(i + M) % N] ^ (y >>> 1);
            if ((y & 1) != 0) {
                v ^= 0x9908b0df;
            }
            mt[i] = v;
        }
        index = 0;
    }

    @Override
    protected int next(int bits) {
        return (int) (nextUint32() >>> (32 - bits));
    }

    /**
     * One float32 draw of {@code tensor.uniform_(from, to)}: the low 24 bits of a 32-bit output scaled to
     * [0, 1), then {@code x·(to − from) + from} in float arithmetic with one rounding (PyTorch's AVX2 kernels
     * contract it to a fused multiply-add), {@code from}/{@code to} first rounded to float as PyTorch does.
     *
     * @param from the lower bound (inclusive)
     * @param to   the upper bound
     * @return the draw
     */
    public float uniformFloat(double from, double to) {
        if (!Double.isFinite(from) || !Double.isFinite(to) || from > to) {
            throw new IllegalArgumentException("uniformFloat: needs finite from <= to, got [" + from + ", " + to + ")");
        }
        float f = (float) from;
        float t = (float) to;
        float x = (nextUint32() & 0xFFFFFF) * 0x1.0p-24f;
        return Math.fma(x, t - f, f);
    }

    /**
     * {@code torch.randperm(n, generator=this)} on the CPU: the identity, then for {@code i < n-1} a swap of
     * position {@code i} with {@code i + random() % (n-i)}.
     *
     * @param n the length (≥ 0)
     * @return a permutation of {@code 0 .. n-1}
     */
    public int[] randperm(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("randperm: n must be >= 0, got " + n);
        }
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        for (int i = 0; i < n - 1; i++) {
            int z = (int) (nextUint32() % (n - i));
            int t = r[i];
            r[i] = r[z + i];
            r[z + i] = t;
        }
        return r;
    }
}
