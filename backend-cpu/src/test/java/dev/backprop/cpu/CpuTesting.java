package dev.backprop.cpu;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.MemoryStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Helpers for the cpu backend's own tests: backends in each mode, seeded data, buffers and error checks. */
final class CpuTesting {
    private CpuTesting() {
    }

    /**
     * Runs {@code steps} (given how many steps to run) for 20 steps of warm-up, then three rounds of 100: the
     * backend's live buffers and bytes must come back to where they were after the warm-up, and the heap after a
     * collection (the backend's platform figure) must not grow by more than 8 MiB in any round.
     */
    static void assertMemoryFlat(CpuBackend be, IntConsumer steps) {
        steps.accept(20);
        System.gc();
        MemoryStats before = be.memoryStats();
        List<Long> platform = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            steps.accept(100);
            System.gc();
            platform.add(be.memoryStats().platformBytes());
        }
        MemoryStats after = be.memoryStats();
        assertEquals(before.liveBuffers(), after.liveBuffers(), "live buffers " + before + " -> " + after);
        assertEquals(before.liveBytes(), after.liveBytes(), "live bytes " + before + " -> " + after);
        long allowed = 8L << 20;
        for (long p : platform) {
            assertTrue(p - before.platformBytes() <= allowed, "heap after collection grew from "
                    + before.platformBytes() + " to " + platform + " (" + before.platformSource() + ")");
        }
    }

    /** A backend with the Vector API on or off and a fixed thread count, plus extra options. */
    static CpuBackend backend(boolean vector, int threads, String... extra) {
        Map<String, String> o = new java.util.HashMap<>();
        o.put("vector", Boolean.toString(vector));
        o.put("threads", Integer.toString(threads));
        for (int i = 0; i + 1 < extra.length; i += 2) {
            o.put(extra[i], extra[i + 1]);
        }
        return new CpuBackend(BackendOptions.of(o));
    }

    /** {@code n} values uniform in {@code [lo, hi)}, already rounded to float when {@code dtype} is FLOAT32. */
    static double[] random(long seed, int n, double lo, double hi, DType dtype) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = lo + (hi - lo) * r.nextDouble();
            v[i] = dtype == DType.FLOAT32 ? (float) x : dtype == DType.INT32 ? Math.rint(x) : x;
        }
        return v;
    }

    /** A buffer of {@code dtype} holding {@code v}. */
    static Buffer upload(CpuBackend b, DType dtype, double[] v) {
        Buffer buf = b.allocate(dtype, v.length);
        switch (dtype) {
            case FLOAT32 -> {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                b.upload(f, 0, buf, 0, f.length);
            }
            case FLOAT64 -> b.upload(v, 0, buf, 0, v.length);
            case INT32 -> {
                int[] f = new int[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (int) v[i];
                }
                b.upload(f, 0, buf, 0, f.length);
            }
        }
        return buf;
    }

    /** The whole contents of a buffer, as doubles. */
    static double[] download(CpuBackend b, Buffer buf) {
        int n = (int) buf.size();
        double[] v = new double[n];
        switch (buf.dtype()) {
            case FLOAT32 -> {
                float[] f = new float[n];
                b.download(buf, 0, f, 0, n);
                for (int i = 0; i < n; i++) {
                    v[i] = f[i];
                }
            }
            case FLOAT64 -> b.download(buf, 0, v, 0, n);
            case INT32 -> {
                int[] f = new int[n];
                b.download(buf, 0, f, 0, n);
                for (int i = 0; i < n; i++) {
                    v[i] = f[i];
                }
            }
        }
        return v;
    }

    /**
     * Fails unless {@code |got[i] - want[i]| ≤ bound[i]} everywhere (NaN must match NaN, an infinity the same
     * infinity), naming the worst element.
     */
    static void assertWithin(String what, double[] want, double[] got, double[] bound) {
        int worst = -1;
        double worstRatio = 0;
        int bad = 0;
        for (int i = 0; i < want.length; i++) {
            double e = want[i], a = got[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a) : Double.isInfinite(e) ? a == e
                    : Math.abs(a - e) <= bound[i];
            if (!ok) {
                bad++;
                double ratio = bound[i] == 0 || Double.isNaN(a) ? Double.POSITIVE_INFINITY : Math.abs(a - e) / bound[i];
                if (worst < 0 || ratio > worstRatio) {
                    worst = i;
                    worstRatio = ratio;
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + want.length + " elements off; worst [" + worst + "] got " + got[worst]
                    + ", want " + want[worst] + ", allowed error " + bound[worst]);
        }
    }

    /** The elementwise rule of the contract: {@code |err| ≤ rel·(|want| + 0.1·rms(want))}. */
    static void assertClose(String what, double[] want, double[] got, double rel) {
        double s = 0;
        int n = 0;
        for (double w : want) {
            if (Double.isFinite(w)) {
                s += w * w;
                n++;
            }
        }
        double rms = n == 0 ? 0 : Math.sqrt(s / n);
        double[] bound = new double[want.length];
        for (int i = 0; i < want.length; i++) {
            bound[i] = rel * (Math.abs(want[i]) + 0.1 * rms);
        }
        assertWithin(what, want, got, bound);
    }

    /** Exact equality, with NaN equal to NaN and 0.0 equal to -0.0. */
    static void assertExact(String what, double[] want, double[] got) {
        assertWithin(what, want, got, new double[want.length]);
    }

    /** Relative factor of the contract's tolerances for a dtype: 1e-5 for FLOAT32, 1e-11 for FLOAT64. */
    static double rel(DType dtype) {
        return dtype == DType.FLOAT64 ? 1e-11 : 1e-5;
    }
}
